import AccessFlow
import AgriTraceCore
import Foundation
import Ingest
import Ledger
import SharingGraphLedger
import TestSupport
import Testing

@testable import SharingGraph

/// The sharing graph and the anomaly audit on a real ledger store built through the real
/// contracts (``TransferDeployment``), and the built `agritrace` reading it.
@Suite("Sharing graph on a real store")
struct SharingGraphStoreTests {
    static let owner = TransferDeployment.owner
    static let requester = TransferDeployment.requesterGrant.principal

    /// Request, grant, transfer and revocation, the graph updated block by block in between.
    @Test func graphFollowsTheLedgerBlockByBlock() async throws {
        let deployment = try await TransferDeployment()
        let store = deployment.ledger.store
        var state = SharingLedgerState()
        try state.update(from: store)
        #expect(state.graph.edges.isEmpty)
        try await deployment.uploadAll()
        try deployment.protect(level: .level2)
        let keys = try deployment.enrollRequester(TransferDeployment.requesterGrant)
        let (request, token) = try deployment.requestAndMatch(keys, level: .level2)
        #expect(try state.update(from: store) >= 2)
        let (redemption, _) = try deployment.redeem(request.requestID, token: try #require(token))
        #expect(try deployment.serveTransfers() == 1)
        let transfer = try #require(try deployment.queries.transfer(redeemLeaf: redemption.leafIndex))
        try deployment.submit(Self.owner, .revokeGrant(requestID: request.requestID, reason: "audit over"))
        try deployment.cut()
        #expect(try state.update(from: store) == 2)

        let rebuilt = try SharingGraphLoader.graph(store)
        #expect(state.graph.edges == rebuilt.edges)
        #expect(state.graph.lastLeaf == rebuilt.lastLeaf)
        let edges = rebuilt.edges
        #expect(edges.map(\.kind) == [.request, .grant, .transfer, .revocation])
        #expect(edges[0].from == Self.requester && edges[0].to == Self.owner && edges[0].source == "10.0.0.7")
        #expect(edges[0].leaf == request.requestLeaf && edges[0].outcome == .submitted)
        #expect(edges[1].leaf == request.resultLeaf && edges[1].outcome == .granted)
        #expect(edges[2].leaf == transfer.leafIndex && edges[2].records == transfer.recordCount)
        #expect(edges.allSatisfy { $0.lot == TransferDeployment.lot && $0.level == "level-2" })

        let spread = rebuilt.spread(lot: TransferDeployment.lot)
        #expect(spread.holders.map(\.principal) == [Self.requester])
        #expect(spread.holders.first?.enterprise == "ZS123")
        #expect(spread.edges.map(\.kind) == [.grant, .transfer, .revocation])
        #expect(
            rebuilt.paths(from: Self.owner, to: Self.requester)
                == [SharingPath(principals: [Self.owner, Self.requester], leaves: [try #require(request.resultLeaf)])])
        #expect(rebuilt.top(.senders).map(\.records) == [transfer.recordCount])
        #expect(
            rebuilt.activity(of: "ZS123", scope: .enterprise).received.map(\.kind) == [.grant, .transfer, .revocation])
    }

    /// Two planting records: the lot made from SEED-1 is recorded five hours before SEED-1.
    static func admitOutOfOrderLots(_ deployment: TransferDeployment) throws {
        let classifier = Classifier(
            identity: DeviceIdentity(enterprise: "PLANT1", device: "farm-box", enrolledAt: Timestamp(milliseconds: 0)))
        let base: Int64 = 1_770_100_000_000
        let readings = [
            Reading(
                stage: .planting, lot: "SEED-1", product: TransferDeployment.product,
                time: Timestamp(milliseconds: base + 5 * 3_600_000),
                fields: ["planting.variety": .text("sweet corn"), "planting.farmland_geo": .text("39.9,116.4")]),
            Reading(
                stage: .planting, lot: "PL-EARLY", product: TransferDeployment.product,
                time: Timestamp(milliseconds: base),
                inputLots: ["SEED-1"], fields: ["planting.variety": .text("sweet corn")]),
        ]
        let records = readings.enumerated().map { index, reading in
            classifier.classify(reading, sequence: UInt64(100 + index), bootID: "boot", recordedAt: reading.time).record
        }
        let batch = try Signed(
            RecordBatch(enterprise: "PLANT1", device: "farm-box", sentAt: .now(), records: records),
            domain: .recordBatch, key: deployment.box)
        _ = deployment.ledger.admit(
            topic: Wire.recordTopic(enterprise: "PLANT1", device: "farm-box"), payload: Canonical.encode(batch))
        try deployment.cut()
    }

    @Test func cliGraphAndAnomaliesOnTheStore() async throws {
        let deployment = try await TransferDeployment()
        _ = try await deployment.grantedTransfer()
        try Self.admitOutOfOrderLots(deployment)
        let facts = try TraceabilityLoader.facts(deployment.ledger.store, after: nil)
        #expect(facts.records.first { $0.lot == "SEED-1" }?.location == GeoPoint(latitude: 39.9, longitude: 116.4))
        let store = ["--store", deployment.storePath, "--json"]

        let spread = try deployment.runCLI(["graph", "spread", TransferDeployment.lot] + store)
        #expect(spread.status == 0, "\(spread.output)")
        let decoded = try JSONDecoder().decode(LotSpread.self, from: Data(spread.output.utf8))
        #expect(decoded.holders.map(\.principal) == [Self.requester])

        let top = try deployment.runCLI(["graph", "top", "--receivers"] + store)
        let totals = try JSONDecoder().decode([SharingTotal].self, from: Data(top.output.utf8))
        #expect(totals.map(\.principal) == [Self.requester])

        let audit = try deployment.runCLI(["audit", "anomalies", "--kind", "time-order,stage-order"] + store)
        #expect(audit.status == 0, "\(audit.output)")
        let alarms = try JSONDecoder().decode([AnomalyAlarm].self, from: Data(audit.output.utf8))
        #expect(alarms.map(\.kind) == [.timeOrder])
        #expect(alarms.first?.subject == "PL-EARLY")
        #expect(alarms.first?.evidence.count == 2)

        // Disclosed temperatures checked by the CLI: 50 minutes above 8 °C, and a file of another shape.
        let samples = [4.0, 9, 10, 11, 9.5, 8.5, 4].enumerated().map {
            SensorSeries.Sample(time: 1_770_000_000_000 + Int64($0.offset) * 600_000, value: $0.element)
        }
        let seriesFile = deployment.directory.file("series.json")
        try JSONEncoder().encode([SensorSeries(leaf: 3, lot: TransferDeployment.lot, device: "truck", samples: samples)]
        )
        .write(to: URL(fileURLWithPath: seriesFile))
        let cold = try deployment.runCLI(
            ["audit", "anomalies", "--kind", "cold-chain", "--series", seriesFile] + store)
        let coldAlarms = try JSONDecoder().decode([AnomalyAlarm].self, from: Data(cold.output.utf8))
        #expect(coldAlarms.map(\.kind) == [.coldChain] && coldAlarms.first?.evidence == [3], "\(cold.output)")
        try Data("{\"samples\": 1}".utf8).write(to: URL(fileURLWithPath: seriesFile))
        let wrongShape = try deployment.runCLI(["audit", "anomalies", "--series", seriesFile] + store)
        #expect(
            wrongShape.status != 0 && wrongShape.output.contains("--series \(seriesFile) is not a readable JSON array"))

        let bad = try deployment.runCLI(["audit", "anomalies", "--kind", "fanout"] + store)
        #expect(bad.status != 0)
        #expect(bad.output.contains("kind fanout is not a kind of anomaly"), "\(bad.output)")
        let badTime = try deployment.runCLI(["graph", "top", "--since", "yesterday"] + store)
        #expect(badTime.status != 0 && badTime.output.contains("--since yesterday is not an RFC 3339 time"))
    }

    /// Runs the built `agritrace regulator watch ARGUMENTS --json --interval 0.1 --count 1`,
    /// lets it take its first look, runs `meanwhile` (which adds blocks) and returns the lines
    /// it printed before it stopped.
    static func watch(_ arguments: [String], in deployment: TransferDeployment, meanwhile: () throws -> Void)
        async throws -> [Substring]
    {
        let output = deployment.directory.file("watch-\(UUID().uuidString).log")
        #expect(FileManager.default.createFile(atPath: output, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try builtProduct(named: "agritrace"))
        process.arguments = ["regulator", "watch"] + arguments + ["--json", "--interval", "0.1", "--count", "1"]
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try await Task.sleep(for: .milliseconds(1500))
        #expect(process.isRunning)
        try meanwhile()
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try handle.close()
        let text = try String(contentsOfFile: output, encoding: .utf8)
        #expect(process.terminationStatus == 0, "\(text)")
        return text.split(separator: "\n")
    }

    /// `regulator watch` started on a quiet store reports the time-order alarm once the
    /// records arrive in a new block, then stops (`--count 1`).
    @Test func watchReportsNewAlarmsAsBlocksArrive() async throws {
        let deployment = try await TransferDeployment()
        let lines = try await Self.watch(["--store", deployment.storePath], in: deployment) {
            try Self.admitOutOfOrderLots(deployment)
        }
        #expect(lines.count == 1, "\(lines)")
        let alarm = try JSONDecoder().decode(AnomalyAlarm.self, from: Data((lines.first ?? "").utf8))
        #expect(alarm.kind == .timeOrder && alarm.subject == "PL-EARLY")
    }

    /// The real `agritrace api` over the store: the graph routes through the CLI's `--api`, a
    /// bad parameter refused naming it, and an alarm arriving in a block after the server
    /// started (its graph is updated, not rebuilt).
    @Test func apiRoutesFollowTheStore() async throws {
        let deployment = try await TransferDeployment()
        _ = try await deployment.grantedTransfer()
        let port = Int(try freeLoopbackPort())
        let server = try BackgroundProcess(
            try builtProduct(named: "agritrace"),
            ["api", "--store", deployment.storePath, "--http-port", "\(port)", "--insecure-http"],
            logFile: deployment.directory.file("api.log"))
        defer { server.terminate() }
        let api = ["--api", "http://127.0.0.1:\(port)", "--insecure-http", "--json"]
        var spread = try deployment.runCLI(["graph", "spread", TransferDeployment.lot] + api)
        let deadline = ContinuousClock.now + .seconds(15)
        while spread.status != 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            spread = try deployment.runCLI(["graph", "spread", TransferDeployment.lot] + api)
        }
        #expect(spread.status == 0, "\(spread.output) \(server.log)")
        let decoded = try JSONDecoder().decode(LotSpread.self, from: Data(spread.output.utf8))
        #expect(decoded.holders.map(\.principal) == [Self.requester])
        let paths = try deployment.runCLI(["graph", "paths", Self.owner, Self.requester] + api)
        #expect(try JSONDecoder().decode([SharingPath].self, from: Data(paths.output.utf8)).count == 1)

        let before = try deployment.runCLI(["audit", "anomalies", "--kind", "time-order"] + api)
        #expect(try JSONDecoder().decode([AnomalyAlarm].self, from: Data(before.output.utf8)).isEmpty)
        // `regulator watch --api` sees the alarm of the block that arrives while it runs.
        let watched = try await Self.watch(Array(api.dropLast()), in: deployment) {
            try Self.admitOutOfOrderLots(deployment)
        }
        #expect(watched.count == 1, "\(watched)")
        #expect(
            try JSONDecoder().decode(AnomalyAlarm.self, from: Data((watched.first ?? "").utf8)).subject == "PL-EARLY")
        let after = try deployment.runCLI(["audit", "anomalies", "--kind", "time-order"] + api)
        let alarms = try JSONDecoder().decode([AnomalyAlarm].self, from: Data(after.output.utf8))
        #expect(alarms.map(\.subject) == ["PL-EARLY"], "\(after.output)")

        for (name, path) in [
            ("kind", "/v1/audit/anomalies?kind=fanout"), ("kind", "/v1/audit/anomalies?kind="),
            ("since", "/v1/graph/top?since=yesterday"),
            ("direction", "/v1/graph/top?direction=up"), ("depth", "/v1/graph/spread/L?depth=99"),
            ("from", "/v1/graph/paths?to=x"), ("scope", "/v1/graph/activity/x?scope=firm"),
            ("cold-threshold", "/v1/audit/anomalies?cold-threshold=hot"),
        ] {
            let answer = try httpGet(port: port, path: path)
            #expect(answer.hasPrefix("HTTP/1.1 400") && answer.contains(name), "\(path): \(answer)")
        }
        #expect(try httpGet(port: port, path: "/v1/graph/top?direction=receivers&count=3").hasPrefix("HTTP/1.1 200"))
    }
}
