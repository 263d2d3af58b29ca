import AgriTraceCore
import TestSupport
import Testing

@testable import Ledger

@Suite struct MerkleLogTests {
    static func leaves(_ n: Int) -> [Digest32] { ReferenceMerkle.leaves(n) }

    @Test func frontierRootMatchesReferenceForEverySize() {
        var frontier = LogFrontier()
        let all = Self.leaves(130)
        for (i, leaf) in all.enumerated() {
            frontier.append(leaf) { _, _ in }
            #expect(frontier.root == ReferenceMerkle.root(all[0...i]), "size \(i + 1)")
        }
    }

    @Test func storedNodeProofsMatchReference() throws {
        let all = Self.leaves(67)
        var nodes = MerkleLog(leafHashes: all)
        for size in [1, 2, 3, 7, 8, 9, 31, 32, 33, 64, 67] {
            let prefix = Array(all[0..<size])
            #expect(try LogProofs.root(size: UInt64(size), &nodes) == ReferenceMerkle.root(prefix[...]))
            var edge = LogProofs.RightEdge(size: UInt64(size))  // shared by every proof of this size
            for index in 0..<size {
                let proof = try LogProofs.inclusionProof(index: UInt64(index), size: UInt64(size), &nodes)
                let reference = ReferenceMerkle.inclusionProof(index, prefix[...])
                #expect(proof == reference, "index \(index) size \(size)")
                #expect(
                    try LogProofs.inclusionProof(index: UInt64(index), &edge, &nodes) == reference,
                    "memoized right edge: index \(index) size \(size)")
            }
            for old in 1...size {
                let proof = try LogProofs.consistencyProof(oldSize: UInt64(old), newSize: UInt64(size), &nodes)
                #expect(
                    proof == ReferenceMerkle.consistencyProof(old, prefix[...]),
                    "old \(old) new \(size)")
            }
        }
    }

    @Test func blockNodesGiveTheReferenceProofsOfEveryLeafInTheBlock() throws {
        let all = Self.leaves(300)
        // Blocks starting at every alignment: the right edge before the block, then its leaves.
        for (start, end) in [(0, 1), (0, 100), (1, 2), (5, 37), (64, 65), (63, 130), (100, 300), (255, 257)] {
            var frontier = LogFrontier()
            for leaf in all[0..<start] { frontier.append(leaf) { _, _ in } }
            var nodes = BlockLogNodes(reservingFor: end - start)
            for subtree in frontier.subtrees { nodes.insert(subtree.position, subtree.hash) }
            for leaf in all[start..<end] { frontier.append(leaf) { nodes.insert($0, $1) } }
            let prefix = Array(all[0..<end])
            var edge = LogProofs.RightEdge(size: UInt64(end))
            for index in start..<end {
                #expect(
                    try LogProofs.inclusionProof(index: UInt64(index), &edge, &nodes)
                        == ReferenceMerkle.inclusionProof(index, prefix[...]),
                    "leaf \(index) of the block \(start)..<\(end)")
            }
            #expect(try LogProofs.root(size: UInt64(end), &nodes) == ReferenceMerkle.root(prefix[...]))
        }
    }

    @Test func frontierRebuildsFromStoredNodes() throws {
        let all = Self.leaves(45)
        var nodes = MerkleLog(leafHashes: all)
        var appended = LogFrontier()
        for leaf in all { appended.append(leaf) { _, _ in } }
        let rebuilt = try LogFrontier(size: 45, source: &nodes)
        #expect(rebuilt == appended)
        #expect(rebuilt.root == ReferenceMerkle.root(all[...]))
    }
}
