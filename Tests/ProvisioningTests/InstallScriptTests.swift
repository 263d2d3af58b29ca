import AgriTraceCore
import Foundation
import MQTTClient
import Provisioning
import TestSupport
import Testing

/// `install-agent.sh` and `install-cloud.sh` run with `--root` into temporary trees (no systemd).
@Suite("Install scripts into a temporary root", .serialized, .timeLimit(.minutes(2)))
struct InstallScriptTests {
    /// `Provisioning/` in this checkout.
    static let provisioningDirectory: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path + "/Provisioning"
    }()

    /// The `agritrace-enroll` executable built next to the test binary.
    static let enrollExecutable: String = {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = exe.deletingLastPathComponent()
        // The test binary lives in <products>/X.xctest (a file on Linux) or a bundle below it.
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("agritrace-enroll").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return "agritrace-enroll"
    }()

    /// A stand-in for `agritrace-agent`: `init --key FILE` creates FILE and prints a public key.
    static func makeAgentStub(in directory: TemporaryDirectory) throws -> String {
        let path = directory.file("agritrace-agent")
        try """
        #!/bin/sh
        if [ "$1" = init ] && [ "$2" = --key ]; then
            [ -f "$3" ] || ( umask 077; echo private > "$3" )
            echo 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
            exit 0
        fi
        echo "agritrace-agent stub $*"
        """.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    static func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int) ?? -1
    }

    static func owner(_ path: String) -> (uid: Int, gid: Int) {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        return (
            (attributes?[.ownerAccountID] as? NSNumber)?.intValue ?? -1,
            (attributes?[.groupOwnerAccountID] as? NSNumber)?.intValue ?? -1
        )
    }

    /// The uid and gid of `name` in `root/etc/passwd`.
    static func account(_ name: String, in root: String) throws -> (uid: Int, gid: Int)? {
        let passwd = try String(contentsOfFile: root + "/etc/passwd", encoding: .utf8)
        for line in passwd.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count > 3, fields[0] == name, let uid = Int(fields[2]), let gid = Int(fields[3]) {
                return (uid, gid)
            }
        }
        return nil
    }

    /// The box installs, makes its key locally, is enrolled from its CSR, and the installed
    /// key and certificate then work against the real broker. Uninstall keeps data; purge removes it.
    @Test func installAgentMakesAHardenedServiceThatEnrollsFromItsOwnCSR() async throws {
        let broker = try await ProvisionedBroker.start()
        defer { broker.kill() }
        let aggregatorKey = try await broker.enrollAggregator()
        let stubs = try TemporaryDirectory(prefix: "agritrace-stub")
        let agent = try Self.makeAgentStub(in: stubs)
        let root = try TemporaryDirectory(prefix: "agritrace-root")
        let script = Self.provisioningDirectory + "/install-agent.sh"
        let authorityKey = String(repeating: "ab", count: 32)
        let arguments = [
            "--root", root.path, "--binary", agent, "--device-id", "farm-box-01", "--enterprise", "FARM1",
            "--stage", "planting", "--broker-host", "127.0.0.1", "--broker-port", String(broker.port),
            "--authority-key", authorityKey,
        ]
        // First run: not enrolled yet; the CSR is made on the box.
        try runCommand(script, arguments)
        let r = root.path
        let account = try #require(try Self.account("agritrace-agent", in: r), "no system user created")
        #expect(account.uid > 0 && account.uid < 1000, "a system uid")
        #expect(Self.mode(r + "/usr/local/bin/agritrace-agent") == 0o755)
        #expect(Self.mode(r + "/var/lib/agritrace-agent") == 0o700)
        #expect(Self.owner(r + "/var/lib/agritrace-agent").uid == account.uid)
        #expect(Self.mode(r + "/etc/agritrace-agent/tls/device.key") == 0o640)
        #expect(Self.owner(r + "/etc/agritrace-agent/tls/device.key") == (0, account.gid))
        #expect(Self.mode(r + "/etc/agritrace-agent/tls") == 0o750)
        #expect(Self.mode(r + "/var/lib/agritrace-agent/device.key") == 0o600)
        #expect(Self.mode(r + "/etc/agritrace-agent/agent.toml") == 0o640)
        #expect(!FileManager.default.fileExists(atPath: r + "/etc/agritrace-agent/tls/device.crt"))
        let config = try String(contentsOfFile: r + "/etc/agritrace-agent/agent.toml", encoding: .utf8)
        for line in [
            "id = \"farm-box-01\"", "enterprise = \"FARM1\"", "stage = \"planting\"", "port = \(broker.port)",
            "ca_file = \"/etc/agritrace-agent/tls/ca.crt\"",
            "certificate_file = \"/etc/agritrace-agent/tls/device.crt\"",
            "key_file = \"/etc/agritrace-agent/tls/device.key\"", "public_key = \"\(authorityKey)\"",
            "path = \"/var/lib/agritrace-agent/agent.sqlite\"",
        ] {
            #expect(config.contains(line), "agent.toml lacks \(line)")
        }
        let unit = try String(contentsOfFile: r + "/etc/systemd/system/agritrace-agent.service", encoding: .utf8)
        for directive in [
            "User=agritrace-agent", "ProtectSystem=strict", "ProtectHome=yes", "NoNewPrivileges=yes", "PrivateTmp=yes",
            "ReadWritePaths=/var/lib/agritrace-agent", "CapabilityBoundingSet=\n",
            "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "ExecReload=/bin/kill -HUP $MAINPID",
            "ExecStart=/usr/local/bin/agritrace-agent run --config /etc/agritrace-agent/agent.toml",
        ] {
            #expect(unit.contains(directive), "unit lacks \(directive)")
        }
        // systemd's own assessment of the unit's sandbox (0 = locked down, 10 = exposed).
        let assessment = try runCommand(
            "systemd-analyze", ["security", "--offline=yes", r + "/etc/systemd/system/agritrace-agent.service"])
        let exposure = assessment.split(separator: "\n").last { $0.contains("Overall exposure level") }
            .flatMap { line in line.split(separator: " ").compactMap { Double($0) }.first }
        #expect((exposure ?? 10) <= 2.0, "systemd-analyze security: \(exposure ?? -1)")

        // The CA signs the CSR the box made (only the CSR travelled); the box installs the result.
        let keyBefore = try Data(contentsOf: URL(fileURLWithPath: r + "/etc/agritrace-agent/tls/device.key"))
        let enrollment = try broker.authority.enrollDevice(
            id: "farm-box-01", enterprise: "FARM1", stage: .planting,
            certificateRequestFile: r + "/etc/agritrace-agent/tls/device.csr",
            signingPublicKeyHex: try String(
                contentsOfFile: r + "/etc/agritrace-agent/signing-public-key.hex", encoding: .utf8
            )
            .trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(
            enrollment.record.signingPublicKeyHex == "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
        let issued = stubs.file("issued.crt")
        try enrollment.certificatePEM.write(toFile: issued, atomically: true, encoding: .utf8)
        try runCommand(
            script,
            arguments + [
                "--certificate", issued, "--ca-certificate", broker.authority.certificateAuthority.certificateFile,
            ])
        #expect(try Data(contentsOf: URL(fileURLWithPath: r + "/etc/agritrace-agent/tls/device.key")) == keyBefore)
        #expect(try String(contentsOfFile: r + "/etc/agritrace-agent/agent.toml", encoding: .utf8) == config)

        // The installed key and certificate connect to the mTLS broker and publish as the box.
        let records = Wire.recordTopic(enterprise: "FARM1", device: "farm-box-01")
        let aggregator = try broker.client(aggregatorKey)
        let box = try broker.client(
            "installed-box", certificateFile: r + "/etc/agritrace-agent/tls/device.crt",
            keyFile: r + "/etc/agritrace-agent/tls/device.key", caFile: r + "/etc/agritrace-agent/tls/ca.crt")
        defer { [aggregator, box].forEach { $0.client.disconnect() } }
        #expect(try await aggregator.subscribeAndConnect(Wire.allRecordsFilter))
        #expect(try await box.connect())
        #expect(try await box.publishAndWait(records, "from-installed-box") == 0)
        #expect(await eventually { aggregator.payloads(on: records) == ["from-installed-box"] })

        // Uninstall keeps keys, configuration and data; purge removes them.
        try "queued readings".write(
            toFile: r + "/var/lib/agritrace-agent/agent.sqlite", atomically: true, encoding: .utf8)
        try runCommand(script, ["--root", r, "--uninstall"])
        #expect(!FileManager.default.fileExists(atPath: r + "/usr/local/bin/agritrace-agent"))
        #expect(!FileManager.default.fileExists(atPath: r + "/etc/systemd/system/agritrace-agent.service"))
        #expect(FileManager.default.fileExists(atPath: r + "/var/lib/agritrace-agent/agent.sqlite"))
        #expect(FileManager.default.fileExists(atPath: r + "/etc/agritrace-agent/tls/device.key"))
        #expect(FileManager.default.fileExists(atPath: r + "/etc/agritrace-agent/agent.toml"))
        try runCommand(script, ["--root", r, "--uninstall", "--purge"])
        #expect(!FileManager.default.fileExists(atPath: r + "/var/lib/agritrace-agent"))
        #expect(!FileManager.default.fileExists(atPath: r + "/etc/agritrace-agent"))
        #expect(try Self.account("agritrace-agent", in: r) == nil)
    }

    @Test func installAgentRefusesIdentifiersThatWouldEscapeTheTopic() throws {
        let stubs = try TemporaryDirectory(prefix: "agritrace-stub")
        let agent = try Self.makeAgentStub(in: stubs)
        let root = try TemporaryDirectory(prefix: "agritrace-root")
        let error = #expect(throws: CommandError.self) {
            try runCommand(
                Self.provisioningDirectory + "/install-agent.sh",
                [
                    "--root", root.path, "--binary", agent, "--device-id", "box/+", "--enterprise", "FARM1", "--stage",
                    "planting",
                ])
        }
        #expect(error?.standardError.contains("may only use letters") == true)
        #expect(!FileManager.default.fileExists(atPath: root.path + "/usr/local/bin/agritrace-agent"))
    }

    /// The cloud install creates the CA, a TLS-only broker configuration that mosquitto runs,
    /// the aggregator identity, and the units; uninstall keeps the CA and the ledger.
    @Test func installCloudProducesABrokerThatRunsWithMutualTLS() async throws {
        let root = try TemporaryDirectory(prefix: "agritrace-cloud")
        let r = root.path
        let script = Self.provisioningDirectory + "/install-cloud.sh"
        let port = try freeLoopbackPort()
        try runCommand(
            script, ["--root", r, "--enroll", Self.enrollExecutable, "--port", String(port), "--bind", "127.0.0.1"])
        let mosquittoAccount = try #require(try Self.account("mosquitto", in: r))
        let aggregatorAccount = try #require(try Self.account("agritrace", in: r))
        let ca = r + "/var/lib/agritrace-ca"
        #expect(Self.mode(ca + "/private/ca.key") == 0o600)
        #expect(Self.mode(ca + "/broker/server.key") == 0o640)
        #expect(Self.owner(ca + "/broker/server.key").gid == mosquittoAccount.gid)
        #expect(Self.mode(r + "/etc/agritrace/tls/aggregator.key") == 0o640)
        #expect(Self.owner(r + "/etc/agritrace/tls/aggregator.key").gid == aggregatorAccount.gid)
        #expect(Self.mode(r + "/var/lib/agritrace") == 0o700)
        for unit in [
            "agritrace.service", "agritrace-mosquitto.service", "agritrace-crl.timer", "agritrace-crl.service",
        ] {
            #expect(FileManager.default.fileExists(atPath: r + "/etc/systemd/system/" + unit), "\(unit) missing")
        }
        let aggregatorUnit = try String(contentsOfFile: r + "/etc/systemd/system/agritrace.service", encoding: .utf8)
        #expect(
            aggregatorUnit.contains("ProtectSystem=strict")
                && aggregatorUnit.contains("ReadWritePaths=/var/lib/agritrace"))
        #expect(aggregatorUnit.contains("--tls-cert /etc/agritrace/tls/aggregator.crt"))
        // The HTTPS API is on by default: mutual TLS with the CA, revoked clients refused.
        #expect(aggregatorUnit.contains("--api-client-ca /etc/agritrace/tls/ca.crt"))
        #expect(aggregatorUnit.contains("--api-client-crl ${AGRITRACE_CA_DIR}/crl.pem"))
        // Prometheus metrics and health checks on loopback (docs/operations.md).
        #expect(aggregatorUnit.contains("--metrics-port 9465"))
        let settings = try String(contentsOfFile: r + "/etc/agritrace/aggregator.env", encoding: .utf8)
        #expect(
            settings.contains("AGRITRACE_API_PORT=8443") && settings.contains("AGRITRACE_CA_DIR=/var/lib/agritrace-ca"))
        #expect(Self.mode(r + "/etc/agritrace/tls/api.key") == 0o640)
        #expect(Self.owner(r + "/etc/agritrace/tls/api.key").gid == aggregatorAccount.gid)
        let apiCertificate = try runCommand(
            "openssl",
            [
                "verify", "-CAfile", ca + "/ca.crt", "-purpose", "sslserver", "-verify_ip", "127.0.0.1",
                r + "/etc/agritrace/tls/api.crt",
            ])
        #expect(apiCertificate.contains(": OK"), "\(apiCertificate)")
        // Issued by `enroll server`, which left its serial and names beside the configuration.
        let issued = try String(contentsOfFile: r + "/etc/agritrace/api-certificate.json", encoding: .utf8)
        #expect(issued.contains("\"serial\"") && issued.contains("127.0.0.1"), "\(issued)")
        #expect(!FileManager.default.fileExists(atPath: r + "/etc/agritrace/tls/api.csr"))
        let configuration = try String(contentsOfFile: r + "/etc/agritrace/mosquitto.conf", encoding: .utf8)
        #expect(configuration.contains("acl_file /var/lib/agritrace-ca/broker/acl"), "paths are the target's paths")
        #expect(!configuration.contains(r))
        let registry = try EnrollmentRegistry.load(from: ca + "/registry.json")
        #expect(registry.enrollments.map(\.id) == ["aggregator"])

        // Run mosquitto on the installed configuration (paths mapped into the tree, as root,
        // log to a file) and connect as the installed aggregator identity.
        var staged = configuration.replacingOccurrences(of: " /var/lib/", with: " \(r)/var/lib/")
        staged = staged.split(separator: "\n").filter { !$0.hasPrefix("pid_file") && !$0.hasPrefix("log_dest") }
            .joined(separator: "\n")
        staged = "user root\nlog_dest file \(r)/mosquitto.log\n" + staged + "\n"
        try staged.write(toFile: r + "/staged.conf", atomically: true, encoding: .utf8)
        let broker = try SpawnedProcess("/usr/sbin/mosquitto", ["-c", r + "/staged.conf"])
        defer { broker.kill() }
        let log = { (try? String(contentsOfFile: r + "/mosquitto.log", encoding: .utf8)) ?? "" }
        #expect(await eventually { log().contains("running") }, "\(log())")
        let client = try ClientHarness(
            "installed-aggregator",
            options: .init(
                host: "127.0.0.1", port: port,
                tls: .init(
                    caFile: r + "/etc/agritrace/tls/ca.crt", certificateFile: r + "/etc/agritrace/tls/aggregator.crt",
                    keyFile: r + "/etc/agritrace/tls/aggregator.key")))
        defer { client.client.disconnect() }
        #expect(try await client.subscribeAndConnect("$share/agritrace/\(Wire.allRecordsFilter)"), "\(log())")
        #expect(log().contains("u'aggregator'"))

        // Uninstall keeps the CA and the ledger directory; purge removes them.
        try runCommand(script, ["--root", r, "--uninstall"])
        #expect(!FileManager.default.fileExists(atPath: r + "/etc/systemd/system/agritrace.service"))
        #expect(FileManager.default.fileExists(atPath: ca + "/private/ca.key"))
        #expect(FileManager.default.fileExists(atPath: r + "/var/lib/agritrace"))
        try runCommand(script, ["--root", r, "--uninstall", "--purge"])
        #expect(!FileManager.default.fileExists(atPath: ca))
        #expect(!FileManager.default.fileExists(atPath: r + "/var/lib/agritrace"))
    }
}

/// `demo-deployment.sh`: the deployment the README demo runs on.
@Suite("Demo deployment script", .timeLimit(.minutes(2)))
struct DemoDeploymentTests {
    @Test func theDemoDeploymentEnrollsEveryoneAndItsBrokerEnforcesTheACL() async throws {
        let directory = try TemporaryDirectory(prefix: "agritrace-demo")
        let demo = directory.file("demo")
        let port = try freeLoopbackPort()
        let enroll = InstallScriptTests.enrollExecutable
        // (Without --start: a broker daemonized by the script would outlive the test. The
        // test starts the generated configuration itself and does the same smoke check.)
        let text = try runCommand(
            "env",
            [
                "AGRITRACE_ENROLL=\(enroll)", "AGRITRACE_AGENT=/nonexistent/agritrace-agent",
                "AGRITRACE_CLI=/nonexistent/agritrace",
                InstallScriptTests.provisioningDirectory + "/demo-deployment.sh", demo, "--port", String(port),
            ])
        #expect(text.contains("AgriTrace demo deployment in") && text.contains("broker config"))
        // The API's certificate serial is kept and printed in the command that revokes it.
        struct Issued: Decodable { var serial: String }
        let apiSerial = try JSONDecoder().decode(
            Issued.self, from: Data(contentsOf: URL(fileURLWithPath: demo + "/cloud/aggregator/api-certificate.json"))
        ).serial
        #expect(
            !apiSerial.isEmpty && text.contains("revoke --ca ")
                && text.contains("--serial \(apiSerial) --reason keyCompromise"), "\(text)")

        let registry = try EnrollmentRegistry.load(from: demo + "/ca/registry.json")
        #expect(
            registry.enrollments.map(\.principalName) == [
                "EdgeNode/planting/farm-box-01@FARM1", "EdgeNode/warehousing/warehouse-box-01@WARE1",
                "EdgeNode/transport/truck-01@LOGI1", "Aggregator/aggregator@AGRITRACE", "Firm/planting/farmer@FARM1",
                "Firm/sales/alice@RETAIL1",
                "Firm/processing/bob@PROC1", "Regulator/inspector@FOODAGENCY",
            ])
        for box in ["farm-box-01", "warehouse-box-01", "truck-01"] {
            let record = try EnrollmentRegistry.decoder.decode(
                EnrollmentRecord.self,
                from: Data(contentsOf: URL(fileURLWithPath: demo + "/boxes/\(box)/enrollment.json")))
            #expect(record.id == box && record.status == .active)
        }
        let configuration = try String(contentsOfFile: demo + "/broker/mosquitto.conf", encoding: .utf8)
        #expect(configuration.contains("listener \(port) 127.0.0.1"))

        // Start the generated configuration; mosquitto writes its pid where the CA's settings
        // point, so `enroll revoke` reloads it.
        let broker = try SpawnedProcess("/usr/sbin/mosquitto", ["-c", demo + "/broker/mosquitto.conf"])
        defer { broker.kill() }
        let log = { (try? String(contentsOfFile: demo + "/broker/mosquitto.log", encoding: .utf8)) ?? "" }
        #expect(
            await eventually {
                log().contains("running") && FileManager.default.fileExists(atPath: demo + "/broker/mosquitto.pid")
            })
        func client(_ home: String, _ id: String) throws -> ClientHarness {
            try ClientHarness(
                id,
                options: .init(
                    host: "127.0.0.1", port: port,
                    tls: .init(
                        caFile: home + "/ca.crt", certificateFile: home + "/tls.crt", keyFile: home + "/tls.key"),
                    reconnectDelay: .init(initialSeconds: 1, maximumSeconds: 1, exponentialBackoff: false)))
        }
        let aggregator = try client(demo + "/cloud/aggregator", "aggregator")
        let farm = try client(demo + "/boxes/farm-box-01", "farm-box-01")
        let truck = try client(demo + "/boxes/truck-01", "truck-01")
        defer { [aggregator, farm, truck].forEach { $0.client.disconnect() } }
        let farmRecords = Wire.recordTopic(enterprise: "FARM1", device: "farm-box-01")
        #expect(try await aggregator.subscribeAndConnect(Wire.allRecordsFilter))
        #expect(try await farm.connect())
        #expect(try await truck.connect())
        #expect(try await truck.publishAndWait(farmRecords, "forged") == 0x87)
        #expect(try await farm.publishAndWait(farmRecords, "hello") == 0)
        #expect(await eventually { aggregator.payloads(on: farmRecords) == ["hello"] })

        // Revocation through the command line reaches the running broker (CRL, ACL, SIGHUP).
        let revoked = try runCommand(enroll, ["revoke", "--ca", demo + "/ca", "--id", "truck-01"])
        #expect(revoked.contains("\"status\" : \"revoked\""))
        #expect(await eventually { log().contains("Reloading config.") })
        let truckRecords = Wire.recordTopic(enterprise: "LOGI1", device: "truck-01")
        #expect(try await truck.publishAndWait(truckRecords, "after-revocation") == 0x87)
        let check = #expect(throws: CommandError.self) {
            try runCommand(enroll, ["check", "--ca", demo + "/ca", "--certificate", demo + "/boxes/truck-01/tls.crt"])
        }
        #expect(check?.status == 1)

        // `agritrace devices revoke --ca` cuts a box at the CA (CRL, ACL, broker reload) and on
        // the ledger in one command; `principals revoke --ca` does the same for a firm.
        let cli = try builtProduct(named: "agritrace")
        let store = directory.file("ledger.sqlite")
        let authorityKey = directory.file("authority.key")
        _ = try runCommand(cli, ["keygen", "--output", authorityKey])
        _ = try runCommand(cli, ["keygen", "--output", directory.file("box.key")])
        let cloud = demo + "/cloud/aggregator"
        let serve = try BackgroundProcess(
            cli,
            [
                "serve", "--store", store, "--authority-key", authorityKey, "--broker-host", "127.0.0.1",
                "--broker-port", String(port), "--client-id", "aggregator-ledger", "--tls-ca", cloud + "/ca.crt",
                "--tls-cert",
                cloud + "/tls.crt", "--tls-key", cloud + "/tls.key", "--block-max-delay-ms", "20",
            ],
            logFile: directory.file("serve.log"))
        defer { serve.terminate() }
        let ledger = ["--store", store, "--authority-key", authorityKey, "--wait", "30"]
        _ = try runCommand(
            cli,
            [
                "devices", "add", "--enterprise", "WARE1", "--device", "warehouse-box-01", "--public-key",
                directory.file("box.key.pub"),
            ] + ledger)
        let both = try runCommand(
            cli,
            [
                "devices", "revoke", "--enterprise", "WARE1", "--device", "warehouse-box-01", "--ca", demo + "/ca",
                "--crl-reason", "keyCompromise",
            ] + ledger)
        #expect(both.contains("revoked at the CA (keyCompromise)"), "\(both)")
        let enrollments = { try EnrollmentRegistry.load(from: demo + "/ca/registry.json").enrollments }
        #expect(try enrollments().first { $0.id == "warehouse-box-01" }?.status == .revoked)
        let listed = try runCommand(cli, ["devices", "list", "--store", store, "--json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [[String: Any]])
        #expect(
            rows.first { $0["device"] as? String == "warehouse-box-01" }?["status"] as? String == "revoked", "\(listed)"
        )
        let warehouseCheck = #expect(throws: CommandError.self) {
            try runCommand(
                enroll, ["check", "--ca", demo + "/ca", "--certificate", demo + "/boxes/warehouse-box-01/tls.crt"])
        }
        #expect(warehouseCheck?.status == 1)
        // A name the CA does not know: nothing is revoked anywhere, and the error names it.
        let unknown = #expect(throws: CommandError.self) {
            try runCommand(
                cli, ["devices", "revoke", "--enterprise", "WARE1", "--device", "nope", "--ca", demo + "/ca"] + ledger)
        }
        #expect(unknown?.standardError.contains("no enrollment for device nope of WARE1") == true)
        _ = try runCommand(
            cli,
            [
                "principals", "revoke", "--name", "Firm/processing/bob@PROC1", "--ca", demo + "/ca", "--store", store,
                "--authority-key", authorityKey, "--wait", "0",
            ])
        #expect(try enrollments().first { $0.id == "bob" }?.status == .revoked)
    }
}
