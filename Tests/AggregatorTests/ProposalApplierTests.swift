import AgriTraceCore
import ConsortiumNode
import Crypto
import Foundation
import SQLiteStorage
import TestSupport
import Testing

@testable import Ledger

/// A consortium node's deterministic block application (docs/consortium.md, "Applying a
/// block"): real ledger stores applying the same block proposals get byte-identical
/// checkpoints and state roots; a tampered store's root differs at the next block that touches
/// the row; a checkpoint is final only with k valid member cosignatures.
@Suite struct ProposalApplierTests {
    /// Three node keys, a 2-of-3 genesis and the consortium's registry authority.
    struct Consortium {
        let names = ["operator.agritrace.example", "processor.agritrace.example", "regulator.agritrace.example"]
        let keys = (0..<3).map { _ in Curve25519.Signing.PrivateKey() }
        let registry = Curve25519.Signing.PrivateKey()
        let genesis: ConsortiumGenesis

        init() throws {
            let verifierKeys = try zip(names, keys).map { name, key in
                try NoteSigner(name: name, type: .cosignature, key: key).verifierKey
            }
            genesis = try ConsortiumGenesis(
                origin: "agritrace.example/consortium", time: 1_796_677_200, threshold: 2, members: verifierKeys)
        }

        func signer(_ index: Int) throws -> NoteSigner {
            try NoteSigner(name: names[index], type: .cosignature, key: keys[index])
        }

        /// Node `index`'s applier over a fresh store in `directory`.
        func node(_ index: Int, in directory: TemporaryDirectory) throws -> ProposalApplier {
            let ledger = try Ledger(
                path: directory.file("node-\(index).sqlite"), authority: keys[index],
                configuration: LedgerConfiguration(proposer: names[index], registryAuthority: registry.publicKey))
            return try ProposalApplier(ledger: ledger, origin: genesis.origin, signer: try signer(index))
        }
    }

    /// Bodies and proposals over five heights: registrations, batches of two devices, a batch
    /// resent (its records duplicates), a batch of an unknown device, a revocation, and a
    /// proposal whose only body is a resend (no ledger block).
    struct Workload {
        var bodies: [Digest32: ConsortiumBody] = [:]
        var proposals: [BlockProposal] = []
        var device = TestDevice()
        var second = TestDevice(device: "box-2")

        mutating func propose(_ items: [ConsortiumBody], time: Int64) {
            for item in items { bodies[item.digest] = item }
            proposals.append(
                BlockProposal(
                    height: UInt64(proposals.count + 1), time: Timestamp(milliseconds: time), sequencer: "operator",
                    bodies: items.map(\.digest)))
        }

        init(registry: Curve25519.Signing.PrivateKey) {
            let registration = ConsortiumBody.registry(Canonical.encode(device.registration(authority: registry)))
            let secondRegistration = ConsortiumBody.registry(
                Canonical.encode(second.registration(authority: registry, stage: .processing)))
            propose([registration, secondRegistration], time: 1_800_000_000_000)
            let first = ConsortiumBody.recordBatch(
                topic: device.recordTopic, payload: device.payload(device.records(20, lot: "PL-1")))
            var stranger = TestDevice(device: "box-9")
            let unknown = ConsortiumBody.recordBatch(
                topic: stranger.recordTopic, payload: stranger.payload(stranger.records(2, lot: "PL-9")))
            propose([first, unknown], time: 1_800_000_000_300)
            let link = ConsortiumBody.recordBatch(
                topic: second.recordTopic,
                payload: second.payload([second.record(lot: "PR-1", stage: .processing, inputs: ["PL-1"])]))
            let more = ConsortiumBody.recordBatch(
                topic: device.recordTopic, payload: device.payload(device.records(5, lot: "PL-2")))
            propose([link, more, first], time: 1_800_000_000_300)
            propose([first], time: 1_800_000_000_600)
            let revocation = ConsortiumBody.registry(Canonical.encode(second.revocation(authority: registry)))
            let late = ConsortiumBody.recordBatch(
                topic: device.recordTopic, payload: device.payload(device.records(3, lot: "PL-3")))
            propose([revocation, late], time: 1_800_000_000_900)
        }
    }

    @Test func nodesApplyingTheSameProposalsGetByteIdenticalCheckpoints() throws {
        let directory = try TemporaryDirectory(prefix: "agritrace-proposals")
        defer { directory.remove() }
        let consortium = try Consortium()
        let workload = Workload(registry: consortium.registry)
        let nodes = try (0..<3).map { try consortium.node($0, in: directory) }
        var applied: [[AppliedProposal]] = [[], [], []]
        for proposal in workload.proposals {
            for (index, node) in nodes.enumerated() {
                applied[index].append(try node.apply(proposal, bodies: workload.bodies))
            }
        }
        for height in 0..<workload.proposals.count {
            #expect(applied[1][height].applied.checkpoint == applied[0][height].applied.checkpoint)
            #expect(applied[2][height].applied.checkpoint == applied[0][height].applied.checkpoint)
            #expect(applied[1][height].applied.stateRoot == applied[0][height].applied.stateRoot)
        }
        let first = applied[0].map(\.applied)
        // Proposal 4 only resends a batch: no block, the same checkpoint as proposal 3.
        #expect(first.map(\.blockHeight) == [1, 2, 3, 3, 4])
        #expect(first[3].checkpoint == first[2].checkpoint)
        #expect(Set(first.map(\.checkpoint)).count == 4)
        // 20 + 1 + 5 + 3 records and 3 registry transactions; the unknown device's batch is refused.
        #expect(applied[0].last?.checkpoint.size == 32)
        #expect(applied[0][1].answers.contains { $0.rejections.contains { $0.code == .unknownDevice } })
        // The roots in the checkpoints are the ones replay recomputes from each node's log alone.
        for node in nodes {
            let replayed = try StateReplay.stateRoots(from: node.ledger.store, authority: consortium.registry.publicKey)
            #expect(replayed.map(\.root) == [0, 1, 2, 4].map { first[$0].stateRoot })
            #expect(try LedgerVerifier.verify(store: node.ledger.store, authority: node.ledger.authorityKey).ok)
        }
        // The stored rows are what was returned, and a reopened node resumes after them.
        #expect(try nodes[0].ledger.store.checkpoints() == first)
        let reopened = try consortium.node(0, in: directory)
        #expect(reopened.latest == first.last)
    }

    @Test func aTamperedStoreHasAnotherStateRootAtTheNextBlockThatTouchesTheRow() throws {
        let directory = try TemporaryDirectory(prefix: "agritrace-proposals-tamper")
        defer { directory.remove() }
        let consortium = try Consortium()
        let workload = Workload(registry: consortium.registry)
        let honest = try consortium.node(0, in: directory)
        let tampered = try consortium.node(1, in: directory)
        for proposal in workload.proposals.prefix(3) {
            let a = try honest.apply(proposal, bodies: workload.bodies)
            let b = try tampered.apply(proposal, bodies: workload.bodies)
            #expect(a.applied.checkpoint == b.applied.checkpoint)
        }
        // Forge box-1's key in one store, outside the contracts (nothing notes the change).
        let db = tampered.ledger.store.db
        try db.execute("UPDATE devices SET public_key = zeroblob(32) WHERE device = 'box-1'")
        try db.execute("DELETE FROM temp.state_changes")
        // Proposal 4 writes no block: nothing read the forged row yet.
        #expect(
            try honest.apply(workload.proposals[3], bodies: workload.bodies).applied.checkpoint
                == tampered.apply(workload.proposals[3], bodies: workload.bodies).applied.checkpoint)
        // Proposal 5 raises box-1's watermark: the same log, another state root.
        let a = try honest.apply(workload.proposals[4], bodies: workload.bodies)
        let b = try tampered.apply(workload.proposals[4], bodies: workload.bodies)
        #expect(a.checkpoint.rootHash == b.checkpoint.rootHash)
        #expect(a.applied.stateRoot != b.applied.stateRoot)
        #expect(ConsortiumCheckpoint.stateRoot(of: b.checkpoint) == b.applied.stateRoot)
        #expect(a.applied.checkpoint != b.applied.checkpoint)
    }

    @Test func aCheckpointIsFinalOnlyWithKValidMemberCosignatures() throws {
        let directory = try TemporaryDirectory(prefix: "agritrace-proposals-cosign")
        defer { directory.remove() }
        let consortium = try Consortium()
        let workload = Workload(registry: consortium.registry)
        let nodes = try (0..<3).map { try consortium.node($0, in: directory) }
        var last: [AppliedProposal] = []
        for proposal in workload.proposals {
            last = try nodes.map { try $0.apply(proposal, bodies: workload.bodies) }
        }
        let text = last[0].applied.checkpoint
        let verifier = consortium.genesis.membership.checkpointVerifier
        let (checkpoint, cosigners) = try verifier.verify(
            SignedNote(text: text, signatures: [last[0].cosignature, last[2].cosignature]))
        #expect(checkpoint == last[0].checkpoint)
        #expect(Set(cosigners) == [consortium.names[0], consortium.names[2]])
        // The note's text round-trips through the signed-note form other tooling reads.
        let formatted = SignedNote(text: text, signatures: last.map(\.cosignature)).formatted
        #expect(try verifier.verify(SignedNote(parsing: formatted)).cosigners.count == 3)
        // k - 1 cosignatures, twice the same member, or a non-member's: not final.
        #expect(throws: Checkpoint.Error.self) {
            try verifier.verify(SignedNote(text: text, signatures: [last[1].cosignature]))
        }
        #expect(throws: Checkpoint.Error.self) {
            try verifier.verify(SignedNote(text: text, signatures: [last[1].cosignature, last[1].cosignature]))
        }
        let outsider = try NoteSigner(name: "outsider.example", type: .cosignature, key: .init())
        #expect(throws: Checkpoint.Error.self) {
            try verifier.verify(SignedNote(text: text, signatures: [last[0].cosignature, try outsider.sign(text)]))
        }
        // A member's name and key id over a forged signature: the whole note is refused.
        var forged = last[1].cosignature
        forged.signature[20] ^= 1
        #expect(throws: Checkpoint.Error.invalidSignature(consortium.names[1])) {
            try verifier.verify(SignedNote(text: text, signatures: [last[0].cosignature, last[2].cosignature, forged]))
        }
        // A cosignature over another checkpoint does not count for this one.
        let earlier = try nodes[1].ledger.store.checkpoint(height: 2)
        let other = try consortium.signer(1).sign(try #require(earlier).checkpoint)
        #expect(throws: Checkpoint.Error.self) {
            try verifier.verify(SignedNote(text: text, signatures: [last[0].cosignature, other]))
        }
    }

    @Test func aProposalOutOfOrderBackwardsInTimeOrMissingABodyIsRefused() throws {
        let directory = try TemporaryDirectory(prefix: "agritrace-proposals-refused")
        defer { directory.remove() }
        let consortium = try Consortium()
        let workload = Workload(registry: consortium.registry)
        let node = try consortium.node(0, in: directory)
        #expect(throws: ProposalError.outOfOrder(expected: 1, found: 2)) {
            try node.apply(workload.proposals[1], bodies: workload.bodies)
        }
        _ = try node.apply(workload.proposals[0], bodies: workload.bodies)
        var early = workload.proposals[1]
        early.time = Timestamp(milliseconds: 1_700_000_000_000)
        let backwards = ProposalError.timeBackwards(height: 2, previous: workload.proposals[0].time, found: early.time)
        #expect(throws: backwards) { try node.apply(early, bodies: workload.bodies) }
        let missing = workload.proposals[1].bodies[0]
        var bodies = workload.bodies
        bodies[missing] = nil
        #expect(throws: ProposalError.missingBody(height: 2, digest: missing)) {
            try node.apply(workload.proposals[1], bodies: bodies)
        }
        #expect(node.latest?.height == 1)
    }
}
