/// One edge of the data-sharing graph: an access or transfer transaction of the ledger,
/// from one principal to another, with the lot, level, time, outcome and leaf it came from.
///
/// Edges are derived from the contracts' state tables (`access_requests`, `transfers`,
/// `transfer_reads`, `grant_revocations`): the same ledger gives the same edges, in leaf order.
public struct SharingEdge: Hashable, Sendable, Codable {
    /// What the transaction was.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// A requester's `addTrapdoor`: requester → the owner of the lot's entry.
        case request
        /// The regulator's match granted the request: owner → requester.
        case grant
        /// The regulator's match denied the request: owner → requester.
        case denial
        /// The owner's `addTransfer` (the 4Wh record): sender → receiver.
        case transfer
        /// The requester's `recordRead` after a fetch: reader → the transfer's sender.
        case read
        /// The owner's `revokeGrant`: owner → requester.
        case revocation

        /// Edges along which private data moves (used for paths and spread).
        public var carriesData: Bool { self == .grant || self == .transfer }
    }

    public var kind: Kind
    /// The principal the edge starts at.
    public var from: String
    /// The principal the edge ends at.
    public var to: String
    public var lot: String
    /// `level-1` or `level-2`.
    public var level: String
    /// Block time of the leaf, milliseconds since 1970.
    public var time: Int64
    /// The contract's outcome (its raw value is what the loader reads and the CLI prints).
    public var outcome: Outcome
    /// The leaf of the transaction (the evidence).
    public var leaf: UInt64
    /// The request's source address, when the transaction has one.
    public var source: String
    /// Records moved (transfers and reads), 0 otherwise.
    public var records: Int
    /// The access request the edge belongs to.
    public var requestID: String

    public init(
        kind: Kind, from: String, to: String, lot: String, level: String, time: Int64, outcome: Outcome, leaf: UInt64,
        source: String = "", records: Int = 0, requestID: String = ""
    ) {
        self.kind = kind
        self.from = from
        self.to = to
        self.lot = lot
        self.level = level
        self.time = time
        self.outcome = outcome
        self.leaf = leaf
        self.source = source
        self.records = records
        self.requestID = requestID
    }

    /// True when the data really moved: a delivered transfer, or a granted request.
    public var delivered: Bool {
        (kind == .transfer && outcome == .delivered) || (kind == .grant && outcome == .granted)
    }
}

/// A principal as the graph knows it: its enterprise and role (role peers are compared).
public struct SharingPrincipal: Hashable, Sendable, Codable {
    public var name: String
    public var enterprise: String
    public var role: String

    public init(name: String, enterprise: String, role: String) {
        self.name = name
        self.enterprise = enterprise
        self.role = role
    }
}

/// What one new block brings to the graph: its edges (any order), the principals registered
/// in it and the lot links (a lot made from input lots) it recorded.
public struct SharingDelta: Sendable, Equatable {
    public var edges: [SharingEdge]
    public var principals: [SharingPrincipal]
    /// (lot, input lot) pairs.
    public var lotLinks: [LotLink]
    /// The last leaf the delta covers (the block's last leaf).
    public var throughLeaf: UInt64?

    public init(
        edges: [SharingEdge] = [], principals: [SharingPrincipal] = [], lotLinks: [LotLink] = [],
        throughLeaf: UInt64? = nil
    ) {
        self.edges = edges
        self.principals = principals
        self.lotLinks = lotLinks
        self.throughLeaf = throughLeaf
    }
}

/// A lot made from (or carrying) an input lot.
public struct LotLink: Hashable, Sendable, Codable {
    public var lot: String
    public var input: String

    public init(lot: String, input: String) {
        self.lot = lot
        self.input = input
    }
}
