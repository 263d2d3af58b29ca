import AgriTraceCore
import Crypto

/// The admission phase of the contracts, like Fabric's endorsement: what can never be valid
/// (an unknown or revoked signer, a bad signature, a forbidden method, a malformed value) is
/// refused before it reaches the log. Pure: the transaction, the registry and the authority key.
public enum Admission {
    /// Checks that `entry` may enter the log now.
    /// - Parameters:
    ///   - registry: the registry part of the world state.
    ///   - authority: the key registry transactions must be signed with.
    ///   - idChecked: a record's id was already checked against its sequence (ingest does
    ///     that off the ledger's thread).
    /// - Returns: the refusal, or nil when the entry is admitted.
    public static func check(
        _ entry: LogEntry, registry: RegistryState, authority: Curve25519.Signing.PublicKey, idChecked: Bool = false
    ) -> ContractViolation? {
        switch entry {
        case .record(let record): checkRecord(record, registry: registry, idChecked: idChecked)
        case .registry(let signed): checkRegistry(signed, registry: registry, authority: authority)
        case .access(let signed): AccessAdmission.check(signed, registry: registry)
        case .blob(let signed): AccessAdmission.checkBlob(signed, registry: registry)
        case .gateway(let relayed): AccessAdmission.checkRelayed(relayed, registry: registry)
        }
    }

    /// A record: from a registered, active device, with the id of its sequence, at the device's stage.
    static func checkRecord(_ record: Record, registry: RegistryState, idChecked: Bool) -> ContractViolation? {
        let name = "\(record.enterprise)/\(record.device)"
        guard let device = registry.device(enterprise: record.enterprise, device: record.device) else {
            return ContractViolation(code: .unknownDevice, reason: "device \(name) is not registered")
        }
        guard device.status == .active else {
            return ContractViolation(code: .revokedDevice, reason: "device \(name) is revoked")
        }
        guard
            idChecked
                || record.id
                    == RecordID.derive(enterprise: record.enterprise, device: record.device, sequence: record.sequence)
        else {
            return ContractViolation(
                code: .badRecordID, reason: "record id \(record.id) is not the id of sequence \(record.sequence)")
        }
        if let registered = device.stage, record.stage != registered {
            return ContractViolation(
                code: .wrongStage,
                reason:
                    "record \(record.id) is a \(record.stage.rawValue) record but \(name) is registered for \(registered.rawValue)"
            )
        }
        return nil
    }

    /// A registry transaction: signed by the authority, well formed, consistent with the registry.
    static func checkRegistry(
        _ signed: Signed<RegistryTransaction>, registry: RegistryState, authority: Curve25519.Signing.PublicKey
    ) -> ContractViolation? {
        guard signed.isValid(domain: .transaction, key: authority) else {
            return ContractViolation(
                code: .badSignature, reason: "the registry transaction is not signed by the authority key")
        }
        switch signed.value.operation {
        case .addDevice(let enterprise, let device, let publicKey, _):
            return checkAddDevice(enterprise: enterprise, device: device, publicKey: publicKey, registry: registry)
        case .revokeDevice(let enterprise, let device, _):
            guard let existing = registry.device(enterprise: enterprise, device: device) else {
                return ContractViolation(
                    code: .unknownDevice, reason: "device \(enterprise)/\(device) is not registered")
            }
            guard existing.status == .active else {
                return ContractViolation(
                    code: .revokedDevice, reason: "device \(enterprise)/\(device) is already revoked")
            }
            return nil
        case .addPrincipal(let principal):
            return checkAddPrincipal(principal, registry: registry)
        case .revokePrincipal(let name, _):
            guard let existing = registry.principals[name] else {
                return ContractViolation(code: .unknownPrincipal, reason: "principal \(name) is not registered")
            }
            guard existing.isActive else {
                return ContractViolation(code: .revokedPrincipal, reason: "principal \(name) is already revoked")
            }
            return nil
        }
    }

    static func checkAddDevice(enterprise: String, device: String, publicKey: [UInt8], registry: RegistryState)
        -> ContractViolation?
    {
        let forbidden: Set<Character> = ["/", "+", "#"]
        guard !enterprise.isEmpty, !device.isEmpty, !enterprise.contains(where: forbidden.contains),
            !device.contains(where: forbidden.contains)
        else {
            return ContractViolation(
                code: .invalidName, reason: "enterprise and device ids must be non-empty MQTT topic levels (no /, +, #)"
            )
        }
        guard (try? Curve25519.Signing.PublicKey(rawBytes: publicKey)) != nil else {
            return ContractViolation(code: .badKey, reason: "the public key is not an Ed25519 key")
        }
        if registry.device(enterprise: enterprise, device: device) != nil {
            return ContractViolation(
                code: .deviceExists, reason: "device \(enterprise)/\(device) is already registered")
        }
        return nil
    }

    static func checkAddPrincipal(_ principal: PrincipalEntry, registry: RegistryState) -> ContractViolation? {
        guard !principal.name.isEmpty, principal.name.utf8.count <= 256, !principal.enterprise.isEmpty else {
            return ContractViolation(
                code: .invalidName, reason: "a principal needs a name (at most 256 bytes) and an enterprise")
        }
        guard (try? Curve25519.Signing.PublicKey(rawBytes: principal.publicKey)) != nil else {
            return ContractViolation(code: .badKey, reason: "the public key is not an Ed25519 key")
        }
        if registry.principals[principal.name] != nil {
            return ContractViolation(
                code: .principalExists, reason: "principal \(principal.name) is already registered")
        }
        return nil
    }
}
