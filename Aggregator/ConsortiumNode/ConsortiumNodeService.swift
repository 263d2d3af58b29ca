import AgriTraceCore
import Foundation
import Ledger
import Metrics
import Ordering
import Synchronization

/// How a consortium node runs (`agritrace serve --consortium-genesis …`, docs/consortium.md).
public struct ConsortiumConfiguration: Sendable {
    /// The etcd members, with the deployment CA's TLS files.
    public var etcd: EtcdClient
    /// The consortium's keys in etcd.
    public var keys: ConsortiumKeys
    /// The members and k (from the genesis).
    public var membership: ConsortiumMembership
    /// The sequencer lease's time to live, in seconds. Default 5.
    public var leaseSeconds: Int
    /// How often the sequencer proposes a block of what was put up for ordering. Default 200 ms.
    public var proposalInterval: Duration
    /// The most bodies one proposal orders. Default 256.
    public var maxBodiesPerProposal: Int
    /// How often a node looks for new proposals and cosignatures. Default 50 ms.
    public var pollInterval: Duration

    public init(
        etcd: EtcdClient, keys: ConsortiumKeys, membership: ConsortiumMembership, leaseSeconds: Int = 5,
        proposalInterval: Duration = .milliseconds(200), maxBodiesPerProposal: Int = 256,
        pollInterval: Duration = .milliseconds(50)
    ) {
        self.etcd = etcd
        self.keys = keys
        self.membership = membership
        self.leaseSeconds = leaseSeconds
        self.proposalInterval = proposalInterval
        self.maxBodiesPerProposal = maxBodiesPerProposal
        self.pollInterval = pollInterval
    }
}

/// The largest body put into etcd: its limit is 1.5 MiB per request.
public let maximumConsortiumBodyBytes = 1 << 20

/// A consortium node: it puts what it ingests up for ordering in etcd, follows the ordered
/// proposals and applies each (``ProposalApplier``, on its own thread), publishes its
/// cosigned checkpoint, keeps the final ones (k of n), raises an alarm when its own differs
/// from a final one, and, while it is the sequencer, proposes blocks and compacts what every
/// member applied.
public actor ConsortiumNodeService {
    let configuration: ConsortiumConfiguration
    let thread: ApplierThread
    let node: String
    let log: @Sendable (String) -> Void
    let election: SequencerElection
    /// Heights applied whose checkpoint is not final yet, with this node's checkpoint text.
    var awaitingFinality: [UInt64: String] = [:]
    /// The first height at which this node's checkpoint differs from a final one, if any.
    let divergence: Mutex<UInt64?>
    let divergenceCounter = Counter(label: "agritrace_consortium_divergence_total")

    /// Takes over `applier` (and its ledger) for good.
    public init(
        applier: ProposalApplier, configuration: ConsortiumConfiguration, log: @escaping @Sendable (String) -> Void
    ) throws {
        self.configuration = configuration
        node = applier.signer.verifierKey.name
        thread = ApplierThread(applier)
        self.log = log
        election = SequencerElection(
            etcd: configuration.etcd, prefix: configuration.keys.prefix, node: node,
            leaseSeconds: configuration.leaseSeconds)
        var diverged: UInt64?
        var awaiting: [UInt64: String] = [:]
        for row in try applier.ledger.store.checkpoints() {
            guard let final = row.finalNote else {
                awaiting[row.height] = row.checkpoint
                continue
            }
            if diverged == nil, (try? SignedNote(parsing: final))?.text != row.checkpoint { diverged = row.height }
        }
        awaitingFinality = awaiting
        divergence = Mutex(diverged)
    }

    /// Why this node's reads are not authoritative (its state left the consortium's), or nil.
    public nonisolated var notAuthoritative: String? {
        divergence.withLock { height in
            height.map { "this node's checkpoint at height \($0) differs from the consortium's final one" }
        }
    }

    /// Puts a body up for ordering.
    /// - Throws: ``ConsortiumBodyTooLarge`` past ``maximumConsortiumBodyBytes``; ``EtcdError``.
    public nonisolated func submit(_ body: ConsortiumBody) async throws {
        let bytes = Canonical.encode(body)
        guard bytes.count <= maximumConsortiumBodyBytes else { throw ConsortiumBodyTooLarge(bytes: bytes.count) }
        _ = try await configuration.etcd.transaction(
            if: [], then: [.put(key: configuration.keys.batch(body.digest), value: bytes, lease: 0)])
    }

    /// The store's queued submissions not yet put up for ordering (read on the applier's thread).
    public nonisolated func queuedSubmissions() async throws -> [(id: Int64, body: ConsortiumBody)] {
        try await thread.run { applier in
            let store = applier.ledger.store
            return try store.pendingSubmissions(after: try store.forwardedSubmission()).map {
                (id: $0.id, body: $0.body)
            }
        }
    }

    /// Notes that the queued submissions up to `id` were put up for ordering.
    public nonisolated func forwarded(submission id: Int64) async throws {
        try await thread.run { try $0.ledger.store.setForwardedSubmission(id) }
    }

    /// Follows and applies the ordered proposals, and campaigns to be the sequencer, until cancelled.
    public func run() async throws {
        let sequencer = Sequencing(
            configuration: configuration, election: election, node: node, log: log)
        let campaign = Task { await sequencer.run() }
        defer { campaign.cancel() }
        var next = try await thread.run { ($0.latest?.height ?? 0) + 1 }
        log("consortium node \(node) following \(configuration.keys.prefix)log/ from height \(next)")
        while !Task.isCancelled {
            do {
                let applied = try await followOnce(from: next)
                next += applied
                try await checkFinality()
                if applied == 0 { try await Task.sleep(for: configuration.pollInterval) }
            } catch is CancellationError {
                break
            } catch let error as EtcdError {
                log("etcd: \(error); retrying")
                try? await Task.sleep(for: .milliseconds(500))
            } catch let error as ProposalError {
                // Nothing was written: try again (a body not readable yet), logging each time.
                log("cannot apply: \(error); retrying")
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Applies the proposals ordered from `height` on (at most 64); returns how many.
    func followOnce(from height: UInt64) async throws -> UInt64 {
        let entries = try await election.entries(from: height, limit: 64)
        var next = height
        for entry in entries {
            guard entry.index == next else {
                log("ALARM proposal \(next) was compacted before this node applied it; catch up from a peer's store")
                throw CancellationError()
            }
            let proposal = try Canonical.decode(BlockProposal.self, from: entry.entry)
            let bodies = try await fetchBodies(proposal.bodies)
            let applied = try await thread.run { try $0.apply(proposal, bodies: bodies) }
            try await publish(applied)
            next += 1
        }
        return next - height
    }

    /// The bodies named by `digests`, read from etcd in transactions of 64 reads.
    func fetchBodies(_ digests: [Digest32]) async throws -> [Digest32: ConsortiumBody] {
        var bodies: [Digest32: ConsortiumBody] = [:]
        let wanted = Array(Set(digests))
        for start in stride(from: 0, to: wanted.count, by: 64) {
            let chunk = Array(wanted[start..<min(start + 64, wanted.count)])
            let result = try await configuration.etcd.transaction(
                if: [], then: chunk.map { .get(key: configuration.keys.batch($0)) })
            for found in result.found {
                guard let value = found.first?.value, let body = try? Canonical.decode(ConsortiumBody.self, from: value)
                else { continue }
                bodies[body.digest] = body
            }
        }
        return bodies
    }

    /// Publishes this node's checkpoint for the height (unless it diverged) and its applied height.
    func publish(_ applied: AppliedProposal) async throws {
        let height = applied.applied.height
        var requests: [EtcdClient.Request] = [
            .put(key: configuration.keys.applied(node), value: Array(String(height).utf8), lease: 0)
        ]
        if divergence.withLock({ $0 }) == nil {
            let note = SignedNote(text: applied.applied.checkpoint, signatures: [applied.cosignature])
            requests.append(
                .put(
                    key: configuration.keys.cosignature(height: height, node: node), value: Array(note.formatted.utf8),
                    lease: 0))
        }
        _ = try await configuration.etcd.transaction(if: [], then: requests)
        awaitingFinality[height] = applied.applied.checkpoint
    }

    /// Looks for k cosignatures of each height not yet final; keeps the final notes and raises
    /// the alarm when the final checkpoint is not this node's.
    func checkFinality() async throws {
        let verifier = configuration.membership.checkpointVerifier
        var finalThrough: UInt64?
        for height in awaitingFinality.keys.sorted().prefix(256) {
            let range = configuration.keys.cosignatures(height: height)
            let found = try await configuration.etcd.range(from: range.from, to: range.to)
            let finality = Finality(
                notes: found.map {
                    (node: ConsortiumKeys.node(of: $0.key), note: String(decoding: $0.value, as: UTF8.self))
                },
                verifier: verifier)
            guard let final = finality.finalNote else { break }
            let mine = awaitingFinality[height]!
            if final.text != mine { raiseDivergence(height: height, final: final) }
            if !finality.dissenters.isEmpty {
                log(
                    "ALARM consortium checkpoint \(height): \(finality.dissenters.joined(separator: ", ")) published a checkpoint other than the final one"
                )
            }
            let formatted = final.formatted
            try await thread.run { try $0.ledger.store.setFinalNote(formatted, height: height) }
            awaitingFinality[height] = nil
            finalThrough = height
        }
        if let finalThrough {
            _ = try await configuration.etcd.transaction(
                if: [],
                then: [.put(key: configuration.keys.final(node), value: Array(String(finalThrough).utf8), lease: 0)])
        }
    }

    func raiseDivergence(height: UInt64, final: SignedNote) {
        divergenceCounter.increment()
        let first = divergence.withLock { value in
            if value == nil { value = height }
            return value!
        }
        log(
            "ALARM consortium divergence: this node's checkpoint at height \(height) differs from the final one; it stops cosigning and its reads are not authoritative (first at height \(first)); final:\n\(final.text)"
        )
    }
}

/// A body too large for one etcd request.
public struct ConsortiumBodyTooLarge: Error, CustomStringConvertible {
    public var bytes: Int
    public var description: String {
        "the body is \(bytes) bytes, more than the \(maximumConsortiumBodyBytes) a consortium orders in one piece; send smaller batches"
    }
}
