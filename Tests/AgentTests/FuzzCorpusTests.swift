import Foundation
import FuzzHarnesses
import Testing

/// Replays the fuzzing seed corpus (`Tests/Fuzz/Corpus`, plus crashes libFuzzer found, saved
/// there once fixed) through the same entry points `scripts/fuzz.sh` drives: no input may
/// break an invariant, and each harness must see both accepted and refused inputs (so the
/// decoders really run).
@Suite struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fuzz/Corpus").standardized.path

    /// The corpus inputs of `harness`: the stored ones, and the seeds the harness builds
    /// (signed and binary inputs), each also cut short and with one byte flipped.
    static func inputs(_ harness: FuzzHarnesses.Harness) throws -> [(String, [UInt8])] {
        let folder = corpus + "/" + harness.rawValue
        var inputs: [(String, [UInt8])] = []
        if FileManager.default.fileExists(atPath: folder) {
            for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() {
                inputs.append((name, Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)))))
            }
        }
        let seeds = FuzzHarnesses.generatedSeeds(harness)
        inputs += seeds.enumerated().map { ("generated-\($0.offset)", $0.element) }
        // Each seed cut short and with one byte flipped: refused, never a trap.
        inputs += seeds.map { ("truncated", Array($0.dropLast())) }
        inputs += seeds.map { seed in
            ("flipped", seed.enumerated().map { $0.offset == seed.count / 2 ? ~$0.element : $0.element })
        }
        return inputs
    }

    @Test(arguments: FuzzHarnesses.Harness.allCases)
    func corpusReplaysWithoutViolations(_ harness: FuzzHarnesses.Harness) throws {
        let inputs = try Self.inputs(harness)
        #expect(inputs.count >= 4, "the \(harness.rawValue) corpus is missing")
        var outcomes: Set<String> = []
        for (name, bytes) in inputs {
            do {
                outcomes.insert("\(try FuzzHarnesses.run(harness, bytes))")
            } catch {
                Issue.record("\(harness.rawValue)/\(name): \(error)")
            }
        }
        #expect(outcomes == ["accepted", "refused"], "\(harness.rawValue): \(outcomes)")
    }
}
