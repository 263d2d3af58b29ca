import AgriTraceCore
import Ledger

/// The world state the policy-upload, attribute, transfer-report, read-report and
/// blob-reference contracts read, in memory, with the contracts' outcomes folded into it: the
/// model the SQLite state store must match.
struct MemoryContractState: AttributeGrantStateView, PolicyUploadStateView, TransferReportStateView,
    ReadReportStateView, BlobReferenceStateView
{
    /// An `attribute_grants` row.
    struct GrantRow: Hashable {
        var grant: AttributeGrant
        var status: GrantStatus
        var leaf: UInt64
    }

    /// An `encrypted_data` row.
    struct EntryRow: Hashable {
        var entry: PolicyUpload.ProtectedEntry
        var status: EntryStatus
        var leaf: UInt64
    }

    /// Each principal's enterprise (the registry).
    var enterprises: [String: String] = [:]
    /// The (lot, enterprise) pairs with a record on the ledger.
    var recordedLots: Set<[String]> = []
    var grants: [String: GrantRow] = [:]
    var entries: [String: EntryRow] = [:]
    var requests: [String: RequestFacts] = [:]
    var redemptions: [UInt64: RedemptionFacts] = [:]
    var transfers: [UInt64: TransferReport.Entry] = [:]
    var reads: [UInt64: ReadReport.Entry] = [:]
    var records: [RecordID: RegistryState.DeviceKey] = [:]
    var blobs: [UInt64: BlobReferences.Outcome] = [:]

    func grantStatus(_ principal: String) -> GrantStatus? { grants[principal]?.status }
    func enterprise(of principal: String) -> String? { enterprises[principal] }
    func entryFacts(_ dataID: String) -> (owner: String, status: EntryStatus)? {
        entries[dataID].map { ($0.entry.owner, $0.status) }
    }
    func lotHasRecord(_ lot: String, enterprise: String) -> Bool { recordedLots.contains([lot, enterprise]) }
    func redemption(atLeaf leaf: UInt64) -> RedemptionFacts? { redemptions[leaf] }
    func requestFacts(_ requestID: String) -> RequestFacts? { requests[requestID] }
    func hasAppliedTransfer(redeemLeaf: UInt64) -> Bool {
        transfers.values.contains { $0.report.redeemLeaf == redeemLeaf && $0.outcome == .applied }
    }
    func appliedTransfer(atLeaf leaf: UInt64, requestID: String) -> (receiver: String, lot: String, level: String)? {
        guard let entry = transfers[leaf], entry.outcome == .applied, entry.report.requestID == requestID else {
            return nil
        }
        return (entry.report.receiver, entry.report.lot, entry.report.level.rawValue)
    }
    func recordDevice(_ recordID: RecordID) -> RegistryState.DeviceKey? { records[recordID] }
    func storedBlob(_ recordID: RecordID, level: PrivacyLevel) -> Digest32? {
        blobs.values.first { $0.status == .stored && $0.reference.recordID == recordID && $0.reference.level == level }?
            .reference.blobID
    }

    /// Folds an attribute contract's outcome at `leaf`; returns its event.
    mutating func fold(_ outcome: AttributeGrants.Outcome, leaf: UInt64) -> ContractEvent {
        switch outcome.change {
        case .grant(let grant): grants[grant.principal] = GrantRow(grant: grant, status: .active, leaf: leaf)
        case .revoke(let principal):
            grants[principal]?.status = .revoked
            grants[principal]?.leaf = leaf
        case nil: break
        }
        return outcome.event
    }

    /// Folds a policy-upload contract's outcome at `leaf`; returns its event.
    mutating func fold(_ outcome: PolicyUpload.Outcome, leaf: UInt64) -> ContractEvent {
        switch outcome.change {
        case .protect(let entry): entries[entry.entry.dataID] = EntryRow(entry: entry, status: .active, leaf: leaf)
        case .revoke(let dataID): entries[dataID]?.status = .revoked
        case nil: break
        }
        return outcome.event
    }

    /// Folds a transfer report at `leaf`; returns its event.
    mutating func fold(_ outcome: TransferReport.Outcome, leaf: UInt64) -> ContractEvent {
        transfers[leaf] = outcome.entry
        return outcome.event
    }

    /// Folds a read report at `leaf`; returns its event.
    mutating func fold(_ outcome: ReadReport.Outcome, leaf: UInt64) -> ContractEvent {
        if let entry = outcome.change { reads[leaf] = entry }
        return outcome.event
    }
}
