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
        /// The aggregator's batch decoder as `serve` runs it on an MQTT payload, against
        /// `Canonical.decode` (differential).
        case batch
        /// A saved inclusion proof (JSON) as `agritrace verify-proof` reads and checks it.
        case proof
        /// A saved tree head (JSON) as `verify-proof --tree-head` and `consistency` read it.
        case treehead
        /// The bodies of the API's write routes (canonical signed transactions, key deliveries).
        case api
        /// The query string of the EPCIS interface (`GET /epcis/events`).
        case query
    }

    /// What a decoder did with an input.
    public enum Outcome: Equatable, Sendable {
        case accepted
        case refused
    }

    /// An invariant that does not hold for an input.
    public struct Violation: Error, CustomStringConvertible {
        public var description: String

        init(_ description: String) { self.description = description }
    }

    /// Runs `harness` on `bytes`.
    public static func run(_ harness: Harness, _ bytes: [UInt8]) throws(Violation) -> Outcome {
        switch harness {
        case .readings: try readings(bytes)
        case .wire: try wire(bytes)
        case .config: config(bytes)
        case .batch: try batch(bytes)
        case .proof: try proof(bytes)
        case .treehead: try treeHead(bytes)
        case .api: try apiBody(bytes)
        case .query: try epcisQuery(bytes)
        }
    }

    static let fastPath = ReadingFastPath(catalog: .standard)

    /// The fast path may decline any line, but a line it takes must be the general parser's
    /// reading, field for field.
    static func readings(_ bytes: [UInt8]) throws(Violation) -> Outcome {
        let general = try? JSONLineParser.reading(bytes, catalog: .standard)
        guard let split = fastPath.parse(bytes) else { return general == nil ? .refused : .accepted }
        guard let general else { throw Violation("the fast path took a line the general parser refuses") }
        let entries = split.publicFields + split.level2 + split.level1
        var fields: [String: FieldValue] = [:]
        for entry in entries { fields[entry.key] = entry.value }
        let fast = Reading(
            stage: split.stage, lot: split.lot, product: split.product, device: split.device, time: split.time,
            inputLots: split.inputLots, fields: fields)
        guard fast == general, entries.count == fields.count else {
            throw Violation("the parsers disagree: fast \(fast) general \(general)")
        }
        return .accepted
    }

    /// Every wire type that decodes must re-encode to exactly the input (one encoding per
    /// value): the MQTT payloads both ways (record batches, receipts, blob uploads, pieces and
    /// acknowledgements) and what they carry.
    static func wire(_ bytes: [UInt8]) throws(Violation) -> Outcome {
        var accepted = try decodesCanonically(Signed<RecordBatch>.self, bytes)
        accepted = try decodesCanonically(Signed<ReceiptBatch>.self, bytes) || accepted
        accepted = try decodesCanonically(Record.self, bytes) || accepted
        accepted = try decodesCanonically(LogEntry.self, bytes) || accepted
        accepted = try decodesCanonically(Signed<BlockHeader>.self, bytes) || accepted
        accepted = try decodesCanonically(BlobUpload.self, bytes) || accepted
        accepted = try decodesCanonically(BlobPiece.self, bytes) || accepted
        accepted = try decodesCanonically(Signed<BlobAck>.self, bytes) || accepted
        return accepted ? .accepted : .refused
    }

    /// The configuration parser must accept or refuse with an error, never trap.
    static func config(_ bytes: [UInt8]) -> Outcome {
        guard let text = String(validating: bytes, as: UTF8.self) else { return .refused }
        return (try? AgentConfiguration.parse(text, baseDirectory: "/nonexistent")) == nil ? .refused : .accepted
    }

    /// The seeds built here for `harness` (binary and signed inputs: no binary files in the
    /// repository; the stored ones are in `Tests/Fuzz/Corpus/<harness>/`).
    public static func generatedSeeds(_ harness: Harness) -> [[UInt8]] {
        switch harness {
        case .readings, .config, .query: []
        case .wire: FuzzSeeds.wire()
        case .batch: FuzzSeeds.batches()
        case .proof: FuzzSeeds.proofs()
        case .treehead: FuzzSeeds.treeHeads()
        case .api: FuzzSeeds.apiBodies()
        }
    }
}
