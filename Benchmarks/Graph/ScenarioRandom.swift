import Foundation

/// SplitMix64: a small seeded generator, so a scenario is the same for the same seed.
struct ScenarioRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &self) < probability }
    mutating func double(_ range: Range<Double>) -> Double { Double.random(in: range, using: &self) }

    /// A Poisson count with mean `mean` (Knuth; small means).
    mutating func poisson(_ mean: Double) -> Int {
        let limit = Foundation.exp(-mean)
        var product = 1.0
        var count = -1
        repeat {
            count += 1
            product *= double(0..<1)
        } while product > limit
        return count
    }
}
