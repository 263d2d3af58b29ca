import Foundation
import TestSupport

/// A real site for the browser test: a broker, `agritrace serve` with its HTTPS API (test CA),
/// one edge agent sending the example chain, principals on the ledger, the regulator's
/// matcher. Every step runs the built binaries, as an operator would.
final class ConsoleSite: @unchecked Sendable {
    let directory: TemporaryDirectory
    let certificates: TestCertificates
    let broker: TestBroker
    let server: BackgroundProcess
    let cli: String
    let origin: String
    var store: String { directory.file("ledger.sqlite") }
    var others: [BackgroundProcess] = []

    private init(
        directory: TemporaryDirectory, certificates: TestCertificates, broker: TestBroker, server: BackgroundProcess,
        cli: String, origin: String
    ) {
        self.directory = directory
        self.certificates = certificates
        self.broker = broker
        self.server = server
        self.cli = cli
        self.origin = origin
    }

    static func start() async throws -> ConsoleSite {
        let cli = try builtProduct(named: "agritrace")
        let directory = try TemporaryDirectory(prefix: "agritrace-console")
        let certificates = try TestCertificates.generate(in: directory.path)
        let broker = try await TestBroker.start()
        _ = try runCommand(cli, ["keygen", "--output", directory.file("authority.key")])
        let port = try freeLoopbackPort()
        let server = try BackgroundProcess(
            cli,
            [
                "serve", "--store", directory.file("ledger.sqlite"), "--authority-key", directory.file("authority.key"),
                "--broker-port", "\(broker.port)", "--block-max-delay-ms", "50", "--http-port", "\(port)",
                "--api-cert", certificates.serverCertificateFile, "--api-key", certificates.serverKeyFile,
            ],
            logFile: directory.file("serve.log"))
        return ConsoleSite(
            directory: directory, certificates: certificates, broker: broker, server: server, cli: cli,
            origin: "https://127.0.0.1:\(port)")
    }

    func stop() {
        for process in others { process.terminate() }
        server.terminate()
        broker.kill()
    }

    @discardableResult
    func agritrace(_ arguments: [String]) throws -> String { try runCommand(cli, arguments) }

    /// The six example readings (one lot per stage) through a real agent, broker and ingest.
    func ingestExampleChain() throws {
        let agent = try builtProduct(named: "agritrace-agent")
        try waitFor("serve to create the store", seconds: 20) { FileManager.default.fileExists(atPath: store) }
        let home = directory.file("farm-box-01")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let examples = try String(
            contentsOfFile: ConsoleBrowserTests.root + "/examples/readings.jsonl", encoding: .utf8)
        try examples.write(toFile: home + "/readings.jsonl", atomically: true, encoding: .utf8)
        let authority = try String(contentsOfFile: directory.file("authority.key.pub"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let settings: [(section: String, lines: [String])] = [
            (
                "device",
                [
                    "enterprise = \"FARM1\"", "id = \"farm-box-01\"", "enrolled_at = \"2026-01-01T00:00:00Z\"",
                    "key_file = \"device.key\"",
                ]
            ),
            ("broker", ["port = \(broker.port)"]), ("authority", ["public_key = \"\(authority)\""]),
            ("inputs", ["files = [\"readings.jsonl\"]"]), ("storage", ["path = \"agent.sqlite\""]),
            ("operations", ["metrics_port = 0"]),
        ]
        let config = home + "/agent.toml"
        try settings.map { "[\($0.section)]\n" + $0.lines.joined(separator: "\n") + "\n" }.joined(separator: "\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let publicKey = try runCommand(agent, ["init", "--config", config]).trimmingCharacters(
            in: .whitespacesAndNewlines)
        try agritrace([
            "devices", "add", "--enterprise", "FARM1", "--device", "farm-box-01", "--public-key", publicKey,
            "--authority-key", directory.file("authority.key"), "--store", store, "--wait", "20",
        ])
        others.append(try BackgroundProcess(agent, ["run", "--config", config], logFile: home + "/agent.log"))
        let lines = examples.split(separator: "\n").count
        try waitFor("the \(lines) examples to reach the ledger", seconds: 60) { (try? recordCount()) == lines }
    }

    func waitFor(_ what: String, seconds: Int, _ condition: () -> Bool) throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw SiteError("timed out waiting for \(what)") }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    func recordCount() throws -> Int? {
        let status = try JSONSerialization.jsonObject(
            with: Data(agritrace(["status", "--store", store, "--json"]).utf8))
        return (status as? [String: Any])?["records"] as? Int
    }

    /// Keys and registry entries for the farm (owner), the supermarket (firm) and the regulator.
    func registerPrincipals() throws {
        let principals: [(name: String, kind: String, enterprise: String, role: String)] = [
            (ConsoleBrowserTests.owner, "firm", "FARM1", "farm-administrator"),
            (ConsoleBrowserTests.firm, "firm", "RETAIL1", "supermarket-administrator"),
            (ConsoleBrowserTests.regulator, "regulator", "FOODAGENCY", "regulator"),
            (ConsoleBrowserTests.keeper, "firm", "WH7", "warehouse-administrator"),
        ]
        for principal in principals {
            let key = keyFile(principal.name)
            try agritrace(["keygen", "--output", key])
            try agritrace([
                "principals", "add", "--name", principal.name, "--kind", principal.kind, "--enterprise",
                principal.enterprise, "--role", principal.role, "--public-key", key + ".pub", "--authority-key",
                directory.file("authority.key"), "--store", store, "--wait", "20",
            ])
        }
    }

    func keyFile(_ principal: String) -> String {
        directory.file(principal.replacingOccurrences(of: "/", with: "_") + ".key")
    }

    func signer(_ principal: String) -> [String] { ["--as", principal, "--key", keyFile(principal), "--store", store] }

    /// The regulator's setup and matcher, the farm's hidden policy for a warehouse in Tianjin,
    /// and the supermarket's request from Shanghai: denied, one strike for its principal.
    func denyOneRequest() throws {
        let regulator = signer(ConsoleBrowserTests.regulator)
        let secrets = ["--secrets", directory.file("regulator.secrets")]
        try agritrace(["regulator", "setup"] + secrets + regulator)
        try agritrace(
            [
                "regulator", "attributes", "grant", "--principal", ConsoleBrowserTests.firm, "--enterprise", "RETAIL1",
                "--role", "supermarket-administrator", "--stage", "sales", "--category", "fresh-corn", "--region",
                "Shanghai", "--output", directory.file("alice.keys"),
            ] + secrets + regulator)
        others.append(
            try BackgroundProcess(
                cli, ["regulator", "match", "--follow"] + secrets + regulator, logFile: directory.file("matcher.log")))
        // Only a warehouse in Tianjin may read the planting lot's level-2 data.
        let policy = [
            "policy warehouse-in-tianjin", "subject.enterprise = WH7", "subject.role = warehouse-administrator",
            "subject.stage = warehousing", "subject.category = fresh-corn", "object.product = fresh corn",
            "object.lot = PL-2026-0417", "object.stage = planting", "object.level = level-2",
            "environment.source = Tianjin", "environment.time = *", "action = read",
        ]
        try (policy.joined(separator: "\n  ") + "\n").write(
            toFile: directory.file("policy.txt"), atomically: true, encoding: .utf8)
        try agritrace(
            [
                "policy", "create", "--lot", "PL-2026-0417", "--level", "level-2", "--file",
                directory.file("policy.txt"),
                "--tokens", directory.file("owner-tokens.json"),
            ] + signer(ConsoleBrowserTests.owner))
        let denied = try? agritrace(
            [
                "request", "PL-2026-0417", "--level", "level-2", "--source", ConsoleBrowserTests.deniedSource, "--keys",
                directory.file("alice.keys"),
            ] + signer(ConsoleBrowserTests.firm))
        guard denied == nil else {
            throw SiteError("the request was granted: \(denied ?? "")")
        }
    }

    /// The warehouse in Tianjin, certified by the regulator, asks for the planting lot's level-2
    /// data: the farm's policy matches, the request is granted. Returns the grant's request id.
    func grantOneRequest() throws -> String {
        try agritrace(
            [
                "regulator", "attributes", "grant", "--principal", ConsoleBrowserTests.keeper, "--enterprise", "WH7",
                "--role", "warehouse-administrator", "--stage", "warehousing", "--category", "fresh-corn", "--region",
                "Tianjin", "--output", directory.file("keeper.keys"), "--secrets", directory.file("regulator.secrets"),
            ] + signer(ConsoleBrowserTests.regulator))
        try agritrace(
            [
                "request", "PL-2026-0417", "--level", "level-2", "--source", "10.40.0.7", "--keys",
                directory.file("keeper.keys"),
            ] + signer(ConsoleBrowserTests.keeper))
        guard let grant = try grants().first(where: { $0["requester"] as? String == ConsoleBrowserTests.keeper }),
            let id = grant["requestID"] as? String
        else { throw SiteError("the warehouse's request was not granted") }
        return id
    }

    /// The farm's grants as `agritrace grants list --json` prints them.
    func grants() throws -> [[String: Any]] {
        let text = try agritrace(["grants", "list", "--as", ConsoleBrowserTests.owner, "--store", store, "--json"])
        return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] ?? []
    }

    func plantingRecordID() throws -> String {
        let trace = try agritrace(["trace", "PL-2026-0417", "--store", store, "--json"])
        guard let rows = try JSONSerialization.jsonObject(with: Data(trace.utf8)) as? [[String: Any]],
            let id = rows.first?["recordID"] as? String
        else { throw SiteError("no planting record in the trace: \(trace)") }
        return id
    }

    func signInLink(_ principal: String) throws -> String {
        try agritrace(["console", "login", "--principal", principal, "--key", keyFile(principal), "--url", origin])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// A step of the site's setup failed.
struct SiteError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
