import AgriTraceCore
import EdgeAgent

/// The decoders that take bytes from outside, as libFuzzer harnesses (`scripts/fuzz.sh`) and
/// as the entry points the test suite replays the seed corpus through (`Tests/Fuzz/Corpus`).
///
/// A harness returns whether its decoder accepted the input, and throws ``Violation`` when an
/// invariant broke (a crash is the other failure libFuzzer sees).
public enum FuzzHarnesses {
    /// The harnesses, named as the corpus folders are.
    public enum Harness: String, CaseIterable, Sendable {
        /// A reading line: the fast path against the general parser (differential).
        case readings
        /// Canonical decoding of the wire types: what decodes re-encodes to the same bytes.
        case wire
        /// The agent's TOML configuration.
        case config
    }

    /// What a decoder did with an input.
    public enum Outcome: Equatable, Sendable {
        case accepted
        case refused
    }

    /// An invariant that does not hold for an input.
    public struct Violation: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs `harness` on `bytes`.
    public static func run(_ harness: Harness, _ bytes: [UInt8]) throws(Violation) -> Outcome {
        switch harness {
        case .readings: try readings(bytes)
        case .wire: try wire(bytes)
        case .config: config(bytes)
        }
    }

    static let fastPath = ReadingFastPath(catalog: .standard)

    /// The fast path may decline any line, but a line it takes must be the general parser's
    /// reading, field for field.
    static func readings(_ bytes: [UInt8]) throws(Violation) -> Outcome {
        let general = try? JSONLineParser.reading(bytes, catalog: .standard)
        guard let split = fastPath.parse(bytes) else { return general == nil ? .refused : .accepted }
        guard let general else { throw Violation(description: "the fast path took a line the general parser refuses") }
        let entries = split.publicFields + split.level2 + split.level1
        var fields: [String: FieldValue] = [:]
        for entry in entries { fields[entry.key] = entry.value }
        let fast = Reading(
            stage: split.stage, lot: split.lot, product: split.product, device: split.device, time: split.time,
            inputLots: split.inputLots, fields: fields)
        guard fast == general, entries.count == fields.count else {
            throw Violation(description: "the parsers disagree: fast \(fast) general \(general)")
        }
        return .accepted
    }

    /// Every wire type that decodes must re-encode to exactly the input (one encoding per value).
    static func wire(_ bytes: [UInt8]) throws(Violation) -> Outcome {
        var accepted = false
        func check<Value: CanonicalCodable>(_ type: Value.Type) throws(Violation) {
            guard let value = try? Canonical.decode(type, from: bytes) else { return }
            accepted = true
            guard Canonical.encode(value) == bytes else {
                throw Violation(description: "\(type) decoded from bytes it does not encode to")
            }
        }
        try check(Signed<RecordBatch>.self)
        try check(Signed<ReceiptBatch>.self)
        try check(Record.self)
        try check(LogEntry.self)
        try check(Signed<BlockHeader>.self)
        return accepted ? .accepted : .refused
    }

    /// The configuration parser must accept or refuse with an error, never trap.
    static func config(_ bytes: [UInt8]) -> Outcome {
        guard let text = String(validating: bytes, as: UTF8.self) else { return .refused }
        return (try? AgentConfiguration.parse(text, baseDirectory: "/nonexistent")) == nil ? .refused : .accepted
    }

    /// Canonical encodings of each wire type, built here (the `wire` seeds: no binary files in
    /// the repository). Signatures are placeholders: decoding does not check them.
    public static func generatedWireSeeds() -> [[UInt8]] {
        let classifier = Classifier(
            identity: DeviceIdentity(enterprise: "FARM1", device: "box-1", enrolledAt: Timestamp(milliseconds: 0)))
        let reading = Reading(
            stage: .planting, lot: "PL-1", product: "fresh corn", time: Timestamp(milliseconds: 1_777_624_200_000),
            inputLots: ["BR-1"],
            fields: [
                "planting.variety": .text("JD-101"), "planting.planted_quantity": .number(1200),
                "planting.cost_price": .number(1.85),
            ])
        let record = classifier.classify(
            reading, sequence: 1, bootID: "boot", recordedAt: Timestamp(milliseconds: 1_777_624_201_000)
        ).record
        let signature = [UInt8](repeating: 7, count: 64)
        let batch = Signed(
            value: RecordBatch(
                enterprise: "FARM1", device: "box-1", sentAt: Timestamp(milliseconds: 1_777_624_202_000),
                records: [record]),
            signature: signature)
        let header = Signed(
            value: BlockHeader(
                height: 2, previousHash: .zero, transactionRoot: .zero, transactionCount: 1, logSize: 2,
                logRoot: .zero, time: Timestamp(milliseconds: 1_777_624_203_000), proposer: "node-1"),
            signature: signature)
        let receipts = Signed(
            value: ReceiptBatch(
                receipts: [
                    Receipt(recordID: record.id, height: 2, leafIndex: 1, inclusionProof: [.zero], treeHead: header)
                ],
                rejections: [Rejection(recordID: nil, code: "unknown-device", reason: "not registered")]),
            signature: signature)
        return [
            Canonical.encode(batch), Canonical.encode(receipts), Canonical.encode(record),
            Canonical.encode(LogEntry.record(record)), Canonical.encode(header),
        ]
    }
}
