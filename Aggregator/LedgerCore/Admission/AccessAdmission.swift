import AgriTraceCore
import Crypto

/// Admission of the access-control and transfer transactions (domain.md §3, docs/transfer.md):
/// signed by an active registered principal whose kind may call the method, with well-formed
/// values; and of blob references, signed by the device that owns the record.
public enum AccessAdmission {
    /// Which principal kinds may call each method.
    public static func allowedKinds(_ operation: AccessTransaction.Operation) -> Set<PrincipalEntry.Kind> {
        switch operation {
        case .publishParameters, .grantAttributes, .revokeAttributes, .addResult, .addToBlacklist: [.regulator]
        case .addEncryptedData, .revokeEncryptedData, .addTrapdoor, .setMinimumCredit: [.firm]
        case .redeem, .addTransfer, .revokeGrant, .recordRead: [.firm]
        case .addToWhitelist, .removeFromWhitelist: [.firm]
        case .reportViolation: [.firm, .regulator]
        case .confirmViolation, .dismissViolation: [.regulator]
        case .correctRecord, .countersignTransfer, .publishDirectoryEntry: [.firm]
        }
    }

    /// Request and data ids: 32 lower-case hex characters (128 random bits).
    public static func isValidID(_ id: String) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// 1 to `maximum` bytes, no control characters.
    public static func isValidName(_ text: String, maximum: Int = 128) -> Bool {
        !text.isEmpty && text.utf8.count <= maximum
            && !text.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    /// Admission check: signature, registration, permission, well-formedness.
    public static func check(_ signed: Signed<AccessTransaction>, registry: RegistryState) -> ContractViolation? {
        let transaction = signed.value
        let principal = registry.principals[transaction.submitter]
        if let violation = signerViolation(signed, key: principal.map { ($0.publicKey, $0.isActive) }) {
            return violation
        }
        guard let principal else { return nil }
        let allowed = allowedKinds(transaction.operation)
        guard allowed.contains(principal.entry.kind) else {
            return ContractViolation(
                code: .notPermitted,
                reason:
                    "\(transaction.method) may be called by \(allowed.map(\.rawValue).sorted().joined(separator: ", ")), not by a \(principal.entry.kind.rawValue)"
            )
        }
        return checkRegulatorOperation(transaction.operation, registry: registry)
            ?? malformation(transaction.operation).map(ContractViolation.malformed)
    }

    /// The signer check: the submitter is registered (`key` is its transaction-signing key
    /// and whether it is active) and active, and signed the transaction. The same check runs
    /// at admission (over the registry) and, for a transaction the access gateway relayed, at
    /// block time (over the principals table), where a failure strikes the observed address.
    public static func signerViolation(
        _ signed: Signed<AccessTransaction>, key: (publicKey: Curve25519.Signing.PublicKey, isActive: Bool)?
    ) -> ContractViolation? {
        let submitter = signed.value.submitter
        guard let key else {
            return ContractViolation(
                code: .unknownPrincipal,
                reason: "principal \(submitter) is not registered; enroll it first (agritrace principals add)")
        }
        guard key.isActive else {
            return ContractViolation(code: .revokedPrincipal, reason: "principal \(submitter) is revoked")
        }
        guard signed.isValid(domain: .transaction, key: key.publicKey) else {
            return ContractViolation(
                code: .badSignature, reason: "the transaction is not signed by \(submitter)'s registered key")
        }
        return nil
    }

    /// Admission of an access transaction the gateway relayed (``GatewayAccess``): the
    /// observed address is well formed, and the transaction passes ``check(_:registry:)``,
    /// except that a signature from a key the ledger does not know (an unregistered principal,
    /// or a signature that is not the named principal's) is admitted: the block-time contract
    /// refuses it and strikes the observed address, so the strike is a ledger fact that
    /// `replay` rebuilds. A revoked principal is refused here, as before.
    public static func checkRelayed(_ relayed: GatewayAccess, registry: RegistryState) -> ContractViolation? {
        guard isValidName(relayed.observedAddress, maximum: 64) else {
            return .malformed("the observed address must be 1-64 printable bytes")
        }
        guard let violation = check(relayed.transaction, registry: registry) else { return nil }
        let punishedAtBlockTime: [RejectionCode] = [.unknownPrincipal, .badSignature]
        return punishedAtBlockTime.contains(violation.code) ? nil : violation
    }

    /// The regulator's operations that look at the registry.
    static func checkRegulatorOperation(_ operation: AccessTransaction.Operation, registry: RegistryState)
        -> ContractViolation?
    {
        switch operation {
        case .grantAttributes(let grant):
            guard let grantee = registry.principals[grant.principal], grantee.isActive else {
                return ContractViolation(
                    code: .unknownPrincipal, reason: "principal \(grant.principal) is not registered and active")
            }
        case .revokeAttributes(let name, _):
            guard registry.principals[name] != nil else {
                return ContractViolation(code: .unknownPrincipal, reason: "principal \(name) is not registered")
            }
        default: break
        }
        return nil
    }

    /// Why an operation's values are malformed, or nil.
    static func malformation(_ operation: AccessTransaction.Operation) -> String? {
        switch operation {
        case .publishParameters(let parameters): parametersMalformation(parameters)
        case .grantAttributes(let grant): grantMalformation(grant) ?? grant.period?.problem
        case .revokeAttributes: nil
        case .addEncryptedData(let entry): entryMalformation(entry) ?? entry.period?.problem
        case .revokeEncryptedData(let dataID, _):
            isValidID(dataID) ? nil : "data id must be 32 lower-case hex characters"
        case .setMinimumCredit(let dataID, let basisPoints): Credit.conditionMalformation(dataID, basisPoints)
        case .addTrapdoor(let request): trapdoorMalformation(request)
        case .addResult(let requestID, let dataID, let token): resultMalformation(requestID, dataID, token)
        case .addToBlacklist(let source, _): isValidName(source) ? nil : "source must be 1-128 printable bytes"
        case .redeem, .addTransfer, .revokeGrant, .recordRead: transferMalformation(operation)
        case .addToWhitelist(let entry), .removeFromWhitelist(let entry): whitelistMalformation(entry)
        case .reportViolation(let report): violationMalformation(report)
        case .confirmViolation(let reportID, _), .dismissViolation(let reportID, _):
            isValidID(reportID) ? nil : "report id must be 32 lower-case hex characters"
        case .correctRecord, .countersignTransfer, .publishDirectoryEntry: governanceMalformation(operation)
        }
    }

    static func whitelistMalformation(_ entry: WhitelistEntry) -> String? {
        guard isValidName(entry.lot) else { return "lot must be 1-128 printable bytes" }
        guard isValidName(entry.principal) else { return "principal must be 1-128 printable bytes" }
        return nil
    }

    static func violationMalformation(_ report: ViolationReport) -> String? {
        guard isValidID(report.reportID) else { return "report id must be 32 lower-case hex characters" }
        guard isValidName(report.offender) else { return "offender must be 1-128 printable bytes" }
        guard isValidName(report.owner), isValidName(report.lot) else {
            return "owner and lot must be 1-128 printable bytes"
        }
        guard report.summary.utf8.count <= 1024 else { return "summary must be at most 1024 bytes" }
        return nil
    }

    static func parametersMalformation(_ parameters: AccessParameters) -> String? {
        guard parameters.trapdoorKey.count == 32,
            (try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: parameters.trapdoorKey)) != nil
        else { return "the trapdoor key is not an X25519 public key" }
        guard !parameters.searchable.isEmpty, !parameters.tokenEncryption.isEmpty else {
            return "empty parameters: the searchable and token-encryption parameters are required"
        }
        return AccessRules(
            maximumStrikes: Int64(parameters.maximumStrikes), blockMilliseconds: parameters.blockMilliseconds,
            trapdoorsPerMinute: Int64(parameters.trapdoorsPerMinute)
        ).problem
    }

    static func grantMalformation(_ grant: AttributeGrant) -> String? {
        guard isValidName(grant.enterprise), isValidName(grant.productCategory), isValidName(grant.region) else {
            return "enterprise, category and region must be 1-128 printable bytes"
        }
        guard grant.role.stage == grant.stage else {
            return
                "role \(grant.role.rawValue) belongs to stage \(grant.role.stage.rawValue), not \(grant.stage.rawValue)"
        }
        return nil
    }

    static func entryMalformation(_ entry: EncryptedDataEntry) -> String? {
        guard isValidID(entry.dataID) else { return "data id must be 32 lower-case hex characters" }
        guard isValidName(entry.lot) else { return "lot must be 1-128 printable bytes" }
        guard !entry.actions.isEmpty else { return "an entry must permit at least one action" }
        guard (1...(1 << 20)).contains(entry.searchableCiphertext.count) else {
            return "searchable ciphertext of \(entry.searchableCiphertext.count) bytes (1 B to 1 MiB)"
        }
        return nil
    }

    static func trapdoorMalformation(_ request: TrapdoorRequest) -> String? {
        guard isValidID(request.requestID) else { return "request id must be 32 lower-case hex characters" }
        guard isValidName(request.lot), isValidName(request.source) else {
            return "lot and source must be 1-128 printable bytes"
        }
        guard request.sealedTrapdoor.encapsulatedKey.count == 32,
            (1...(1 << 16)).contains(request.sealedTrapdoor.ciphertext.count)
        else { return "the sealed trapdoor is malformed" }
        return nil
    }

    static func resultMalformation(_ requestID: String, _ dataID: String?, _ token: [UInt8]?) -> String? {
        guard isValidID(requestID) else { return "request id must be 32 lower-case hex characters" }
        guard (dataID == nil) == (token == nil) else {
            return "a match names the data id and carries the token D; a non-match has neither"
        }
        if let dataID, !isValidID(dataID) { return "data id must be 32 lower-case hex characters" }
        return nil
    }
}
