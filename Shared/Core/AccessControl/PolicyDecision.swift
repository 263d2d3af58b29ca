/// The policy-decision point: deny by default, permit when a policy grants the request, and
/// deny whatever the policies say while the request's source is blacklisted.
public enum PolicyDecision {
    /// The outcome of a decision, with the reason recorded on the ledger.
    public enum Outcome: Hashable, Sendable {
        case permit(policy: String)
        case deny(Reason)

        public var isPermit: Bool {
            if case .permit = self { return true }
            return false
        }
    }

    /// Why a request was denied.
    public enum Reason: Hashable, Sendable, CustomStringConvertible {
        /// The requester's principal is not registered on the ledger.
        case unregisteredPrincipal
        /// The source is blocked until the given time (or for ever).
        case blacklisted(until: Timestamp?)
        /// No policy grants the request.
        case noMatchingPolicy

        public var description: String {
            switch self {
            case .unregisteredPrincipal: "the requester's principal is not registered"
            case .blacklisted(let until):
                until.map { "the source is blocked until \($0.iso8601)" } ?? "the source is blocked permanently"
            case .noMatchingPolicy: "no policy grants this request"
            }
        }
    }

    /// Decides a request.
    /// - Parameters:
    ///   - request: the standard-form request (its `time` is the block time).
    ///   - policies: the owner's policies for the object.
    ///   - registered: whether the requester's principal is registered.
    ///   - blacklist: the punishment contract's state.
    public static func decide(_ request: ABAC.Request, policies: [AccessPolicy], registered: Bool, blacklist: Blacklist)
        -> Outcome
    {
        if let block = blacklist.block(for: request.sourceAddress, at: request.time) {
            return .deny(.blacklisted(until: block))
        }
        guard registered else { return .deny(.unregisteredPrincipal) }
        if let policy = policies.first(where: { $0.permits(request) }) { return .permit(policy: policy.id) }
        return .deny(.noMatchingPolicy)
    }
}

/// The punishment contract's state: strikes and blocks per source address.
///
/// Each failed access adds a strike and blocks the source for ``Rules/blockDuration``; at
/// ``Rules/maximumStrikes`` strikes the block is permanent. Deterministic: the time is the
/// block time passed in, never the wall clock.
public struct Blacklist: Hashable, Sendable, CanonicalCodable {
    /// The contract's parameters (published defaults: 5 strikes, 10 minutes).
    public struct Rules: Hashable, Sendable {
        public var maximumStrikes: Int
        public var blockDurationMilliseconds: Int64

        public init(maximumStrikes: Int = 5, blockDurationMilliseconds: Int64 = 10 * 60 * 1000) {
            precondition(maximumStrikes >= 1 && blockDurationMilliseconds >= 0)
            self.maximumStrikes = maximumStrikes
            self.blockDurationMilliseconds = blockDurationMilliseconds
        }
    }

    /// One source's entry.
    public struct Entry: Hashable, Sendable, CanonicalCodable {
        public var strikes: Int
        /// The end of the current block; nil when permanent.
        public var blockedUntil: Timestamp?
        public var permanent: Bool { blockedUntil == nil }

        /// When this entry blocks its source at `time`: `.some(end)` for a timed block,
        /// `.some(nil)` when permanent, `nil` when not blocked.
        public func block(at time: Timestamp) -> Timestamp?? {
            guard let until = blockedUntil else { return .some(nil) }
            return time < until ? .some(until) : nil
        }
        /// When the last strike was added.
        public var lastStrike: Timestamp

        public func encode(to writer: inout CanonicalWriter) {
            writer.write(UInt32(strikes), blockedUntil, lastStrike)
        }

        public init(strikes: Int, blockedUntil: Timestamp?, lastStrike: Timestamp) {
            self.strikes = strikes
            self.blockedUntil = blockedUntil
            self.lastStrike = lastStrike
        }

        public init(from reader: inout CanonicalReader) throws {
            strikes = Int(try reader.readUInt32("strikes"))
            blockedUntil = try reader.readOptional(Timestamp.self, "blocked until")
            lastStrike = try reader.read(Timestamp.self)
        }
    }

    public var rules: Rules
    public private(set) var entries: [String: Entry]

    public init(rules: Rules = Rules()) {
        self.rules = rules
        self.entries = [:]
    }

    /// When `source` is blocked at `time`: `.some(end)` for a timed block, `.some(nil)` when
    /// permanent, `nil` when not blocked.
    public func block(for source: String, at time: Timestamp) -> Timestamp?? {
        entries[source]?.block(at: time)
    }

    /// Whether `source` is blocked at `time`.
    public func isBlocked(_ source: String, at time: Timestamp) -> Bool { block(for: source, at: time) != nil }

    /// Records a failed access from `source` at `time` (`addToBlacklist`).
    /// - Returns: the source's entry after the strike.
    @discardableResult
    public mutating func addStrike(_ source: String, at time: Timestamp) -> Entry {
        guard let entry = Self.strike(entries[source], at: time, rules: rules) else { return entries[source]! }
        entries[source] = entry
        return entry
    }

    /// The punishment contract on one source's entry, the one implementation (the ledger's
    /// `addToBlacklist` and denials call it through LedgerCore's `Punishment`): one strike and a
    /// block of ``Rules/blockDurationMilliseconds`` from `time`; at ``Rules/maximumStrikes`` a
    /// permanent block.
    ///
    /// A strike against a source that is blocked at `time` (for a while or for ever) changes
    /// nothing, whoever adds it (a denial or the regulator's manual strike): strikes count
    /// offences between blocks, so the same rule holds for every caller.
    /// - Returns: the entry after the strike, or nil when the source is blocked at `time`
    ///   (nothing changes).
    public static func strike(_ current: Entry?, at time: Timestamp, rules: Rules) -> Entry? {
        if let current, current.strikes > 0, current.block(at: time) != nil { return nil }
        var entry = current ?? Entry(strikes: 0, blockedUntil: time, lastStrike: time)
        entry.strikes += 1
        entry.lastStrike = time
        entry.blockedUntil =
            entry.strikes >= rules.maximumStrikes
            ? nil : Timestamp(milliseconds: time.milliseconds + rules.blockDurationMilliseconds)
        return entry
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt32(rules.maximumStrikes), rules.blockDurationMilliseconds)
        let sorted = entries.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        writer.write(UInt32(sorted.count))
        for source in sorted {
            writer.write(source, entries[source]!)
        }
    }

    public init(from reader: inout CanonicalReader) throws {
        rules = Rules(
            maximumStrikes: Int(try reader.readUInt32("maximum strikes")),
            blockDurationMilliseconds: try reader.readInt64("block duration"))
        entries = [:]
        let count = Int(try reader.readUInt32("entries"))
        var previous: String?
        for _ in 0..<count {
            let source = try reader.readString("source")
            if let previous, !previous.utf8.lexicographicallyPrecedes(source.utf8) {
                throw Canonical.DecodingError.nonCanonical("blacklist sources out of order")
            }
            entries[source] = try reader.read(Entry.self)
            previous = source
        }
    }
}

extension PolicyDecision {
    /// Decides a request and applies the punishment contract: every denial other than an
    /// existing block adds a strike to the request's source (`addToBlacklist`).
    public static func decideAndPunish(
        _ request: ABAC.Request, policies: [AccessPolicy], registered: Bool, blacklist: inout Blacklist
    ) -> Outcome {
        let outcome = decide(request, policies: policies, registered: registered, blacklist: blacklist)
        if case .deny(let reason) = outcome, reason == .unregisteredPrincipal || reason == .noMatchingPolicy {
            blacklist.addStrike(request.sourceAddress, at: request.time)
        }
        return outcome
    }
}
