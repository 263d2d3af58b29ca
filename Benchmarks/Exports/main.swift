// bench-exports: EPCIS export of one six-stage lot, the FSMA 204 spreadsheet of one month and
// the EPCIS query interface's latency, on a real ledger store holding the example chain and
// `--records` synthetic records spread over that month. Run in release: scripts/bench-exports.sh.
import AgriTraceCore
import Crypto
import Exports
import Foundation
import Ledger

let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count, let value = Int(arguments[index + 1])
    else { return fallback }
    return value
}
let fillerRecords = option("--records", 200_000)
let runs = option("--runs", 30)
let july = Timestamp(iso8601: "2026-07-01T00:00:00Z")!
let august = Timestamp(iso8601: "2026-08-01T00:00:00Z")!

func log(_ text: String) { FileHandle.standardError.write(Data(("bench: " + text + "\n").utf8)) }

/// Classifies, signs and admits `readings` as one device's batches, cutting a block per batch.
func ingest(
    _ ledger: Ledger, authority: Curve25519.Signing.PrivateKey, enterprise: String, device: String,
    stage: Stage, readings: [Reading]
) throws {
    let key = Curve25519.Signing.PrivateKey()
    try ledger.admit(
        registry: try Signed(
            RegistryTransaction(
                operation: .addDevice(
                    enterprise: enterprise, device: device, publicKey: Array(key.publicKey.rawRepresentation),
                    stage: stage), submittedAt: .now(), nonce: UInt64.random(in: 0...UInt64.max)),
            domain: .transaction, key: authority))
    try ledger.cutBlock()
    let classifier = Classifier(
        identity: DeviceIdentity(enterprise: enterprise, device: device, enrolledAt: Timestamp(milliseconds: 0)))
    var sequence: UInt64 = 0
    for chunk in stride(from: 0, to: readings.count, by: 1000) {
        let records = readings[chunk..<min(chunk + 1000, readings.count)].map { reading in
            sequence += 1
            return classifier.classify(reading, sequence: sequence, bootID: "bench", recordedAt: .now()).record
        }
        let batch = try Signed(
            RecordBatch(enterprise: enterprise, device: device, sentAt: .now(), records: records),
            domain: .recordBatch, key: key)
        _ = ledger.admit(
            topic: Wire.recordTopic(enterprise: enterprise, device: device), payload: Canonical.encode(batch))
        try ledger.cutBlock()
    }
}

/// Milliseconds of each of `count` runs of `body`, after one warm-up run.
func time(_ count: Int, _ body: () throws -> Void) rethrows -> [Double] {
    try body()
    return try (0..<count).map { _ in
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    }
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

let directory = NSTemporaryDirectory() + "agritrace-bench-exports-\(getpid())"
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
let authority = Curve25519.Signing.PrivateKey()
let ledger = try Ledger(
    path: directory + "/ledger.sqlite", authority: authority, configuration: .init(synchronous: .normal))
let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
    "../../examples/readings.jsonl")
for (index, line) in try String(contentsOf: examples, encoding: .utf8).split(separator: "\n").enumerated() {
    let reading = try Reading.parse(jsonLine: Array(line.utf8))
    try ingest(
        ledger, authority: authority, enterprise: "E\(index)", device: "box-\(index)", stage: reading.stage,
        readings: [reading])
}
let span = august.milliseconds - july.milliseconds
let filler = (0..<fillerRecords).map { index in
    Reading(
        stage: .warehousing, lot: "WH-F-\(index / 10)", product: "fresh corn",
        time: Timestamp(milliseconds: july.milliseconds + Int64(index) * span / Int64(max(fillerRecords, 1))),
        inputLots: ["PR-F-\(index / 100)"],
        fields: [
            "warehousing.warehousing_enterprise": .text("Northern Cold Chain"),
            "warehousing.storage_location": .text("row \(index % 40)"),
            "warehousing.inventory_status": .text("\(index % 900) cases"),
        ])
}
log("ingesting \(fillerRecords) filler records")
try ingest(ledger, authority: authority, enterprise: "NCC", device: "wh-1", stage: .warehousing, readings: filler)
let store = try LedgerStore(path: directory + "/ledger.sqlite", readOnly: true)

let exporter = EPCISExporter(store: store)
var bytes = 0
let epcis = try time(runs) {
    bytes = try exporter.document(.lot("SA-2026-5521", .backward)).jsonBytes().count
}
var rows = 0
let fsma = try time(max(3, runs / 10)) {
    let records = try exporter.records(.window(since: july, until: august))
    rows = try FSMA204Exporter(store: store).csv(records).count
}
var queryTimes: [Double] = []
var lookupTimes: [Double] = []
let ids = try exporter.records(.window(since: july, until: august)).map(\.record.id)
for index in 0..<(runs * 10) {
    let start = july.milliseconds + Int64(index) * span / Int64(runs * 10)
    let query = try EPCISQuery.parse([
        ("EQ_bizStep", "storing"), ("GE_eventTime", Timestamp(milliseconds: start).iso8601), ("perPage", "30"),
    ])
    queryTimes += try time(1) { _ = try exporter.answer(query).events.count }
    let id = ids[index * 7919 % ids.count]
    lookupTimes += try time(1) { _ = try exporter.events([try exporter.record(id)!]) }
}
func row(_ name: String, _ values: [Double], _ note: String) -> String {
    String(
        format: "| %@ | %.2f | %.2f | %.2f | %@ |", name, percentile(values, 0.5), percentile(values, 0.99),
        values.max() ?? 0, note)
}
print("Store: \(fillerRecords + 6) records (\(fillerRecords) over July 2026 plus the six-stage example chain).\n")
print("| what | p50 ms | p99 ms | max ms | notes |")
print("|---|---|---|---|---|")
print(row("EPCIS export of SA-2026-5521 --backward (6 events)", epcis, "\(runs) runs, \(bytes) bytes of JSON"))
print(row("FSMA 204 spreadsheet of July 2026", fsma, "\(fsma.count) runs, \(rows) characters of CSV"))
print(
    row(
        "GET /epcis/events query (EQ_bizStep, GE_eventTime, perPage=30)", queryTimes,
        "\(queryTimes.count) queries, in process (no HTTP)"))
print(row("GET /epcis/events/{eventID} lookup", lookupTimes, "\(lookupTimes.count) lookups, in process (no HTTP)"))
try? FileManager.default.removeItem(atPath: directory)
