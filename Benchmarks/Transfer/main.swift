import AccessFlow
import AgriTraceCore
import Blobs
import Crypto
import Foundation
import Ingest
import Ledger
import TestSupport

// Fetch-and-verify throughput of the off-chain transfer (docs/transfer.md), on a real ledger
// store and blob store in a temporary folder: for each transferred record, read the record
// and its blob reference from the ledger, read the blob file, unwrap the re-wrapped data key
// (X25519 HPKE), open the blob (AES-256-GCM) and check its hash and every value against the
// record's commitment (TransferRequester.fetch, as `agritrace fetch` runs it).
//
// Usage: bench-transfer [--records N] [--value-mb M] [--runs R] [--no-rss]
//   default: two scenarios, 1,000 records of ~1 KB level-2 values, and one 100 MB value; then
//   the requester's peak RSS fetching the 100 MB value, each in a child process (before: one
//   AES-GCM message opened in memory; after: a sealed stream opened and verified a segment at a
//   time, the value written to a file as `fetch --out` does).

struct Scenario {
    var records: Int
    var valueBytes: Int
}

func argument(_ name: String) -> Int? {
    guard let index = CommandLine.arguments.firstIndex(of: name), index + 1 < CommandLine.arguments.count else {
        return nil
    }
    return Int(CommandLine.arguments[index + 1])
}

let runs = argument("--runs") ?? 3
var scenarios = [Scenario(records: 1000, valueBytes: 1024), Scenario(records: 1, valueBytes: 100 * 1024 * 1024)]
if let records = argument("--records") {
    scenarios = [Scenario(records: records, valueBytes: (argument("--value-mb").map { $0 * 1024 * 1024 }) ?? 1024)]
}

/// Builds a scenario's ledger store and blob store in `folder`; the transfer row is at redeem
/// leaf 7. Returns the requester's key and the blob ids.
func prepare(_ scenario: Scenario, in folder: String, segmentSize: Int = SealedStream.defaultSegmentSize) throws
    -> (requester: Curve25519.KeyAgreement.PrivateKey, blobIDs: [Digest32])
{
    let path = folder + "/ledger.sqlite"
    let authority = Curve25519.Signing.PrivateKey()
    let box = Curve25519.Signing.PrivateKey()
    let owner = Curve25519.KeyAgreement.PrivateKey()
    let requester = Curve25519.KeyAgreement.PrivateKey()
    let ledger = try Ledger(path: path, authority: authority, configuration: .init(synchronous: .normal))
    try ledger.admit(
        registry: try SignedRegistry.addDevice(
            enterprise: "BENCH", device: "box", key: box.publicKey, stage: .planting, authority: authority, nonce: 1))
    try ledger.cutBlock()
    let classified = classifiedReadings(scenario)
    for chunk in stride(from: 0, to: classified.count, by: 200) {
        let batch = try Signed(
            RecordBatch(
                enterprise: "BENCH", device: "box", sentAt: .now(),
                records: classified[chunk..<min(chunk + 200, classified.count)].map(\.record)),
            domain: .recordBatch, key: box)
        _ = ledger.admit(topic: Wire.recordTopic(enterprise: "BENCH", device: "box"), payload: Canonical.encode(batch))
    }
    try ledger.cutBlock()
    let blobs = BlobStore(storePath: path)
    var keys: [WrappedDataKey] = []
    var blobIDs: [Digest32] = []
    for item in classified {
        let upload = try BlobUpload.make(
            item.level2!, record: item.record.id, enterprise: "BENCH", device: "box", owner: owner.publicKey,
            deviceKey: box, segmentSize: segmentSize)
        try blobs.put(upload.blob, expected: upload.reference.value.blobID)
        try ledger.admit(blob: upload.reference)
        let dataKey = try upload.reference.value.wrappedKey.unwrap(with: owner)
        keys.append(
            try WrappedDataKey.wrap(dataKey, recordID: item.record.id, level: .level2, for: requester.publicKey))
        blobIDs.append(upload.reference.value.blobID)
    }
    try ledger.cutBlock()
    try insertTransfer(keys: keys, blobIDs: blobIDs, into: ledger)
    return (requester, blobIDs)
}

/// The scenario's readings of lot BENCH-LOT, classified by the box (each with a level-2 value
/// of `valueBytes`).
func classifiedReadings(_ scenario: Scenario) -> [ClassifiedReading] {
    let classifier = Classifier(
        identity: DeviceIdentity(enterprise: "BENCH", device: "box", enrolledAt: Timestamp(milliseconds: 0)))
    let filler = String(repeating: "x", count: scenario.valueBytes)
    return (0..<scenario.records).map { index in
        let reading = Reading(
            stage: .planting, lot: "BENCH-LOT", product: "fresh corn",
            time: Timestamp(milliseconds: 1_770_000_000_000 + Int64(index)), inputLots: [],
            fields: [
                "planting.weeding_records": .text(filler), "planting.planted_quantity": .number(Double(index)),
                "planting.irrigation_records": .text("irrigation \(index)"),
            ])
        return classifier.classify(reading, sequence: UInt64(index + 1), bootID: "bench", recordedAt: reading.time)
    }
}

/// The transfer row at redeem leaf 7 and the relayed keys, as the owner's service leaves them.
func insertTransfer(keys: [WrappedDataKey], blobIDs: [Digest32], into ledger: Ledger) throws {
    let db = ledger.store.db
    try db.execute(
        "INSERT INTO transfers(leaf_index, request_id, redeem_leaf, sender, receiver, lot, level, record_count, blob_digest, source, status, purpose, reason, outcome, time) VALUES (1000000000, 'bench', 7, 'owner', 'requester', 'BENCH-LOT', 'level-2', \(keys.count), x'\(TransferRecord.digest(of: blobIDs).hex)', 'bench', 'delivered', 'bench', '', 'applied', 0)"
    )
    let insert = try db.prepare("INSERT INTO transfer_keys(redeem_leaf, record_id, level, wrapped) VALUES (7, ?, ?, ?)")
    for key in keys {
        try insert.bind(Canonical.encode(key.recordID), at: 1)
        try insert.bind(key.level.rawValue, at: 2)
        try insert.bind(Canonical.encode(key), at: 3)
        try insert.run()
    }
}

func temporaryFolder() throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bench-transfer-\(UUID().uuidString)")
        .path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
}

func measure(_ scenario: Scenario) throws -> (best: Double, median: Double, bytes: Int) {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/ledger.sqlite"
    let (requester, blobIDs) = try prepare(scenario, in: folder)
    let blobs = BlobStore(storePath: path)
    let reader = LedgerQueries(store: try LedgerStore(path: path, readOnly: true))
    let transfer = try reader.transfer(redeemLeaf: 7)!
    var times: [Double] = []
    var bytes = 0
    for _ in 0..<runs {
        let start = ContinuousClock.now
        let fetched = try TransferRequester.fetch(transfer: transfer, key: requester, queries: reader, blobs: blobs)
        let elapsed = ContinuousClock.now - start
        precondition(fetched.count == scenario.records)
        times.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        bytes = blobIDs.reduce(0) { total, id in total + ((try? blobs.get(id).count) ?? 0) }
    }
    times.sort()
    return (times[0], times[times.count / 2], bytes)
}

/// Writes streamed values to a file (what `agritrace fetch --out` does, without the JSON).
struct FileSink: FetchSink {
    let handle: FileHandle
    mutating func beginRecord(_ record: Record, level: PrivacyLevel, blobID: Digest32) throws {}
    mutating func endRecord(_ verified: StreamedFields) throws {}
    mutating func field(_ key: String, display: String) throws { handle.write(Data(display.utf8)) }
    mutating func beginText(_ key: String, byteCount: Int) throws {}
    mutating func text(_ chunk: String) throws { handle.write(Data(chunk.utf8)) }
    mutating func endText() throws {}
}

/// The peak resident set of this process (VmHWM; ru_maxrss would carry the parent's peak
/// across fork and exec on Linux).
func peakRSSKilobytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
    else { return 0 }
    return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
}

// Child mode: fetch the prepared transfer in `folder` and report the peak RSS.
if let index = CommandLine.arguments.firstIndex(of: "--rss-child") {
    let folder = CommandLine.arguments[index + 1]
    let streamed = CommandLine.arguments[index + 2] == "stream"
    let requester = try Curve25519.KeyAgreement.PrivateKey(
        rawRepresentation: try Data(contentsOf: URL(fileURLWithPath: folder + "/requester.key")))
    let path = folder + "/ledger.sqlite"
    let reader = LedgerQueries(store: try LedgerStore(path: path, readOnly: true))
    let transfer = try reader.transfer(redeemLeaf: 7)!
    let blobs = BlobStore(storePath: path)
    let baseline = peakRSSKilobytes()
    let start = ContinuousClock.now
    if streamed {
        guard FileManager.default.createFile(atPath: folder + "/out", contents: nil),
            let handle = FileHandle(forWritingAtPath: folder + "/out")
        else { throw AccessFlowError("cannot create \(folder)/out") }
        var sink = FileSink(handle: handle)
        let fetched = try TransferRequester.fetch(
            transfer: transfer, key: requester, material: StoreTransferMaterial(queries: reader, blobs: blobs),
            into: &sink)
        precondition(fetched.count == 1)
    } else {
        let fetched = try TransferRequester.fetch(transfer: transfer, key: requester, queries: reader, blobs: blobs)
        precondition(fetched.count == 1)
    }
    let elapsed = ContinuousClock.now - start
    print(
        "\(baseline) \(peakRSSKilobytes()) \(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)"
    )
    exit(0)
}

print("fetch-and-verify (TransferRequester.fetch: ledger reads, blob file, HPKE unwrap, AES-256-GCM, commitment check)")
print("runs per scenario: \(runs); best and median")
for scenario in scenarios {
    let result = try measure(scenario)
    let megabytes = Double(result.bytes) / 1_048_576
    print(
        String(
            format: "%6d records x %9d-byte value: best %.3f s (%.0f records/s, %.1f MB/s), median %.3f s",
            scenario.records, scenario.valueBytes, result.best, Double(scenario.records) / result.best,
            megabytes / result.best, result.median))
}

if !CommandLine.arguments.contains("--no-rss"), argument("--records") == nil {
    print("")
    print(
        "requester peak RSS fetching one 100 MB value (child process; VmHWM after opening the store, after the fetch)")
    for (label, segmentSize, mode) in [
        ("before: one AES-GCM message, opened in memory", Int.max, "memory"),
        ("after:  sealed stream, opened segment by segment to a file", SealedStream.defaultSegmentSize, "stream"),
    ] {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (requester, _) = try prepare(
            Scenario(records: 1, valueBytes: 100 * 1024 * 1024), in: folder, segmentSize: segmentSize)
        try Data(requester.rawRepresentation).write(to: URL(fileURLWithPath: folder + "/requester.key"))
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = ["--rss-child", folder, mode]
        let pipe = Pipe()
        child.standardOutput = pipe
        try child.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        let parts = output.split(separator: " ").compactMap {
            Double($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard parts.count == 3 else {
            print("\(label): child failed: \(output)")
            continue
        }
        print(
            String(
                format: "%@: peak RSS %.1f MB (%.1f MB before the fetch), %.3f s (%.1f MB/s)", label,
                parts[1] / 1024, parts[0] / 1024, parts[2], 100 / parts[2]))
    }
}
