import BLS12381
import Testing

@testable import AccessCrypto

/// The precomputed basis tables behind `ABSE.encrypt`: size policy and sharing.
@Suite("ABSE fixed-base basis tables")
struct ABSETableTests {
    @Test func partsStayWithinBudget() {
        // n = 4, 8, 9, 16 slots: 4 parts; n = 64 (N = 133): 1 part (31 MB).
        for n in [4, 8, 9, 16] { #expect(ABSE.BasisTables.parts(dimension: ABSE.dimension(n)) == 4) }
        #expect(ABSE.BasisTables.parts(dimension: ABSE.dimension(64)) == 1)
    }

    @Test func tablesAreBuiltOnceAndShared() throws {
        let (pp, mk) = try ABSE.setup(slotCount: 2)
        let copy = pp
        let a = pp.tables.columns(for: pp)
        let b = copy.tables.columns(for: copy)
        let dim = ABSE.dimension(2)
        #expect(a.count == dim && b.count == dim)
        #expect(a.allSatisfy { $0.count == dim - 1 })
        #expect(a.map(\.tableBytes).reduce(0, +) == dim * (dim - 1) * 16 * 4 * 104)
        // A deserialized copy has its own (lazily built) tables and encrypts compatibly.
        let restored = try ABSE.PublicParameters(serialized: pp.serialized)
        #expect(restored == pp)
        let e = try ABSE.encrypt(keyword: "k", token: [7], policy: ["a", nil], publicParameters: restored)
        let key = try ABSE.issueAttributeKey(master: mk, attributes: ["a", "b"])
        #expect(ABSE.test(e, ABSE.trapdoor(keyword: "k", attributeKey: key), publicParameters: pp) == [7])
        #expect(ABSE.test(e, ABSE.trapdoor(keyword: "x", attributeKey: key), publicParameters: pp) == nil)
    }
}
