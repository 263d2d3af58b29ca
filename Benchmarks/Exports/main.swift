// bench-exports: EPCIS export of one six-stage lot, the FSMA 204 spreadsheet of one month and
// the EPCIS query interface's latency, on a real ledger store holding the example chain and
// `--records` synthetic records spread over that month. Run in release: scripts/bench-exports.sh.
import AgriTraceCore
import Crypto
import Exports
import Foundation
import Ingest
import Ledger
import TestSupport

let arguments = CommandLine.arguments
func textOption(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
let fillerRecords = benchmarkOption("--records", 200_000)
let months = benchmarkOption("--months", 12)
let runs = benchmarkOption("--runs", 30)
/// `--keep DIR`: build the store in DIR and keep it; a later run with the same DIR reuses it.
let keep = textOption("--keep")
let january = Timestamp(iso8601: "2026-01-01T00:00:00Z")!
let july = Timestamp(iso8601: "2026-07-01T00:00:00Z")!
let august = Timestamp(iso8601: "2026-08-01T00:00:00Z")!

func log(_ text: String) { FileHandle.standardError.write(Data(("bench: " + text + "\n").utf8)) }

/// One device of the bench ledger: its key, classifier and next sequence number.
struct BenchDevice {
    let enterprise: String
    let device: String
    let key = Curve25519.Signing.PrivateKey()
    let classifier: Classifier
    var sequence: UInt64 = 0

    /// Registers the device (signed by `authority`) and cuts the block.
    init(_ ledger: Ledger, authority: Curve25519.Signing.PrivateKey, enterprise: String, device: String, stage: Stage)
        throws
    {
        self.enterprise = enterprise
        self.device = device
        classifier = Classifier(
            identity: DeviceIdentity(enterprise: enterprise, device: device, enrolledAt: Timestamp(milliseconds: 0)))
        try ledger.admit(
            registry: try SignedRegistry.addDevice(
                enterprise: enterprise, device: device, key: key.publicKey, stage: stage, authority: authority))
        try ledger.cutBlock()
    }

    /// Classifies and signs `readings` as one batch and admits it as `serve` would (no block cut).
    mutating func send(_ readings: [Reading], to ledger: Ledger) throws {
        let records = readings.map { reading in
            sequence += 1
            return classifier.classify(reading, sequence: sequence, bootID: "bench", recordedAt: .now()).record
        }
        try send(records: records, to: ledger)
    }

    /// Sends records made from `template` (one real classification) with each one's lot, time and
    /// input lots: the filler costs the ledger's admission, not the edge's salting (its
    /// commitments repeat the template's, which the exports only copy).
    mutating func send(
        _ template: Record, variants: [(lot: String, time: Timestamp, inputs: [String])], to ledger: Ledger
    )
        throws
    {
        let records = variants.map { variant in
            sequence += 1
            var record = template
            record.sequence = sequence
            record.id = RecordID.derive(enterprise: enterprise, device: device, sequence: sequence)
            record.lot = variant.lot
            record.time = variant.time
            record.inputLots = variant.inputs
            return record
        }
        try send(records: records, to: ledger)
    }

    private func send(records: [Record], to ledger: Ledger) throws {
        let batch = try Signed(
            RecordBatch(enterprise: enterprise, device: device, sentAt: .now(), records: records),
            domain: .recordBatch, key: key)
        _ = ledger.admit(
            topic: Wire.recordTopic(enterprise: enterprise, device: device), payload: Canonical.encode(batch))
    }
}

/// Builds the bench store at `path`: the six-stage example chain (one enterprise and device per
/// record), then `fillerRecords` records of linked five-stage chains (planting → processing →
/// warehousing → transport → sales, each stage its own enterprise's device, the example chain's
/// fields) spread evenly over `months` months from January 2026, 1,000 records per block.
func buildStore(at path: String, authority: Curve25519.Signing.PrivateKey) throws {
    let ledger = try Ledger(path: path, authority: authority, configuration: .init(synchronous: .normal))
    let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../examples/readings.jsonl")
    var templates: [Stage: Reading] = [:]
    for (index, line) in try String(contentsOf: examples, encoding: .utf8).split(separator: "\n").enumerated() {
        let reading = try Reading.parse(jsonLine: Array(line.utf8))
        templates[reading.stage] = reading
        var device = try BenchDevice(
            ledger, authority: authority, enterprise: "E\(index)", device: "box-\(index)", stage: reading.stage)
        try device.send([reading], to: ledger)
        try ledger.cutBlock()
    }
    let stages: [Stage] = [.planting, .processing, .warehousing, .transport, .sales]
    var devices = try stages.map {
        try BenchDevice(ledger, authority: authority, enterprise: "F-\($0.rawValue)", device: "d1", stage: $0)
    }
    let chains = fillerRecords / stages.count
    let end = Timestamp(
        iso8601: String(format: "%04d-%02d-01T00:00:00Z", 2026 + months / 12, 1 + months % 12))!
    let span = end.milliseconds - january.milliseconds
    let classified = stages.enumerated().map { position, stage in
        devices[position].classifier.classify(templates[stage]!, sequence: 0, bootID: "bench", recordedAt: .now())
            .record
    }
    let prefixes = stages.map { $0.rawValue.prefix(2).uppercased() }
    let chainsPerBlock = 200
    for first in stride(from: 0, to: chains, by: chainsPerBlock) {
        let range = first..<min(first + chainsPerBlock, chains)
        for position in stages.indices {
            let variants = range.map { chain in
                let time = january.milliseconds + Int64(chain) * span / Int64(max(chains, 1))
                return (
                    lot: "\(prefixes[position])-F-\(chain)",
                    time: Timestamp(milliseconds: time + Int64(position) * 3_600_000),
                    inputs: position == 0 ? [String]() : ["\(prefixes[position - 1])-F-\(chain)"]
                )
            }
            try devices[position].send(classified[position], variants: variants, to: ledger)
        }
        try ledger.cutBlock()
        if first % 200_000 == 0 { log("\(first * stages.count) filler records") }
    }
}

/// The wall-clock and CPU milliseconds (this process, user + system) of one timed run.
struct Sample {
    var wall: Double
    var cpu: Double
}

func cpuMilliseconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let user = Double(usage.ru_utime.tv_sec) * 1000 + Double(usage.ru_utime.tv_usec) / 1000
    let system = Double(usage.ru_stime.tv_sec) * 1000 + Double(usage.ru_stime.tv_usec) / 1000
    return user + system
}

/// Each of `count` runs of `body`, after one warm-up run.
func time(_ count: Int, _ body: () throws -> Void) rethrows -> [Sample] {
    try body()
    return try (0..<count).map { _ in
        let start = ContinuousClock.now
        let cpu = cpuMilliseconds()
        try body()
        let elapsed = ContinuousClock.now - start
        return Sample(
            wall: Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15,
            cpu: cpuMilliseconds() - cpu)
    }
}

let directory = keep ?? NSTemporaryDirectory() + "agritrace-bench-exports-\(getpid())"
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
let storePath = directory + "/ledger.sqlite"
if FileManager.default.fileExists(atPath: storePath) {
    log("reusing the store in \(directory) (opening it for writing once applies newer migrations)")
    _ = try LedgerStore(path: storePath, synchronous: .normal)
} else {
    log("building a store of \(fillerRecords) filler records over \(months) months")
    // The authority key is kept beside the store (hex, 0600, as `agritrace keygen` writes it) so
    // a kept store can be served and extended (principals for the console's page timings).
    let authority = Curve25519.Signing.PrivateKey()
    let keyText = authority.rawRepresentation.map { String(format: "%02x", $0) }.joined() + "\n"
    _ = FileManager.default.createFile(
        atPath: directory + "/authority.key", contents: Data(keyText.utf8), attributes: [.posixPermissions: 0o600])
    try buildStore(at: storePath, authority: authority)
}
let store = try LedgerStore(path: storePath, readOnly: true)
let leaves = try store.logSize()

let exporter = EPCISExporter(store: store)
var bytes = 0
let epcis = try time(runs) {
    bytes = try exporter.document(.lot("SA-2026-5521", .backward)).jsonBytes().count
}
var rows = 0
let fsma = try time(max(3, runs / 10)) {
    rows = 0
    try FSMA204Exporter(store: store).write(.window(since: july, until: august)) { rows += $0.count }
}
var queryTimes: [Sample] = []
var lookupTimes: [Sample] = []
let ids = try exporter.records(.window(since: july, until: august)).map(\.record.id)
for index in 0..<(runs * 10) {
    let start = july.milliseconds + Int64(index) * (august.milliseconds - july.milliseconds) / Int64(runs * 10)
    let query = try EPCISQuery.parse([
        ("EQ_bizStep", "storing"), ("GE_eventTime", Timestamp(milliseconds: start).iso8601), ("perPage", "30"),
    ])
    queryTimes += try time(1) { _ = try exporter.answer(query).events.count }
    let id = ids[index * 7919 % ids.count]
    lookupTimes += try time(1) { _ = try exporter.events([try exporter.record(id)!]) }
}
func row(_ name: String, _ samples: [Sample], _ note: String) -> String {
    let values = samples.map(\.wall)
    return String(
        format: "| %@ | %.2f | %.2f | %.2f | %.2f | %@ |", name, percentile(values, 0.5), percentile(values, 0.99),
        values.max() ?? 0, percentile(samples.map(\.cpu), 0.5), note)
}
print(
    "Store: \(leaves) ledger leaves (records and registrations: linked five-stage filler chains over \(months) months of 2026 plus the six-stage example chain); the spreadsheet and the queries are over July 2026 (\(ids.count) records).\n"
)
print("| what | p50 ms | p99 ms | max ms | CPU p50 ms | notes |")
print("|---|---|---|---|---|---|")
print(row("EPCIS export of SA-2026-5521 --backward (6 events)", epcis, "\(runs) runs, \(bytes) bytes of JSON"))
print(row("FSMA 204 spreadsheet of July 2026", fsma, "\(fsma.count) runs, \(rows) bytes of CSV"))
print(
    row(
        "GET /epcis/events query (EQ_bizStep, GE_eventTime, perPage=30)", queryTimes,
        "\(queryTimes.count) queries, in process (no HTTP)"))
print(row("GET /epcis/events/{eventID} lookup", lookupTimes, "\(lookupTimes.count) lookups, in process (no HTTP)"))
if keep == nil { try? FileManager.default.removeItem(atPath: directory) }
