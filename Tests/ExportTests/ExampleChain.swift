import AgriTraceCore
import Crypto
import Foundation
import Ingest
import Ledger
import TestSupport

/// The example chain (`examples/readings.jsonl`, one lot per stage, each stage's lot made
/// from the previous one) on a real ledger store: every reading parsed and classified as the
/// agent does, signed in a batch by its own registered device, admitted and cut into blocks.
struct ExampleChain {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardized
    /// The official GS1 schema, beside the repository (never copied into it).
    static let schema = repository.appendingPathComponent("../shared/standards/gs1-epcis/EPCIS-JSON-Schema.json")
        .standardized.path

    /// Who records each stage: enterprise, device and GS1 company prefix.
    static let parties: [Stage: (enterprise: String, device: String, prefix: String)] = [
        .breeding: ("SEED1", "seed-box-01", "0614141"), .planting: ("FARM1", "farm-box-01", "0614142"),
        .processing: ("ZS123", "plant-box-01", "0614143"), .warehousing: ("NCC1", "warehouse-box-01", "0614144"),
        .transport: ("LOGI1", "truck-01", "0614145"), .sales: ("MKT1", "store-box-01", "0614146"),
    ]

    let directory: TemporaryDirectory
    let authority = Curve25519.Signing.PrivateKey()
    let ledger: Ledger
    /// The classified readings in chain order: the owners' own private values.
    var classified: [ClassifiedReading] = []
    var path: String { directory.file("ledger.sqlite") }

    init() throws {
        directory = try TemporaryDirectory(prefix: "agritrace-export")
        ledger = try Ledger(
            path: directory.file("ledger.sqlite"), authority: authority, configuration: .init(synchronous: .normal))
        for reading in try Self.readings() {
            let party = Self.parties[reading.stage]!
            classified.append(try commit(reading, enterprise: party.enterprise, device: party.device))
        }
    }

    /// The readings of `examples/readings.jsonl`, one per stage in chain order.
    static func readings() throws -> [Reading] {
        let text = try String(
            contentsOf: Self.repository.appendingPathComponent("examples/readings.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { try Reading.parse(jsonLine: Array($0.utf8)) }
    }

    /// Registers a new device `device` of `enterprise`, then classifies `reading` on it, signs it
    /// in a batch of its own and commits it in a block.
    @discardableResult
    func commit(_ reading: Reading, enterprise: String, device: String) throws -> ClassifiedReading {
        let key = Curve25519.Signing.PrivateKey()
        try ledger.admit(registry: registration(enterprise, device, key, reading.stage))
        try ledger.cutBlock()
        let classifier = Classifier(
            identity: DeviceIdentity(enterprise: enterprise, device: device, enrolledAt: Timestamp(milliseconds: 0)))
        let item = classifier.classify(reading, sequence: 1, bootID: "boot-1", recordedAt: .now())
        let batch = try Signed(
            RecordBatch(enterprise: enterprise, device: device, sentAt: .now(), records: [item.record]),
            domain: .recordBatch, key: key)
        let answer = ledger.admit(
            topic: Wire.recordTopic(enterprise: enterprise, device: device), payload: Canonical.encode(batch))
        guard answer?.rejections.isEmpty ?? true, try ledger.cutBlock() != nil else {
            throw ExportError(value: "reading of \(reading.lot)", problem: "was not committed", fix: "see the ledger")
        }
        return item
    }

    func registration(_ enterprise: String, _ device: String, _ key: Curve25519.Signing.PrivateKey, _ stage: Stage)
        throws -> Signed<RegistryTransaction>
    {
        try SignedRegistry.addDevice(
            enterprise: enterprise, device: device, key: key.publicKey, stage: stage, authority: authority)
    }

    /// A GS1 key of `digits` digits under `prefix` with a correct check digit.
    static func key(_ prefix: String, item: Int, digits: Int) -> String {
        let reference = String(item)
        let padding = digits - 1 - prefix.count - reference.count - (digits == 14 ? 1 : 0)
        let body = (digits == 14 ? "1" : "") + prefix + String(repeating: "0", count: padding) + reference
        return body + String(GS1Identifiers.checkDigit(of: body))
    }

    /// A site file giving every enterprise a GLN and a GTIN for fresh corn (and its unit).
    static func siteFile(in directory: TemporaryDirectory, leaving missing: String? = nil) throws -> String {
        var enterprises: [String: Any] = [:]
        for (_, party) in parties {
            var entry: [String: Any] = [
                "companyPrefix": party.prefix, "gln": key(party.prefix, item: 1, digits: 13),
                "readPoints": [party.device: key(party.prefix, item: 2, digits: 13)], "units": ["fresh corn": "kg"],
            ]
            if party.enterprise != missing {
                entry["products"] = ["fresh corn": key(party.prefix, item: 7, digits: 14)]
            }
            enterprises[party.enterprise] = entry
        }
        let file = directory.file(missing == nil ? "site.json" : "site-partial.json")
        try JSONSerialization.data(withJSONObject: ["enterprises": enterprises]).write(to: URL(fileURLWithPath: file))
        return file
    }
}

/// Validates JSON documents against the official EPCIS 2.0 JSON Schema with Python's
/// `jsonschema` (draft 7, `uri` formats checked with `rfc3987`, `date-time` as RFC 3339).
/// A missing validator is a failure, not a skip: scripts/install-deps.sh installs it.
enum SchemaValidator {
    static let script = #"""
        import json, re, sys
        try:
            import jsonschema, rfc3987
        except ImportError as missing:
            print("VALIDATOR MISSING: %s (scripts/install-deps.sh installs python3-jsonschema python3-rfc3987)" % missing, file=sys.stderr)
            sys.exit(3)
        schema = json.load(open(sys.argv[1]))
        document = json.load(open(sys.argv[2]))
        checker = jsonschema.FormatChecker()
        @checker.checks("date-time")
        def date_time(value):
            pattern = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})"
            return not isinstance(value, str) or re.fullmatch(pattern, value) is not None
        @checker.checks("uri")
        def uri(value):
            return not isinstance(value, str) or rfc3987.match(value, rule="URI") is not None
        validator = jsonschema.Draft7Validator(schema, format_checker=checker)
        errors = list(validator.iter_errors(document))
        for error in errors[:10]:
            print("/".join(map(str, error.absolute_path)), "-", error.message[:400], file=sys.stderr)
        print("VALID" if not errors else "INVALID: %d errors" % len(errors), file=sys.stdout if not errors else sys.stderr)
        sys.exit(1 if errors else 0)
        """#

    /// The validator's verdict on `file`: (valid, its report).
    static func validate(_ file: String) throws -> (valid: Bool, report: String) {
        do {
            let output = try runCommand("python3", ["-c", script, ExampleChain.schema, file])
            return (output.hasPrefix("VALID"), output)
        } catch let error as CommandError {
            return (false, "\(error)")
        }
    }
}
