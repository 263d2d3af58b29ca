import AccessCrypto
import AccessFlow
import AgriTraceCore
import Crypto
import Foundation
import Ingest
import Ledger
import TestSupport

// The access-control flow end to end on a real ledger store (SQLite on disk, synchronous=FULL):
// owner protect → addEncryptedData; requester trapdoor → addTrapdoor (decision at block
// time) → regulator TEST → addResult → requester opens D. Each step's latency, and the
// whole request → decision latency as a requester sees it (blocks cut as soon as a
// transaction is admitted, i.e. without the server's batching delay, which adds ≤ 100 ms).
// Usage: bench-access-flow [runs]

let runs = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 30
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-access-flow-\(getpid())").path
try? FileManager.default.removeItem(atPath: directory)
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: directory) }

let authority = Curve25519.Signing.PrivateKey()
let ledger = try Ledger(path: directory + "/ledger.sqlite", authority: authority)
var keys: [String: Curve25519.Signing.PrivateKey] = [:]
var clock = Timestamp(milliseconds: 1_772_413_200_000)  // 09:00 +08:00

@MainActor func register(_ name: String, _ kind: PrincipalEntry.Kind, _ enterprise: String, _ role: String) throws {
    let key = Curve25519.Signing.PrivateKey()
    keys[name] = key
    try ledger.admit(
        registry: try SignedRegistry.addPrincipal(
            name, kind: kind, enterprise: enterprise, role: role, key: key.publicKey, authority: authority))
}

@MainActor func submit(_ name: String, _ operation: AccessTransaction.Operation) throws {
    try ledger.admit(
        access: try Signed(
            AccessTransaction(submitter: name, operation: operation), domain: .transaction, key: keys[name]!))
    clock = Timestamp(milliseconds: clock.milliseconds + 10)
    try ledger.cutBlock(now: clock)
}

func time<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = ContinuousClock.now
    let value = try body()
    let elapsed = ContinuousClock.now - start
    return (value, Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3)
}

let owner = WorkedExample.owner, regulator = WorkedExample.regulator
let requester = WorkedExample.requesterGrant.principal
let box = Curve25519.Signing.PrivateKey()
try ledger.admit(
    registry: try SignedRegistry.addDevice(
        enterprise: "PLANT1", device: "box", key: box.publicKey, stage: .planting, authority: authority, nonce: 1))
try register(owner, .firm, "PLANT1", "farm-administrator")
try register(regulator, .regulator, "AGENCY", "regulator")
try register(requester, .firm, "ZS123", "processing-administrator")
try ledger.cutBlock(now: clock)
let lot = "20240203A001"
let classifier = Classifier(
    identity: DeviceIdentity(enterprise: "PLANT1", device: "box", enrolledAt: Timestamp(milliseconds: 0)))
let reading = Reading(
    stage: .planting, lot: lot, product: "fresh corn", time: Timestamp(milliseconds: 1_770_000_000_000), inputLots: [],
    fields: ["planting.variety": .text("sweet corn")])
let record = classifier.classify(reading, sequence: 1, bootID: "b", recordedAt: reading.time).record
_ = ledger.admit(
    topic: Wire.recordTopic(enterprise: "PLANT1", device: "box"),
    payload: Canonical.encode(
        try Signed(
            RecordBatch(enterprise: "PLANT1", device: "box", sentAt: .now(), records: [record]), domain: .recordBatch,
            key: box)))
let (secrets, setupMs) = try time { try RegulatorSecrets.generate() }
let parameters = secrets.publicParameters(trapdoorsPerMinute: 1_000_000)
// The owner decodes the published parameters once (as `policy create` does).
let decoded = try DataOwner.DecodedParameters(parameters)
try submit(regulator, .publishParameters(parameters))
let grant = WorkedExample.requesterGrant
try submit(regulator, .grantAttributes(grant))
let (requesterKeys, attgMs) = try time { try secrets.issueKeys(for: grant) }
let policy = try PolicySyntax.parse(WorkedExample.policy(name: "p"))[0]

var protect: [Double] = [], upload: [Double] = [], trapdoor: [Double] = [], decision: [Double] = []
var test: [Double] = [], result: [Double] = [], open: [Double] = [], total: [Double] = []
var sizes: (e: Int, d: Int, t: Int) = (0, 0, 0)
let queries = LedgerQueries(store: ledger.store)
for run in 0..<runs {
    if run < 3 {
        let ((entry, _), ms) = try time {
            try DataOwner.protect(
                lot: lot, product: "fresh corn", stage: .planting, level: .level2, policy: policy,
                parameters: decoded)
        }
        protect.append(ms)
        upload.append(try time { try submit(owner, .addEncryptedData(entry)) }.1)
        sizes.e = entry.searchableCiphertext.count
    }
    let start = ContinuousClock.now
    let (request, trapdoorMs) = try time {
        try requesterKeys.trapdoorRequest(
            lot: lot, product: "fresh corn", stage: .planting, level: .level2, action: .read,
            source: "10.0.0.\(run % 250)",
            parameters: parameters)
    }
    trapdoor.append(trapdoorMs)
    sizes.t = Canonical.encode(request.sealedTrapdoor).count
    decision.append(try time { try submit(requester, .addTrapdoor(request)) }.1)
    let candidates = try queries.candidates(lot: lot, level: "level-2")
    let (match, testMs) = time { secrets.match(request.sealedTrapdoor, candidates: candidates) }
    test.append(testMs)
    guard let match else { fatalError("the worked example did not match") }
    sizes.d = match.token.count
    result.append(
        try time {
            try submit(regulator, .addResult(requestID: request.requestID, dataID: match.dataID, token: match.token))
        }.1)
    guard let row = try queries.accessRequest(request.requestID), row.status == .granted,
        let released = row.token.flatMap({ [UInt8](hexString: $0) })
    else { fatalError("not granted") }
    open.append(try time { try requesterKeys.openToken(released) }.1)
    let elapsed = ContinuousClock.now - start
    total.append(Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15)
}

func p(_ values: [Double], _ q: Double) -> String {
    let sorted = values.sorted()
    return String(format: "%.1f", sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * q))])
}
print("| step | who | p50 ms | p99 ms | size (bytes) |")
print("|---|---|---:|---:|---:|")
print(
    "| TSetup + CP-ABE setup (5 slots) | regulator | \(String(format: "%.0f", setupMs)) | | \(parameters.searchable.count + parameters.tokenEncryption.count) |"
)
print(
    "| AttG (ABSE key + CP-ABE key) | regulator | \(String(format: "%.1f", attgMs)) | | \(requesterKeys.serialized.count) |"
)
print(
    "| protect: CP-ABE(D) + ABSE(E), parameters decoded once | owner | \(p(protect, 0.5)) | \(p(protect, 0.99)) | E: \(sizes.e) |"
)
print("| addEncryptedData → block (SQLite FULL) | ledger | \(p(upload, 0.5)) | \(p(upload, 0.99)) | |")
print(
    "| TrpG + seal to the regulator | requester | \(p(trapdoor, 0.5)) | \(p(trapdoor, 0.99)) | T sealed: \(sizes.t) |")
print("| addTrapdoor → decision in a block | ledger | \(p(decision, 0.5)) | \(p(decision, 0.99)) | |")
print("| TEST (open T, pair with E) | regulator | \(p(test, 0.5)) | \(p(test, 0.99)) | |")
print("| addResult → block | ledger | \(p(result, 0.5)) | \(p(result, 0.99)) | D: \(sizes.d) |")
print("| open D (CP-ABE decrypt) | requester | \(p(open, 0.5)) | \(p(open, 0.99)) | |")
print("| **request → decision, end to end** | all | **\(p(total, 0.5))** | **\(p(total, 0.99))** | |")
print("")
print(
    "\(runs) requests; blocks cut at once (the server's block interval, default 100 ms, and its poll interval add to the end-to-end figure in a deployment)."
)
