import AgriTraceCore

/// The status of a protected entry (stored as the raw value).
public enum EntryStatus: String, Sendable, Hashable, CaseIterable, Codable {
    case active
    case revoked
}

/// What the policy-upload contracts read of the world state.
public protocol PolicyUploadStateView {
    /// The enterprise of a registered principal, or nil.
    func enterprise(of principal: String) throws -> String?
    /// The owner and status of the entry `dataID`, or nil.
    func entryFacts(_ dataID: String) throws -> (owner: String, status: EntryStatus)?
    /// Whether the ledger holds a record of `lot` from `enterprise`.
    func lotHasRecord(_ lot: String, enterprise: String) throws -> Bool
}

/// The policy-upload contracts: the owner of a lot protects its private data under a hidden
/// policy (`addEncryptedData`) or withdraws a protection (`revokeEncryptedData`).
public enum PolicyUpload {
    /// A new active entry: the transaction's entry, its owner and the owner's enterprise.
    public struct ProtectedEntry: Sendable, Hashable {
        public var entry: EncryptedDataEntry
        public var owner: String
        public var enterprise: String
    }

    /// The state change.
    public enum Change: Sendable, Hashable {
        case protect(ProtectedEntry)
        /// The active entry `dataID` becomes revoked.
        case revoke(dataID: String)
    }

    /// The typed outcome: the change (nil when refused) and the audit event.
    public typealias Outcome = ContractOutcome<Change>

    /// `addEncryptedData`: refused when the data id is taken or the lot has no record of the
    /// submitter's enterprise on the ledger (only a lot's owner may protect it).
    public static func protect(_ entry: EncryptedDataEntry, submitter: String, view: some PolicyUploadStateView)
        throws -> Outcome
    {
        let owner = try view.enterprise(of: submitter) ?? ""
        guard try view.entryFacts(entry.dataID) == nil else {
            return .refused(entry.dataID, "data id \(entry.dataID) is already used")
        }
        guard try view.lotHasRecord(entry.lot, enterprise: owner) else {
            return .refused(
                entry.dataID,
                "lot \(entry.lot) has no record of enterprise \(owner) on the ledger: only its owner may protect it")
        }
        return .applied(
            .protect(ProtectedEntry(entry: entry, owner: submitter, enterprise: owner)), entry.dataID,
            "lot \(entry.lot) \(entry.level.rawValue)")
    }

    /// `revokeEncryptedData`: applied to an active entry of the submitter, refused otherwise.
    public static func revoke(
        dataID: String, reason: String, submitter: String, view: some PolicyUploadStateView
    ) throws -> Outcome {
        guard let facts = try view.entryFacts(dataID), facts.owner == submitter, facts.status == .active else {
            return .refused(dataID, "no active entry \(dataID) of \(submitter)")
        }
        return .applied(.revoke(dataID: dataID), dataID, reason)
    }
}
