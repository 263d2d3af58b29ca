import AgriTraceCore
import Foundation
import Testing

/// The example readings in `examples/readings.jsonl` are part of the documentation: they must
/// all be valid, cover all six stages, and link lots along the chain.
@Suite struct ExampleReadingsTests {
    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../examples/readings.jsonl"
    ).standardized

    @Test func everyExampleParsesCoversEveryStageAndLinksLots() throws {
        let text = try String(contentsOf: Self.url, encoding: .utf8)
        let readings = try text.split(separator: "\n").map { line throws(ReadingError) in
            try Reading.parse(jsonLine: Array(line.utf8))
        }
        #expect(Set(readings.map(\.stage)) == Set(Stage.allCases))
        for (earlier, later) in zip(readings, readings.dropFirst()) {
            #expect(later.inputLots.contains(earlier.lot), "\(later.lot) should consume \(earlier.lot)")
        }
        let classifier = Classifier(identity: Fixtures.identity)
        for reading in readings {
            let classified = classifier.classify(reading, sequence: 1, bootID: "b", recordedAt: .now())
            #expect(
                classified.level1 != nil && classified.level2 != nil,
                "\(reading.stage): examples should show all three levels")
        }
    }
}
