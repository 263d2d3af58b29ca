import Foundation

/// Elects the consortium's sequencer through etcd and orders entries under its leadership.
///
/// One node at a time is the sequencer: the one that created the key `<prefix>sequencer`, with
/// a lease it keeps renewing. Every entry it orders is written in an etcd transaction that
/// holds only if that key still has the create revision it had when this node won it, and
/// only if the entry's index is free. A sequencer that lost its lease (paused, partitioned,
/// too slow to renew) can therefore never append, even if it does not know yet that it lost:
/// its transactions fail, and it learns it from them (the fencing the Jepsen analysis of etcd
/// 3.4 asks for; a lock alone is not safe). This is Trillian's etcd-elected signer and
/// Fabric's single orderer leader, without a home-made consensus.
///
/// Entries are keys `<prefix>log/<index>` (the index in 20 decimal digits, so key order is
/// index order). They are meant to be small (batch digests, block proposals), never whole
/// batches: etcd takes 1.5 MiB per request and 2 GiB in all by default.
public struct SequencerElection: Sendable {
    public var etcd: EtcdClient
    /// The consortium's key prefix, e.g. `agritrace/consortium-1/`.
    public var prefix: String
    /// This node's name (the sequencer key's value while it leads).
    public var node: String
    /// The lease's time to live: how long a silent sequencer keeps the role.
    public var leaseSeconds: Int

    public init(etcd: EtcdClient, prefix: String, node: String, leaseSeconds: Int = 3) {
        self.etcd = etcd
        self.prefix = prefix
        self.node = node
        self.leaseSeconds = leaseSeconds
    }

    var sequencerKey: [UInt8] { Array((prefix + "sequencer").utf8) }

    /// The key of entry `index`.
    func entryKey(_ index: UInt64) -> [UInt8] {
        let digits = String(index)
        return Array((prefix + "log/" + String(repeating: "0", count: 20 - digits.count) + digits).utf8)
    }

    /// The first key after every entry.
    var entriesEnd: [UInt8] { Array((prefix + "log0").utf8) }

    /// The node that is the sequencer now, nil when none is.
    public func sequencer() async throws -> String? {
        let found = try await etcd.range(from: sequencerKey, to: sequencerKey + [0])
        return found.first.map { String(decoding: $0.value, as: UTF8.self) }
    }

    /// Becomes the sequencer: waits while another node is, then takes the role with a new lease
    /// and renews it until ``Leadership/resign()`` or until it expires.
    /// - Parameter retryEvery: how often to try again while another node leads.
    public func campaign(retryEvery: Duration = .milliseconds(200)) async throws -> Leadership {
        var lease = try await etcd.grantLease(seconds: leaseSeconds)
        while true {
            try Task.checkCancellation()
            do {
                let result = try await etcd.transaction(
                    if: [.createRevision(of: sequencerKey, is: 0)],
                    then: [.put(key: sequencerKey, value: Array(node.utf8), lease: lease)])
                if result.succeeded {
                    return Leadership(election: self, lease: lease, revision: result.revision)
                }
                // Keep the lease alive while waiting, so it is still good when the role frees up.
                if try await etcd.keepAlive(lease: lease) == 0 {
                    lease = try await etcd.grantLease(seconds: leaseSeconds)
                }
            } catch let error as EtcdError where error.isLeaseNotFound {
                // The lease lapsed between two tries (a slow machine): take a new one.
                lease = try await etcd.grantLease(seconds: leaseSeconds)
                continue
            }
            try await Task.sleep(for: retryEvery)
        }
    }

    /// The ordered entries from `index` on, at most `limit` (0: all).
    public func entries(from index: UInt64, limit: Int = 0) async throws -> [OrderedEntry] {
        let prefixLength = entryKey(0).count - 20
        return try await etcd.range(from: entryKey(index), to: entriesEnd, limit: limit).compactMap { found in
            UInt64(String(decoding: found.key.dropFirst(prefixLength), as: UTF8.self)).map {
                OrderedEntry(index: $0, entry: found.value)
            }
        }
    }
}

/// An entry of the ordered stream and its index.
public struct OrderedEntry: Sendable, Equatable {
    public var index: UInt64
    public var entry: [UInt8]
}

/// Why the sequencer could not order an entry.
public enum OrderingError: Error, Equatable, CustomStringConvertible {
    /// This node is no longer the sequencer: its lease expired and the role moved on (or is free).
    case fenced(node: String)
    /// Another entry already holds this index.
    case indexTaken(UInt64)

    public var description: String {
        switch self {
        case .fenced(let node): "\(node) is no longer the sequencer: nothing it orders is written"
        case .indexTaken(let index): "entry \(index) is already ordered"
        }
    }
}

/// A node's term as the sequencer: it orders entries until it resigns or its lease lapses.
public final class Leadership: Sendable {
    public let election: SequencerElection
    /// The lease that holds the sequencer key.
    public let lease: Int64
    /// The revision that created the sequencer key for this term: every write is fenced on it.
    public let revision: Int64
    /// Renews the lease at once (the campaign's last renewal may be a while ago), then every
    /// third of its time to live, until cancelled or the lease is gone.
    private let renewal: Task<Void, Never>

    init(election: SequencerElection, lease: Int64, revision: Int64) {
        self.election = election
        self.lease = lease
        self.revision = revision
        let etcd = election.etcd
        let every = Duration.milliseconds(max(100, election.leaseSeconds * 1000 / 3))
        renewal = Task {
            while !Task.isCancelled {
                if (try? await etcd.keepAlive(lease: lease)) == 0 { return }
                try? await Task.sleep(for: every)
            }
        }
    }

    deinit { renewal.cancel() }

    /// Orders `entry` at `index`, if this node is still the sequencer and the index is free.
    /// - Throws: ``OrderingError/fenced(node:)`` when the role has moved on,
    ///   ``OrderingError/indexTaken(_:)`` when another entry holds the index; ``EtcdError``.
    public func append(_ entry: [UInt8], at index: UInt64) async throws {
        let key = election.entryKey(index)
        let result = try await election.etcd.transaction(
            if: [.createRevision(of: election.sequencerKey, is: revision), .createRevision(of: key, is: 0)],
            then: [.put(key: key, value: entry, lease: 0)],
            otherwise: [.get(key: election.sequencerKey), .get(key: key)])
        if result.succeeded { return }
        let holder = result.found.first?.first
        guard holder?.createRevision == revision else { throw OrderingError.fenced(node: election.node) }
        // A retried request whose first answer was lost finds its own entry there.
        if result.found.last?.first?.value == entry { return }
        throw OrderingError.indexTaken(index)
    }

    /// Deletes the entries below `index` (every node has applied them), as the sequencer.
    public func compact(below index: UInt64) async throws {
        try await fenced([.delete(from: election.entryKey(0), to: election.entryKey(index))])
    }

    /// Runs `requests` in one transaction, if this node is still the sequencer (the
    /// consortium's deletions of what every node has applied).
    /// - Throws: ``OrderingError/fenced(node:)`` when the role has moved on; ``EtcdError``.
    public func fenced(_ requests: [EtcdClient.Request]) async throws {
        let result = try await election.etcd.transaction(
            if: [.createRevision(of: election.sequencerKey, is: revision)], then: requests)
        if !result.succeeded { throw OrderingError.fenced(node: election.node) }
    }

    /// Stops renewing the lease without telling etcd: what a paused or cut-off process does.
    /// The role lapses when the lease does.
    public func stopRenewing() { renewal.cancel() }

    /// Gives the role up now (the lease is revoked, so another node can take it at once).
    public func resign() async throws {
        stopRenewing()
        try await election.etcd.revoke(lease: lease)
    }
}
