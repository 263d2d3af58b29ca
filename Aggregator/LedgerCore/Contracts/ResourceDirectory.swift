import AgriTraceCore

/// What the directory contract reads of the world state.
public protocol ResourceDirectoryStateView: PrincipalEnterpriseView {
    /// The enterprise of the lot's first record on the ledger (its owner), or nil.
    func lotOwner(_ lot: String) throws -> String?
    /// The enterprise whose device stored the blob, or nil.
    func blobOwner(_ id: Digest32) throws -> String?
}

/// The resource-directory contract (`publishDirectoryEntry`, docs/governance.md): the owner of
/// a lot or a blob publishes (or replaces) its directory entry. The contract never reads a
/// policy: an entry says what exists and whom to ask, not who may have it.
public enum ResourceDirectory {
    /// Why an entry is refused: a typed code and a message naming the field and the fix.
    public enum Refusal: ContractRefusal {
        case unknownResource(field: String, String)
        case notOwner(field: String, owner: String, submitters: String)
        case producerMismatch(producer: String, owner: String)

        /// The refusal's code, as the audit prints it.
        public var code: String {
            switch self {
            case .unknownResource: "unknown-resource"
            case .notOwner: "not-owner"
            case .producerMismatch: "producer-mismatch"
            }
        }

        /// What is wrong, naming the field, and the fix.
        public var message: String {
            switch self {
            case .unknownResource(let field, let value):
                "\(field): \(value) has no record or stored blob on the ledger; publish an entry for something that exists"
            case .notOwner(let field, let owner, let submitters):
                "\(field): the resource belongs to enterprise \(owner), not \(submitters); only its owner publishes its entry"
            case .producerMismatch(let producer, let owner):
                "producer: \(producer) is not the resource's owner \(owner); name the owning enterprise"
            }
        }

    }

    /// The `directory_entries` row.
    public struct Entry: Sendable, Hashable {
        public var entry: DirectoryEntry
        public var publisher: String
    }

    /// The typed outcome: the row (nil when refused) and the audit event.
    public typealias Outcome = ContractOutcome<Entry>

    /// `publishDirectoryEntry` from `submitter`.
    public static func apply(_ entry: DirectoryEntry, submitter: String, view: some ResourceDirectoryStateView)
        throws -> Outcome
    {
        let result = try check(entry, submitter: submitter, view: view)
        return .decided(result, entry.resource.key) { _ in
            "published \(entry.name): \(entry.product) \(entry.stage.rawValue), held by \(entry.heldBy)"
        }
    }

    /// The row, or the first rule the entry breaks.
    public static func check(_ entry: DirectoryEntry, submitter: String, view: some ResourceDirectoryStateView)
        throws -> Result<Entry, Refusal>
    {
        let owner: String?
        let field: String
        switch entry.resource {
        case .dataset(let lot, _):
            owner = try view.lotOwner(lot)
            field = "lot"
        case .blob(let id):
            owner = try view.blobOwner(id)
            field = "blob"
        }
        guard let owner else {
            let value: String =
                switch entry.resource {
                case .dataset(let lot, _): "lot \(lot)"
                case .blob(let id): "blob \(id.hex)"
                }
            return .failure(.unknownResource(field: field, value))
        }
        let enterprise = try view.principalEnterprise(submitter) ?? ""
        guard owner == enterprise else {
            return .failure(.notOwner(field: field, owner: owner, submitters: enterprise))
        }
        guard entry.producer == owner else {
            return .failure(.producerMismatch(producer: entry.producer, owner: owner))
        }
        return .success(Entry(entry: entry, publisher: submitter))
    }
}
