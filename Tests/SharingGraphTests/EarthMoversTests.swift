import PropertyBased
import SharingGraph
import Testing

@Suite("Earth Mover's distance: hand-worked examples")
struct EarthMoversTests {
    @Test func allMassAcrossTheRange() throws {
        // CDFs (1, 1) and (0, 0) over the first two bins: |1-0| + |1-0| = 2 bins.
        #expect(try EarthMovers.distance([1, 0, 0], [0, 0, 1]) == 2)
        #expect(try EarthMovers.distance([1, 0, 0], [0, 0, 1], binWidth: 2.5) == 5)
    }

    @Test func halfTheMassOneBin() throws {
        // (0.5, 0.5) against (1, 0): half the mass moves one bin.
        #expect(try EarthMovers.distance([1, 1], [2, 0]) == 0.5)
    }

    @Test func splitToBothNeighbours() throws {
        // (0, 1, 0) against (0.5, 0, 0.5): 0.5 one bin left, 0.5 one bin right = 1.
        #expect(try EarthMovers.distance([0, 1, 0], [0.5, 0, 0.5]) == 1)
    }

    @Test func reversedRamp() throws {
        // p = (.1 .2 .3 .4), q = (.4 .3 .2 .1): CDF gaps .3, .4, .3.
        let distance = try EarthMovers.distance([1, 2, 3, 4], [4, 3, 2, 1])
        #expect(abs(distance - 1.0) < 1e-12)
    }

    @Test func volumeDoesNotCount() throws {
        #expect(try EarthMovers.distance([2, 0, 0], [0, 0, 3]) == 2)
        #expect(try EarthMovers.distance([3, 1], [300, 100]) == 0)
    }

    @Test func emptyHistograms() throws {
        #expect(try EarthMovers.distance([0, 0, 0, 0], [0, 0, 0, 0]) == 0)
        #expect(try EarthMovers.distance([0, 0, 0, 0], [0, 5, 0, 0]) == 3)
        #expect(EarthMovers.maximum(bins: 24) == 23)
    }

    @Test func normalizedAndProfile() throws {
        #expect(try EarthMovers.normalizedDistance([1, 0, 0, 0, 0], [0, 0, 0, 0, 1]) == 1)
        #expect(try EarthMovers.normalizedDistance([1, 0, 0, 0, 0], [0, 1, 0, 0, 0]) == 0.25)
        // Feature 1 moved all the way (1), feature 2 not at all (0): mean 0.5; weighted 3:1 → 0.75.
        #expect(try EarthMovers.profileDistance([[1, 0], [0, 1]], [[0, 1], [0, 1]]) == 0.5)
        #expect(try EarthMovers.profileDistance([[1, 0], [0, 1]], [[0, 1], [0, 1]], weights: [3, 1]) == 0.75)
    }

    @Test func badInputIsNamed() throws {
        #expect(throws: EarthMovers.Failure.binCountMismatch(left: 2, right: 3)) {
            try EarthMovers.distance([1, 0], [1, 0, 0])
        }
        #expect(throws: EarthMovers.Failure.invalidMass(bin: 1, value: -1)) {
            try EarthMovers.distance([1, -1], [1, 0])
        }
        #expect(throws: EarthMovers.Failure.invalidMass(bin: 0, value: .infinity)) {
            try EarthMovers.distance([1, 0], [.infinity, 0])
        }
        #expect(throws: EarthMovers.Failure.invalidBinWidth(0)) { try EarthMovers.distance([1], [1], binWidth: 0) }
        #expect(EarthMovers.Failure.binCountMismatch(left: 2, right: 3).description.contains("same bins"))
    }
}

@Suite("Earth Mover's distance: metric properties")
struct EarthMoversPropertyTests {
    /// Random histograms over 8 bins (masses 0...20, so empty ones and ties occur).
    static let histogram = Gen.int(in: 0...20).array(of: 8)

    @Test func zeroToItself() async {
        await propertyCheck(count: 300, input: Self.histogram) { counts in
            let p = counts.map(Double.init)
            let itself = try EarthMovers.distance(p, p)
            let scaled = try EarthMovers.distance(p, p.map { $0 * 7 })
            #expect(itself == 0)
            // Scaled copies have the same shape.
            #expect(abs(scaled) < 1e-9)
        }
    }

    @Test func symmetric() async {
        await propertyCheck(count: 300, input: Self.histogram, Self.histogram) { a, b in
            let p = a.map(Double.init)
            let q = b.map(Double.init)
            let there = try EarthMovers.distance(p, q)
            let back = try EarthMovers.distance(q, p)
            #expect(abs(there - back) < 1e-12)
        }
    }

    @Test func triangleInequality() async {
        await propertyCheck(count: 500, input: Self.histogram, Self.histogram, Self.histogram) { a, b, c in
            let (p, q, r) = (a.map(Double.init), b.map(Double.init), c.map(Double.init))
            let direct = try EarthMovers.distance(p, r)
            let detour = try EarthMovers.distance(p, q) + EarthMovers.distance(q, r)
            #expect(direct <= detour + 1e-9)
        }
    }

    @Test func boundedByTheMaximum() async {
        await propertyCheck(count: 300, input: Self.histogram, Self.histogram) { a, b in
            let d = try EarthMovers.distance(a.map(Double.init), b.map(Double.init))
            #expect(d >= 0 && d <= EarthMovers.maximum(bins: 8) + 1e-12)
        }
    }
}
