import Foundation
import Testing

@testable import SharingGraph

/// A small sharing history: the farm's owner grants and transfers lot L1 to the processor,
/// which makes L2 from L1 and transfers it to the shop; the farm then revokes.
enum SmallHistory {
    static let owner = "Firm/owner@FARM"
    static let processor = "Firm/proc@MILL"
    static let shop = "Firm/shop@SHOP"
    static let hour: Int64 = 3_600_000

    static let principals = [
        SharingPrincipal(name: owner, enterprise: "FARM", role: "farm-administrator"),
        SharingPrincipal(name: processor, enterprise: "MILL", role: "processing-administrator"),
        SharingPrincipal(name: shop, enterprise: "SHOP", role: "supermarket-administrator"),
    ]

    static func edge(
        _ kind: SharingEdge.Kind, _ from: String, _ to: String, _ lot: String, leaf: UInt64,
        outcome: SharingEdge.Outcome,
        records: Int = 0
    ) -> SharingEdge {
        SharingEdge(
            kind: kind, from: from, to: to, lot: lot, level: "level-2", time: Int64(leaf) * hour, outcome: outcome,
            leaf: leaf, source: "10.0.0.\(leaf % 7)", records: records, requestID: "r-\(lot)")
    }

    static let edges = [
        edge(.request, processor, owner, "L1", leaf: 10, outcome: .submitted),
        edge(.grant, owner, processor, "L1", leaf: 11, outcome: .granted),
        edge(.transfer, owner, processor, "L1", leaf: 13, outcome: .delivered, records: 3),
        edge(.read, processor, owner, "L1", leaf: 14, outcome: .verified, records: 3),
        edge(.request, shop, processor, "L2", leaf: 20, outcome: .submitted),
        edge(.grant, processor, shop, "L2", leaf: 21, outcome: .granted),
        edge(.transfer, processor, shop, "L2", leaf: 22, outcome: .delivered, records: 5),
        edge(.request, shop, owner, "L1", leaf: 25, outcome: .denied),
        edge(.revocation, owner, processor, "L1", leaf: 30, outcome: .revoked),
    ]

    static var delta: SharingDelta {
        SharingDelta(
            edges: edges, principals: principals, lotLinks: [LotLink(lot: "L2", input: "L1")], throughLeaf: 31)
    }
}

@Suite("The sharing graph: queries and incremental updates")
struct SharingGraphTests {
    let graph: SharingGraph = {
        var graph = SharingGraph()
        graph.apply(SmallHistory.delta)
        return graph
    }()

    @Test func spreadFollowsTheLotGraph() {
        let spread = graph.spread(lot: "L1")
        #expect(spread.lots.map(\.lot) == ["L1", "L2"])
        #expect(spread.lots.map(\.depth) == [0, 1])
        // No requests in the spread; grants, transfers, reads and the revocation are.
        #expect(spread.edges.map(\.leaf) == [11, 13, 14, 21, 22, 30])
        #expect(spread.holders.map(\.principal) == [SmallHistory.processor, SmallHistory.shop])
        #expect(spread.holders.map(\.firstLeaf) == [13, 22])
        #expect(spread.holders[1].lots == ["L2"])
        // Depth 0: the lot alone.
        #expect(graph.spread(lot: "L1", depth: 0).holders.map(\.principal) == [SmallHistory.processor])
        #expect(graph.spread(lot: "nothing").edges.isEmpty)
    }

    @Test func activityOfAnEnterpriseInAWindow() {
        let all = graph.activity(of: "MILL", scope: .enterprise)
        #expect(all.sent.map(\.leaf) == [10, 14, 21, 22])
        #expect(all.received.map(\.leaf) == [11, 13, 20, 30])
        let window = graph.activity(
            of: "MILL", scope: .enterprise, since: 13 * SmallHistory.hour, until: 22 * SmallHistory.hour)
        #expect(window.sent.map(\.leaf) == [14, 21])
        #expect(window.received.map(\.leaf) == [13, 20])
        #expect(graph.activity(of: SmallHistory.shop).sent.map(\.leaf) == [20, 25])
    }

    @Test func pathsAlongDeliveries() {
        let paths = graph.paths(from: SmallHistory.owner, to: SmallHistory.shop)
        #expect(
            paths == [
                SharingPath(
                    principals: [SmallHistory.owner, SmallHistory.processor, SmallHistory.shop], leaves: [11, 21])
            ])
        // Data never went from the shop to the owner, nor beyond the depth asked.
        #expect(graph.paths(from: SmallHistory.shop, to: SmallHistory.owner).isEmpty)
        #expect(graph.paths(from: SmallHistory.owner, to: SmallHistory.shop, maxDepth: 1).isEmpty)
    }

    @Test func topSendersAndReceivers() {
        let senders = graph.top(.senders)
        #expect(senders.map(\.principal) == [SmallHistory.owner, SmallHistory.processor])
        #expect(senders.map(\.records) == [3, 5])
        #expect(graph.top(.receivers, count: 1).map(\.principal) == [SmallHistory.processor])
        #expect(graph.top(.receivers, since: 20 * SmallHistory.hour).map(\.principal) == [SmallHistory.shop])
    }

    @Test func incrementalEqualsRebuild() {
        var stepwise = SharingGraph()
        for cut: UInt64 in [12, 21, 26, 31] {
            let before = stepwise.lastLeaf ?? 0
            let edges = SmallHistory.edges.filter { $0.leaf > before && $0.leaf <= cut }
            stepwise.apply(
                SharingDelta(
                    edges: edges, principals: SmallHistory.principals,
                    lotLinks: cut == 21 ? [LotLink(lot: "L2", input: "L1")] : [], throughLeaf: cut))
        }
        #expect(stepwise.edges == graph.edges)
        #expect(stepwise.lastLeaf == 31)
        #expect(stepwise.spread(lot: "L1") == graph.spread(lot: "L1"))
        #expect(
            stepwise.paths(from: SmallHistory.owner, to: SmallHistory.shop)
                == graph.paths(from: SmallHistory.owner, to: SmallHistory.shop))
        // A delta applied again adds nothing.
        var again = graph
        #expect(again.apply(SmallHistory.delta) == 0)
        #expect(again.edges.count == SmallHistory.edges.count)
    }

    @Test func unknownPrincipalsStandForThemselves() {
        #expect(graph.enterprise(of: SmallHistory.owner) == "FARM")
        #expect(graph.enterprise(of: "PLANT9") == "PLANT9")
        #expect(graph.members(of: "MILL") == [SmallHistory.processor])
        #expect(graph.nodeCount == 3)
    }

    @Test func outcomesAreSpelledAsStoredAndKeepUnknownSpellings() throws {
        for outcome in SharingEdge.Outcome.known {
            #expect(SharingEdge.Outcome(rawValue: outcome.rawValue) == outcome)
        }
        #expect(SharingEdge.Outcome(rawValue: "refused-by-contract") == .refusedByContract)
        #expect(SharingEdge.Outcome(rawValue: "partly-read") == .other("partly-read"))
        #expect(SharingEdge.Outcome.other("granted") == .granted)
        let edge = SmallHistory.edges[8]
        let json = String(decoding: try JSONEncoder().encode(edge), as: UTF8.self)
        #expect(json.contains(#""outcome":"revoked""#), "\(json)")
        var unknown = edge
        unknown.outcome = .other("partly-read")
        let decoded = try JSONDecoder().decode(SharingEdge.self, from: try JSONEncoder().encode(unknown))
        #expect(decoded == unknown && decoded.outcome.rawValue == "partly-read")
    }
}
