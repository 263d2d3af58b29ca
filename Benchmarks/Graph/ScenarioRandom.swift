import Foundation
import SeededRandom

/// A seeded generator (``SplitMix64``) with the draws the scenarios make, so a scenario is the
/// same for the same seed.
struct ScenarioRandom: RandomNumberGenerator {
    private var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

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
