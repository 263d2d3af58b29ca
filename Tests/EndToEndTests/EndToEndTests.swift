import AgriTraceCore
import Foundation
import TestSupport
import Testing

/// The whole system with real parts: `agritrace-agent` processes → a real mosquitto →
/// `agritrace serve` → SQLite ledger → `agritrace` CLI reading it back and checking proofs.
@Suite("End to end: agents → broker → aggregator → CLI", .serialized, .timeLimit(.minutes(4)))
struct EndToEndTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../examples/readings.jsonl").standardized.path

    @Test func recordsFlowIntoBlocksTraceAcrossStagesAndProofsVerify() async throws {
        let agent = try builtProduct(named: "agritrace-agent")
        let cli = try builtProduct(named: "agritrace")
        let broker = try await TestBroker.start()
        defer { broker.kill() }
        let directory = try TemporaryDirectory(prefix: "agritrace-e2e")
        let store = directory.file("ledger.sqlite")
        let httpPort = try freeLoopbackPort()
        let api = ["--api", "http://127.0.0.1:\(httpPort)", "--insecure-http"]

        // The aggregator: an authority key, then the server.
        let (_, authority) = try generateAuthorityKey(cli: cli, in: directory)
        let server = try BackgroundProcess(
            cli,
            [
                "serve", "--store", store, "--authority-key", directory.file("authority.key"), "--broker-port",
                "\(broker.port)", "--block-max-delay-ms", "50", "--http-port", "\(httpPort)", "--insecure-http",
            ],
            logFile: directory.file("serve.log"))
        defer { server.terminate() }
        #expect(await eventually(timeout: .seconds(20)) { FileManager.default.fileExists(atPath: store) })

        // Two boxes: the farm sends the first three stages' examples, the truck the rest plus
        // simulated transport readings (their lots, TR-2026-000x, do not collide with the examples').
        let lines = try String(contentsOfFile: Self.examples, encoding: .utf8).split(separator: "\n").map(String.init)
        let simulated = try runCommand(
            agent, ["simulate", "--stage", "transport", "--rate", "0", "--lots", "5", "--count", "300", "--seed", "7"])
        let boxes: [(id: String, enterprise: String, lines: [String])] = [
            ("farm-box-01", "FARM1", Array(lines[0..<3])),
            ("truck-01", "LOGI1", Array(lines[3...]) + simulated.split(separator: "\n").map(String.init)),
        ]
        var agents: [BackgroundProcess] = []
        defer { for process in agents { process.terminate() } }
        var accepted = 0
        for box in boxes {
            let home = directory.file(box.id)
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            let input = home + "/readings.jsonl"
            try (box.lines.joined(separator: "\n") + "\n").write(toFile: input, atomically: true, encoding: .utf8)
            accepted += box.lines.count
            let config = home + "/agent.toml"
            try """
            [device]
            enterprise = "\(box.enterprise)"
            id = "\(box.id)"
            enrolled_at = "2026-01-01T00:00:00Z"
            key_file = "device.key"

            [broker]
            port = \(broker.port)

            [authority]
            public_key = "\(authority)"

            [inputs]
            files = ["readings.jsonl"]

            [storage]
            path = "agent.sqlite"

            [delivery]
            batch_size = 100
            resend_timeout_ms = 3000

            [operations]
            metrics_port = 0
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let publicKey = try runCommand(agent, ["init", "--config", config]).trimmingCharacters(
                in: .whitespacesAndNewlines)
            _ = try runCommand(
                cli,
                [
                    "devices", "add", "--enterprise", box.enterprise, "--device", box.id, "--public-key", publicKey,
                    "--authority-key", directory.file("authority.key"), "--store", store, "--wait", "20",
                ])
            agents.append(try BackgroundProcess(agent, ["run", "--config", config], logFile: home + "/agent.log"))
        }

        // Every reading accepted is receipted once and leaves the outboxes.
        let drained = await eventually(timeout: .seconds(90)) {
            boxes.allSatisfy { box in
                guard
                    let status = try? runCommand(
                        agent, ["status", "--config", directory.file(box.id) + "/agent.toml", "--json"]),
                    let object = try? JSONSerialization.jsonObject(with: Data(status.utf8)) as? [String: Any]
                else { return false }
                return (object["outboxDepth"] as? Int) == 0 && (object["receipted"] as? Int) == box.lines.count
            }
        }
        #expect(
            drained,
            "agents did not drain: \(agents.map(\.log).joined(separator: "\n---\n").suffix(3000))\nserver: \(server.log.suffix(2000))"
        )

        // The ledger holds each record once.
        let status = try json(runCommand(cli, ["status", "--store", store, "--json"]))
        #expect(status["records"] as? Int == accepted, "status: \(status)")

        // Trace the sales lot back to the breeding lot: six records, one per stage, in chain order.
        let trace = try runCommand(cli, ["trace", "SA-2026-5521", "--backward", "--store", store, "--json"])
        let records = try #require(JSONSerialization.jsonObject(with: Data(trace.utf8)) as? [[String: Any]])
        #expect(records.compactMap { $0["stage"] as? String } == Stage.allCases.map(\.rawValue))
        let planting = try #require(records.first { $0["stage"] as? String == "planting" })
        let publicFields = try #require(planting["publicFields"] as? [String: Any])
        #expect(publicFields["planting.variety"] as? String == "Jingke 968")
        #expect(publicFields["planting.cost_price"] == nil)

        // A proof saved now verifies offline against a saved tree head and the authority key.
        let recordID = try #require(planting["recordID"] as? String)
        // The tree head first, then the proof against its size (a block cut in between changes the latest).
        _ = try runCommand(cli, ["tree-head", "--store", store, "--output", directory.file("head.json")])
        let head = try json(String(contentsOfFile: directory.file("head.json"), encoding: .utf8))
        let size = try #require(head["logSize"] as? Int)
        _ = try runCommand(
            cli,
            ["proof", recordID, "--tree-size", "\(size)", "--store", store, "--output", directory.file("proof.json")])
        _ = try runCommand(
            cli,
            [
                "verify-proof", directory.file("proof.json"), "--authority", authority, "--tree-head",
                directory.file("head.json"),
            ])
        _ = try runCommand(cli, ["verify", "--store", store])

        // Nobody with the aggregator's database finds a private value in the clear; nor in the box's vault.
        let secrets = ["Li Wei, farm manager", "Zhang Lei, driver", "SL-2026-112", "NPK 15-15-15"]
        for file in [
            store, directory.file("farm-box-01") + "/agent.sqlite", directory.file("truck-01") + "/agent.sqlite",
        ] {
            let bytes =
                try Data(contentsOf: URL(fileURLWithPath: file))
                + ((try? Data(contentsOf: URL(fileURLWithPath: file + "-wal"))) ?? Data())
            for secret in secrets {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) in the clear in \(file)")
            }
        }

        // Access control through the CLI against the running server (bob and the audit through
        // its HTTP API, the others on the server's store): principals on the ledger,
        // the regulator's setup and grants, its matcher as a service, a hidden policy on the
        // farm's planting lot, one granted and one refused request, and the audit.
        func principal(_ name: String, _ kind: String, _ enterprise: String, _ role: String) throws -> [String] {
            let key = directory.file(name.replacingOccurrences(of: "/", with: "_") + ".key")
            _ = try runCommand(cli, ["keygen", "--output", key])
            _ = try runCommand(
                cli,
                [
                    "principals", "add", "--name", name, "--kind", kind, "--enterprise", enterprise, "--role", role,
                    "--public-key", key + ".pub", "--authority-key", directory.file("authority.key"), "--store", store,
                ])
            return ["--as", name, "--key", key, "--store", store]
        }
        let farmer = try principal("Firm/farmer@FARM1", "firm", "FARM1", "farm-administrator")
        let bob = try principal("Firm/bob@PROC1", "firm", "PROC1", "processing-administrator")
        let alice = try principal("Firm/alice@RETAIL1", "firm", "RETAIL1", "supermarket-administrator")
        let regulator = try principal("Regulator/inspector@AGENCY", "regulator", "AGENCY", "regulator")
        let secretsFile = directory.file("regulator.secrets")
        _ = try runCommand(cli, ["regulator", "setup", "--secrets", secretsFile] + regulator)
        for (name, enterprise, role, stage, region) in [
            ("Firm/bob@PROC1", "PROC1", "processing-administrator", "processing", "Beijing"),
            ("Firm/alice@RETAIL1", "RETAIL1", "supermarket-administrator", "sales", "Shanghai"),
        ] {
            _ = try runCommand(
                cli,
                [
                    "regulator", "attributes", "grant", "--principal", name, "--enterprise", enterprise, "--role", role,
                    "--stage", stage, "--category", "fresh-corn", "--region", region, "--output",
                    directory.file(enterprise + ".keys"), "--secrets", secretsFile,
                ] + regulator)
        }
        let matcher = try BackgroundProcess(
            cli, ["regulator", "match", "--follow", "--secrets", secretsFile] + regulator,
            logFile: directory.file("matcher.log"))
        defer { matcher.terminate() }
        let policy = directory.file("policy.txt")
        try """
        policy processors-in-beijing
          subject.enterprise = PROC1
          subject.role       = processing-administrator
          subject.stage      = processing
          subject.category   = fresh-corn
          object.product     = *
          object.lot         = PL-2026-0417
          object.stage       = planting
          object.level       = level-2
          environment.source = Beijing
          environment.time   = *
          action             = read
        """.write(toFile: policy, atomically: true, encoding: .utf8)
        _ = try runCommand(
            cli,
            ["policy", "create", "--lot", "PL-2026-0417", "--file", policy, "--tokens", directory.file("tokens.json")]
                + farmer)
        let granted = try json(
            runCommand(
                cli,
                [
                    "request", "PL-2026-0417", "--source", "10.20.0.5", "--keys", directory.file("PROC1.keys"),
                    "--token-out", directory.file("bob.token"), "--json",
                ] + bob + api))
        let grantedRequest = try #require(granted["request"] as? [String: Any])
        #expect(grantedRequest["status"] as? String == "granted", "\(granted)\nmatcher: \(matcher.log)")
        // The token bob opened is the one the farm put under the policy.
        let tokens = try #require(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory.file("tokens.json"))))
                as? [String: String])
        let opened = try String(contentsOfFile: directory.file("bob.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(tokens[grantedRequest["dataID"] as? String ?? ""] == opened)
        let refusal = #expect(throws: CommandError.self) {
            try runCommand(
                cli,
                ["request", "PL-2026-0417", "--source", "10.30.0.9", "--keys", directory.file("RETAIL1.keys")] + alice)
        }
        #expect(refusal?.status == 1)
        let blacklist = try #require(
            JSONSerialization.jsonObject(
                with: Data(runCommand(cli, ["audit", "blacklist", "--json"] + api).utf8))
                as? [[String: Any]])
        // Alice's request was queued on the aggregator's host (--store): no address observed by
        // the gateway, so the strike counts against her principal; her --source is only a
        // label (docs/governance.md).
        let struck = blacklist.compactMap { ($0["entry"] as? [String: Any])?["source"] as? String }
        #expect(struck == ["principal:Firm/alice@RETAIL1"], "\(struck)")
        let entry = try #require(blacklist.first)
        #expect((entry["proof"] as? [String: Any])?["verified"] as? Bool == true)
        _ = try runCommand(cli, ["replay", "--store", store, "--authority", authority])
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(
            JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            "not a JSON object: \(text.prefix(500))")
    }
}
