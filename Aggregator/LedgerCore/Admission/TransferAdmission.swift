import AgriTraceCore
import Crypto

extension AccessAdmission {
    /// Admission check of a blob reference: a registered, active device signed it for one of
    /// its own records, with a well-formed wrapped key.
    public static func checkBlob(_ signed: Signed<BlobReference>, registry: RegistryState) -> ContractViolation? {
        let reference = signed.value
        let name = "\(reference.enterprise)/\(reference.device)"
        guard let device = registry.device(enterprise: reference.enterprise, device: reference.device) else {
            return ContractViolation(code: .unknownDevice, reason: "device \(name) is not registered")
        }
        guard device.status == .active else {
            return ContractViolation(code: .revokedDevice, reason: "device \(name) is revoked")
        }
        guard signed.isValid(domain: .blobReference, key: device.publicKey) else {
            return ContractViolation(
                code: .badSignature, reason: "the blob reference is not signed by \(name)'s registered key")
        }
        guard reference.level != .public else {
            return .malformed("public values are on the ledger, not in blobs")
        }
        guard reference.ownerKey.count == 32, reference.wrappedKey.encapsulatedKey.count == 32,
            reference.wrappedKey.recordID == reference.recordID, reference.wrappedKey.level == reference.level
        else {
            return .malformed("the owner key or the wrapped data key does not match the reference")
        }
        return nil
    }

    /// Why a transfer operation (`redeem`, `addTransfer`, `revokeGrant`, `recordRead`) is malformed, or nil.
    static func transferMalformation(_ operation: AccessTransaction.Operation) -> String? {
        switch operation {
        case .redeem(let request):
            guard isValidID(request.requestID) else { return "request id must be 32 lower-case hex" }
            guard request.requesterKey.count == 32,
                (try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: request.requesterKey)) != nil
            else { return "the requester key is not an X25519 public key" }
            guard request.proof.count == 32 else { return "the token proof is not an HMAC-SHA256" }
            guard isValidName(request.purpose) else { return "purpose must be 1-128 printable bytes" }
        case .addTransfer(let transfer):
            guard isValidID(transfer.requestID) else { return "request id must be 32 lower-case hex" }
            guard isValidName(transfer.purpose), transfer.reason.utf8.count <= 512 else {
                return "purpose must be 1-128 printable bytes, the reason at most 512"
            }
        case .revokeGrant(let requestID, let reason):
            guard isValidID(requestID) else { return "request id must be 32 lower-case hex" }
            guard reason.utf8.count <= 512 else { return "the reason is at most 512 bytes" }
        case .recordRead(let read):
            guard isValidID(read.requestID) else { return "request id must be 32 lower-case hex" }
            guard read.fields.count <= 256, read.detail.utf8.count <= 1024 else { return "too many fields" }
        default:
            return nil
        }
        return nil
    }
}
