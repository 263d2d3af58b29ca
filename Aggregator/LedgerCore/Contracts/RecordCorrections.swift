import AgriTraceCore

/// What the correction contract reads of a record on the ledger.
public struct RecordFacts: Sendable, Hashable {
    public var lot: String
    public var enterprise: String
    public var leafIndex: UInt64

    public init(lot: String, enterprise: String, leafIndex: UInt64) {
        self.lot = lot
        self.enterprise = enterprise
        self.leafIndex = leafIndex
    }
}

/// What the governance contracts read of a principal: the enterprise it acts for.
public protocol PrincipalEnterpriseView {
    /// The enterprise a registered principal acts for, or nil.
    func principalEnterprise(_ name: String) throws -> String?
}

/// What the correction contract reads of the world state.
public protocol RecordCorrectionStateView: PrincipalEnterpriseView {
    /// The lot, enterprise and leaf of a record on the ledger, or nil.
    func recordFacts(_ id: RecordID) throws -> RecordFacts?
    /// The record that already supersedes `id`, or nil.
    func supersedingRecord(of id: RecordID) throws -> RecordID?
    /// The record `id` already corrects, or nil.
    func supersededRecord(by id: RecordID) throws -> RecordID?
}

/// The correction contract (`correctRecord`, docs/governance.md): an enterprise's principal
/// names a later record of the same lot and the same enterprise as the correction of an
/// earlier one. Nothing is deleted: the link is a row of `record_corrections`, and `trace`
/// and the exports mark the superseded record. A record is superseded at most once (correct
/// the latest correction), and a record corrects at most one other.
public enum RecordCorrections {
    /// Why a correction is refused: a typed code and a message naming the field and the fix.
    public enum Refusal: ContractRefusal {
        /// The record named in `field` (`superseded` or `correction`) is not on the ledger.
        case unknownRecord(field: String, RecordID)
        /// The record named in `field` belongs to another enterprise than the submitter's.
        case otherEnterprise(field: String, RecordID, enterprise: String, submitters: String)
        /// The two records are of different lots.
        case otherLot(superseded: String, correction: String)
        /// The correction is not later on the ledger than the record it supersedes.
        case notLater(supersededLeaf: UInt64, correctionLeaf: UInt64)
        /// The record is already superseded by another.
        case alreadySuperseded(RecordID, by: RecordID)
        /// The correcting record already corrects another.
        case alreadyCorrects(RecordID, RecordID)

        /// The refusal's code, as the audit prints it.
        public var code: String {
            switch self {
            case .unknownRecord: "unknown-record"
            case .otherEnterprise: "other-enterprise"
            case .otherLot: "other-lot"
            case .notLater: "not-later"
            case .alreadySuperseded: "already-superseded"
            case .alreadyCorrects: "already-corrects"
            }
        }

        /// What is wrong, naming the field, and the fix.
        public var message: String {
            switch self {
            case .unknownRecord(let field, let id):
                "\(field): record \(id) is not on the ledger; name a record of the lot (agritrace trace LOT)"
            case .otherEnterprise(let field, let id, let enterprise, let submitters):
                "\(field): record \(id) belongs to enterprise \(enterprise), not \(submitters); an enterprise corrects only its own records"
            case .otherLot(let superseded, let correction):
                "correction: the new record is of lot \(correction), the superseded one of lot \(superseded); a correction names a record of the same lot"
            case .notLater(let supersededLeaf, let correctionLeaf):
                "correction: the new record (leaf \(correctionLeaf)) is not later than the superseded one (leaf \(supersededLeaf)); record the corrected reading first"
            case .alreadySuperseded(let id, let by):
                "superseded: record \(id) is already superseded by \(by); correct the latest record, \(by)"
            case .alreadyCorrects(let id, let other):
                "correction: record \(id) already corrects \(other); record a new reading for this correction"
            }
        }

    }

    /// The `record_corrections` row.
    public struct Entry: Sendable, Hashable {
        public var correction: RecordCorrection
        public var corrector: String
        public var enterprise: String
        public var lot: String
    }

    /// The typed outcome: the row (nil when refused) and the audit event.
    public typealias Outcome = ContractOutcome<Entry>

    /// `correctRecord` from `submitter`.
    public static func apply(
        _ correction: RecordCorrection, submitter: String, view: some RecordCorrectionStateView
    ) throws -> Outcome {
        let result = try check(correction, submitter: submitter, view: view)
        return .decided(result, correction.superseded.hex) { entry in
            "record \(correction.superseded) of lot \(entry.lot) superseded by \(correction.correction): \(correction.reason)"
        }
    }

    /// The row, or the first rule the correction breaks.
    public static func check(
        _ correction: RecordCorrection, submitter: String, view: some RecordCorrectionStateView
    ) throws -> Result<Entry, Refusal> {
        guard let old = try view.recordFacts(correction.superseded) else {
            return .failure(.unknownRecord(field: "superseded", correction.superseded))
        }
        guard let new = try view.recordFacts(correction.correction) else {
            return .failure(.unknownRecord(field: "correction", correction.correction))
        }
        let enterprise = try view.principalEnterprise(submitter) ?? ""
        for (field, id, facts) in [
            ("superseded", correction.superseded, old), ("correction", correction.correction, new),
        ]
        where facts.enterprise != enterprise {
            return .failure(.otherEnterprise(field: field, id, enterprise: facts.enterprise, submitters: enterprise))
        }
        guard old.lot == new.lot else { return .failure(.otherLot(superseded: old.lot, correction: new.lot)) }
        guard new.leafIndex > old.leafIndex else {
            return .failure(.notLater(supersededLeaf: old.leafIndex, correctionLeaf: new.leafIndex))
        }
        if let by = try view.supersedingRecord(of: correction.superseded) {
            return .failure(.alreadySuperseded(correction.superseded, by: by))
        }
        if let other = try view.supersededRecord(by: correction.correction) {
            return .failure(.alreadyCorrects(correction.correction, other))
        }
        return .success(Entry(correction: correction, corrector: submitter, enterprise: enterprise, lot: old.lot))
    }
}
