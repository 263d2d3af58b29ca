import AgriTraceCore
import LedgerCore
import Ordering

/// The sequencer's side of a consortium node: campaign for the role (``SequencerElection``),
/// then, while it holds, propose a block of the bodies put up for ordering every
/// ``ConsortiumConfiguration/proposalInterval`` and compact what every member applied. A
/// fenced write (the role moved on) sends it back to campaigning.
struct Sequencing: Sendable {
    let configuration: ConsortiumConfiguration
    let election: SequencerElection
    let node: String
    let log: @Sendable (String) -> Void

    /// Campaigns and leads until cancelled.
    func run() async {
        while !Task.isCancelled {
            do {
                let leadership = try await election.campaign()
                log("\(node) is the sequencer")
                do {
                    try await lead(leadership)
                } catch let error as OrderingError {
                    log("\(node) stops sequencing: \(error)")
                } catch is CancellationError {
                    try? await leadership.resign()
                    return
                } catch {
                    log("\(node) stops sequencing: \(error); resigning")
                    try? await leadership.resign()
                }
            } catch is CancellationError {
                return
            } catch {
                log("sequencer campaign: \(error); retrying")
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// The ordered stream as this term finds it: the next height, the last proposal's time
    /// and the digests the remaining proposals order.
    struct Stream {
        var next: UInt64 = 1
        var lastTime = Timestamp(milliseconds: 0)
        /// Digests ordered by a proposal still in etcd, by the proposal's height.
        var ordered: [Digest32: UInt64] = [:]
    }

    func lead(_ leadership: Leadership) async throws {
        var stream = Stream()
        for entry in try await election.entries(from: 0) {
            let proposal = try Canonical.decode(BlockProposal.self, from: entry.entry)
            stream.next = entry.index + 1
            stream.lastTime = proposal.time
            for digest in proposal.bodies { stream.ordered[digest] = entry.index }
        }
        var rounds = 0
        while true {
            try Task.checkCancellation()
            try await proposeOnce(leadership, &stream)
            rounds += 1
            if rounds % 10 == 0 { try await compact(leadership, &stream) }
            try await Task.sleep(for: configuration.proposalInterval)
        }
    }

    /// Orders the bodies put up and not yet ordered, oldest first, in one proposal.
    func proposeOnce(_ leadership: Leadership, _ stream: inout Stream) async throws {
        let batches = configuration.keys.batches
        let found = try await configuration.etcd.range(from: batches.from, to: batches.to, keysOnly: true)
        let fresh = found.compactMap { kv -> (digest: Digest32, revision: Int64)? in
            guard let digest = Digest32(hex: ConsortiumKeys.node(of: kv.key)), stream.ordered[digest] == nil else {
                return nil
            }
            return (digest, kv.createRevision)
        }
        guard !fresh.isEmpty else { return }
        let bodies = fresh.sorted { ($0.revision, $0.digest) < ($1.revision, $1.digest) }.prefix(
            configuration.maxBodiesPerProposal
        ).map(\.digest)
        let time = Timestamp(milliseconds: max(Timestamp.now().milliseconds, stream.lastTime.milliseconds))
        let proposal = BlockProposal(height: stream.next, time: time, sequencer: node, bodies: bodies)
        try await leadership.append(Canonical.encode(proposal), at: stream.next)
        for digest in bodies { stream.ordered[digest] = stream.next }
        stream.next += 1
        stream.lastTime = time
    }

    /// Deletes the bodies and proposals every member applied (keeping the last proposal, so
    /// the next term finds the height to go on from), and the checkpoint notes every member
    /// holds final.
    func compact(_ leadership: Leadership, _ stream: inout Stream) async throws {
        let keys = configuration.keys
        let members = configuration.membership.members.map(\.name)
        func lowest(_ range: (from: [UInt8], to: [UInt8])) async throws -> UInt64? {
            let found = try await configuration.etcd.range(from: range.from, to: range.to)
            let heights = Dictionary(
                found.map { (ConsortiumKeys.node(of: $0.key), UInt64(String(decoding: $0.value, as: UTF8.self)) ?? 0) },
                uniquingKeysWith: { Swift.max($0, $1) })
            guard members.allSatisfy({ heights[$0] != nil }) else { return nil }
            return members.compactMap { heights[$0] }.min()
        }
        guard let applied = try await lowest(keys.appliedRange), applied > 1 else { return }
        // Bodies first: a term that stops between the two steps leaves proposals whose bodies
        // are gone, which no member needs; never bodies that look unordered.
        let done = stream.ordered.filter { $0.value < applied }.map(\.key)
        for start in stride(from: 0, to: done.count, by: 100) {
            try await leadership.fenced(
                done[start..<min(start + 100, done.count)].map { digest -> EtcdClient.Request in
                    let key = keys.batch(digest)
                    return .delete(from: key, to: key + [0])
                })
        }
        try await leadership.compact(below: applied)
        for digest in done { stream.ordered[digest] = nil }
        if let final = try await lowest(keys.finalRange), final > 1 {
            let notes = keys.cosignatures(below: final)
            try await leadership.fenced([.delete(from: notes.from, to: notes.to)])
        }
    }
}
