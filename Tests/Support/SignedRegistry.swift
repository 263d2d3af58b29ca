import AgriTraceCore
import Crypto

/// Registry transactions signed by the authority, as `agritrace devices add` and
/// `agritrace principals add` make them: how tests and benchmarks register boxes and
/// principals on a real ledger.
public enum SignedRegistry {
    /// `addDevice` of `enterprise/device` with `key` (the box's public key) at `stage`.
    /// - Parameter nonce: the transaction's nonce (random by default).
    public static func addDevice(
        enterprise: String, device: String, key: Curve25519.Signing.PublicKey, stage: Stage?,
        authority: Curve25519.Signing.PrivateKey, nonce: UInt64 = .random(in: 0...UInt64.max)
    ) throws -> Signed<RegistryTransaction> {
        try signed(
            .addDevice(enterprise: enterprise, device: device, publicKey: Array(key.rawRepresentation), stage: stage),
            authority: authority, nonce: nonce)
    }

    /// `addPrincipal` of `entry`.
    /// - Parameter nonce: the transaction's nonce (random by default).
    public static func addPrincipal(
        _ entry: PrincipalEntry, authority: Curve25519.Signing.PrivateKey,
        nonce: UInt64 = .random(in: 0...UInt64.max)
    ) throws -> Signed<RegistryTransaction> {
        try signed(.addPrincipal(entry), authority: authority, nonce: nonce)
    }

    /// `addPrincipal` of `name` with `key` (the principal's public key).
    public static func addPrincipal(
        _ name: String, kind: PrincipalEntry.Kind, enterprise: String, role: String, stage: Stage? = nil,
        key: Curve25519.Signing.PublicKey, authority: Curve25519.Signing.PrivateKey
    ) throws -> Signed<RegistryTransaction> {
        try addPrincipal(
            PrincipalEntry(
                name: name, kind: kind, enterprise: enterprise, role: role, stage: stage,
                publicKey: Array(key.rawRepresentation)),
            authority: authority)
    }

    /// `operation` submitted now with `nonce`, signed by `authority`.
    public static func signed(
        _ operation: RegistryTransaction.Operation, authority: Curve25519.Signing.PrivateKey, nonce: UInt64
    ) throws -> Signed<RegistryTransaction> {
        try Signed(
            RegistryTransaction(operation: operation, submittedAt: .now(), nonce: nonce), domain: .transaction,
            key: authority)
    }
}
