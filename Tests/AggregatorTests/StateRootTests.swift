import AgriTraceCore
import Crypto
import Foundation
import SQLiteStorage
import TestSupport
import Testing

@testable import Ledger

/// The consortium's per-block state root (docs/consortium.md#state-root): the roots a ledger
/// notes while writing its blocks equal the roots recomputed from its log in fresh states; a
/// tampered row or a block applied differently changes them.
@Suite struct StateRootTests {
    /// A real ledger noting its state changes from its first block, and the root after each.
    final class RecordingLedger {
        let directory: TemporaryDirectory
        let authority = Curve25519.Signing.PrivateKey()
        var device = TestDevice()
        var second = TestDevice(device: "box-2")
        let ledger: Ledger
        let changes: StateChanges
        var roots: [(height: UInt64, root: Digest32)] = []

        init() throws {
            directory = try TemporaryDirectory(prefix: "agritrace-state-root")
            ledger = try Ledger(path: directory.file("ledger.sqlite"), authority: authority)
            changes = try StateChanges(recordingOn: ledger.store.db)
        }

        /// Cuts a block and notes the root after it.
        func cut() throws {
            let block = try #require(try ledger.cutBlock())
            let height = block.block.header.value.height
            roots.append((height, try changes.root(after: roots.last?.root ?? StateRoot.initial, height: height)))
        }

        /// Registry, records of two devices, a link between lots and a revocation, over four blocks.
        func writeBlocks() throws {
            try ledger.admit(registry: device.registration(authority: authority))
            try ledger.admit(registry: second.registration(authority: authority, stage: .processing))
            try cut()
            _ = ledger.admit(topic: device.recordTopic, payload: device.payload(device.records(20, lot: "PL-1")))
            try cut()
            _ = ledger.admit(
                topic: second.recordTopic,
                payload: second.payload([second.record(lot: "PR-1", stage: .processing, inputs: ["PL-1"])]))
            _ = ledger.admit(topic: device.recordTopic, payload: device.payload(device.records(5, lot: "PL-2")))
            try cut()
            try ledger.admit(registry: second.revocation(authority: authority))
            try cut()
        }
    }

    static func equal(_ a: [(height: UInt64, root: Digest32)], _ b: [(height: UInt64, root: Digest32)]) -> Bool {
        a.map(\.height) == b.map(\.height) && a.map(\.root) == b.map(\.root)
    }

    /// The roots of `recording`'s log folded into a fresh state, `alter` running on that state
    /// after each block's transactions and before its root is taken.
    static func roots(
        of recording: RecordingLedger, altering alter: (SQLiteConnection, UInt64) throws -> Void
    ) throws -> [(height: UInt64, root: Digest32)] {
        let state = try SQLiteConnection(path: ":memory:")
        try state.execute(LedgerSchema.stateDDL)
        let changes = try StateChanges(recordingOn: state)
        var roots: [(height: UInt64, root: Digest32)] = []
        _ = try StateReplay.fold(recording.ledger.store, authority: recording.authority.publicKey, into: state) {
            height in
            try alter(state, height)
            let root = try changes.root(after: roots.last?.root ?? StateRoot.initial, height: height)
            roots.append((height, root))
        }
        return roots
    }

    @Test func theLedgersRootsEqualTheRootsRecomputedFromItsLog() throws {
        let recording = try RecordingLedger()
        defer { recording.directory.remove() }
        try recording.writeBlocks()
        #expect(recording.roots.map(\.height) == [1, 2, 3, 4])
        #expect(Set(recording.roots.map(\.root)).count == 4)
        // Two fresh states applying the same log give the same sequence, and it is the ledger's.
        let first = try StateReplay.stateRoots(from: recording.ledger.store, authority: recording.authority.publicKey)
        let again = try StateReplay.stateRoots(from: recording.ledger.store, authority: recording.authority.publicKey)
        #expect(Self.equal(first, again))
        #expect(Self.equal(first, recording.roots))
        // A block that changes nothing in the state (none here) would still chain its height.
        #expect(
            StateRoot.next(after: .zero, height: 1, changes: .zero)
                != StateRoot.next(after: .zero, height: 2, changes: .zero))
    }

    /// `agritrace replay --state-roots` prints the roots the ledger noted, from the log alone.
    @Test func replayPrintsTheStateRootOfEveryBlock() throws {
        let recording = try RecordingLedger()
        defer { recording.directory.remove() }
        try recording.writeBlocks()
        let result = try runAgritrace([
            "replay", "--store", recording.directory.file("ledger.sqlite"), "--state-roots", "--json",
        ])
        #expect(result.status == 0, "\(result.output)")
        let printed = try #require(
            try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]], "\(result.output)")
        #expect(printed.map { $0["height"] as? Int } == recording.roots.map { Int($0.height) })
        #expect(printed.map { $0["stateRoot"] as? String } == recording.roots.map(\.root.hex))
    }

    @Test func aTamperedRowChangesTheRootOfTheNextBlockThatTouchesIt() throws {
        let recording = try RecordingLedger()
        defer { recording.directory.remove() }
        try recording.writeBlocks()
        // Forge box-1's key in the state (not through the contracts, so no root notes it)...
        let db = recording.ledger.store.db
        try db.execute("UPDATE devices SET public_key = zeroblob(32) WHERE device = 'box-1'")
        try db.execute("DELETE FROM temp.state_changes")
        // ...then box-1's next records raise its sequence watermark: the row is read as forged.
        _ = recording.ledger.admit(
            topic: recording.device.recordTopic,
            payload: recording.device.payload(recording.device.records(3, lot: "PL-3")))
        try recording.cut()
        let recomputed = try StateReplay.stateRoots(
            from: recording.ledger.store, authority: recording.authority.publicKey)
        #expect(recomputed.count == 5)
        #expect(Self.equal(Array(recomputed.prefix(4)), Array(recording.roots.prefix(4))))
        #expect(recomputed[4].root != recording.roots[4].root)
    }

    @Test func aBlockAppliedDifferentlyHasAnotherRootFromThatHeightOn() throws {
        let recording = try RecordingLedger()
        defer { recording.directory.remove() }
        try recording.writeBlocks()
        // The same log folded into a fresh state by a "node" whose contract for block 3 wrote
        // one more row (a lot link the log does not hold) before its root was taken.
        let roots = try Self.roots(of: recording) { state, height in
            if height == 3 {
                try state.execute("INSERT INTO lot_links(lot, input_lot, leaf_index) VALUES ('PR-1', 'PL-9', 23)")
            }
        }
        #expect(roots.map(\.height) == [1, 2, 3, 4])
        #expect(Self.equal(Array(roots.prefix(2)), Array(recording.roots.prefix(2))))
        #expect(roots[2].root != recording.roots[2].root)
        #expect(roots[3].root != recording.roots[3].root)
        // Writing the same value again is no change: the root stays the log's.
        let sameRoots = try Self.roots(of: recording) { state, _ in
            try state.execute("UPDATE devices SET stage = stage")
        }
        #expect(Self.equal(sameRoots, recording.roots))
    }
}
