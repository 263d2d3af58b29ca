import BLS12381
import Testing

@testable import AccessCrypto

/// `encrypt`'s column MSMs and GT power, on one thread and spread over several, against the
/// plain reference (one constant-time scalar multiplication per basis point, summed).
@Suite("ABSE encrypt: parallel columns against the naive sum")
struct ABSEParallelTests {
    /// Σ_i scalars_i · basis[i][j] over every row but η, by single multiplications.
    static func naiveVector(_ scalars: [BLS12381.Scalar], _ pp: ABSE.PublicParameters) -> [BLS12381.G1] {
        let dim = pp.dimension
        let eta = 2 * pp.slotCount + 3
        let rows = (0..<dim).filter { $0 != eta }
        return (0..<dim).map { j in
            var acc = BLS12381.G1.identity
            for (k, i) in rows.enumerated() { acc = acc + pp.basis[i][j] * scalars[k] }
            return acc
        }
    }

    @Test(arguments: [1, 2, 3, 8])
    func columnsAndPowerMatchTheReference(workers: Int) throws {
        let (pp, _) = try ABSE.setup(slotCount: 3)
        let dim = pp.dimension
        // Random scalars with a zero (a wildcard's coefficients) and r − 1 mixed in.
        var scalars = (0..<(dim - 1)).map { _ in BLS12381.Scalar.random() }
        scalars[1] = .zero
        scalars[2] = -BLS12381.Scalar.one
        let z = BLS12381.Scalar.random()
        let (vector, gt) = ABSE.columnsAndPower(scalars, z, pp, workers: workers)
        #expect(vector == Self.naiveVector(scalars, pp))
        #expect(gt == pp.gtPsi.power(z))
    }

    @Test func encryptWithAnyThreadCountIsTestCompatible() throws {
        let (pp, mk) = try ABSE.setup(slotCount: 4)
        let key = try ABSE.issueAttributeKey(master: mk, attributes: ["a", "b", "c", "d"])
        let hit = ABSE.trapdoor(keyword: "kw", attributeKey: key)
        let miss = ABSE.trapdoor(keyword: "other", attributeKey: key)
        for workers in [1, 2, 5, ABSE.defaultWorkers] {
            let e = try ABSE.encrypt(
                keyword: "kw", token: [9, 9], policy: ["a", nil, "c", nil], publicParameters: pp,
                workers: workers)
            #expect(ABSE.test(e, hit, publicParameters: pp) == [9, 9], "workers \(workers)")
            #expect(ABSE.test(e, miss, publicParameters: pp) == nil, "workers \(workers)")
        }
    }

    @Test func parallelForRunsEveryItemOnce() {
        final class Counts: @unchecked Sendable {
            let slots = UnsafeMutableBufferPointer<Int>.allocate(capacity: 23)
            init() { slots.initialize(repeating: 0) }
            deinit { slots.deallocate() }
        }
        for workers in [1, 2, 4, 40] {
            let counts = Counts()
            parallelFor(items: 23, workers: workers) { counts.slots[$0] += 1 }
            #expect(Array(counts.slots) == [Int](repeating: 1, count: 23), "workers \(workers)")
        }
    }
}
