import Foundation
import LedgerClient
import Ordering
import TestSupport
import Testing

/// `install-etcd-member.sh` run three times with `--root` into temporary trees (no systemd),
/// then the three members started as their unit starts them (`/usr/bin/etcd` with the
/// installed `etcd.env`, paths mapped into each tree): a consortium's ordering cluster on the
/// shipped configuration.
@Suite("etcd member install", .serialized, .timeLimit(.minutes(2)))
struct EtcdMemberInstallTests {
    static let script = InstallScriptTests.provisioningDirectory + "/install-etcd-member.sh"
    static let enroll = InstallScriptTests.enrollExecutable

    /// Runs the installer for one member and returns its tree.
    static func install(
        _ name: String, clientPort: Int32, peerPort: Int32, cluster: String, ca: String,
        in directory: TemporaryDirectory
    ) throws -> String {
        let root = directory.file("root-" + name)
        try runCommand(
            script,
            [
                "--root", root, "--enroll", enroll, "--ca-dir", ca, "--name", name,
                "--client-url", "https://127.0.0.1:\(clientPort)", "--peer-url", "https://127.0.0.1:\(peerPort)",
                "--initial-cluster", cluster, "--bind", "127.0.0.1",
            ])
        return root
    }

    /// The installed settings as etcd reads them, with the files' paths moved into `root`.
    static func environment(installedIn root: String) throws -> [String: String] {
        let text = try String(contentsOfFile: root + "/etc/agritrace/etcd.env", encoding: .utf8)
        var environment: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            var value = String(line[line.index(after: equals)...])
            if value.hasPrefix("/") { value = root + value }
            environment[String(line[..<equals])] = value
        }
        return environment
    }

    /// A client of `endpoints` presenting `certificate` (or none).
    static func client(_ endpoints: [URL], ca: String, certificate: (file: String, key: String)?) -> EtcdClient {
        var connection = APIConnection(caFile: ca)
        connection.certificateFile = certificate?.file
        connection.keyFile = certificate?.key
        return EtcdClient(endpoints: endpoints, connection: connection, timeout: .seconds(2))
    }

    /// Three installed members form a cluster over mutual TLS between peers; a node with a
    /// client certificate from the deployment CA writes through one member and reads through
    /// another; a client without a certificate is refused.
    @Test func threeInstalledMembersServeClientsOverTLSWithClientCertificates() async throws {
        let directory = try TemporaryDirectory(prefix: "etcd-install")
        let ca = directory.file("ca")
        try runCommand(Self.enroll, ["init", "--ca", ca])
        let names = ["etcd-operator", "etcd-regulator", "etcd-processor"]
        let clientPorts = try names.map { _ in try freeLoopbackPort() }
        let peerPorts = try names.map { _ in try freeLoopbackPort() }
        let cluster = names.indices.map { "\(names[$0])=https://127.0.0.1:\(peerPorts[$0])" }.joined(separator: ",")
        let roots = try names.indices.map {
            try Self.install(
                names[$0], clientPort: clientPorts[$0], peerPort: peerPorts[$0], cluster: cluster, ca: ca,
                in: directory)
        }

        // What the installer wrote: TLS on both ports with client certificates, a key only the
        // member's group reads, the unit reading the settings.
        let settings = try String(contentsOfFile: roots[0] + "/etc/agritrace/etcd.env", encoding: .utf8)
        for line in [
            "ETCD_CLIENT_CERT_AUTH=true", "ETCD_PEER_CLIENT_CERT_AUTH=true",
            "ETCD_ADVERTISE_CLIENT_URLS=https://127.0.0.1:\(clientPorts[0])", "ETCD_INITIAL_CLUSTER=\(cluster)",
        ] {
            #expect(settings.contains(line + "\n"), "\(line) missing")
        }
        #expect(InstallScriptTests.mode(roots[0] + "/etc/agritrace/etcd-tls/member.key") == 0o640)
        let unit = try String(contentsOfFile: roots[0] + "/etc/systemd/system/agritrace-etcd.service", encoding: .utf8)
        #expect(unit.contains("EnvironmentFile=/etc/agritrace/etcd.env") && unit.contains("ExecStart=/usr/bin/etcd\n"))
        let purposes = try runCommand(
            "openssl",
            ["x509", "-in", roots[0] + "/etc/agritrace/etcd-tls/member.crt", "-noout", "-ext", "extendedKeyUsage"])
        #expect(
            purposes.contains("TLS Web Server Authentication") && purposes.contains("TLS Web Client Authentication"))

        let members = try roots.indices.map {
            try BackgroundProcess(
                "/usr/bin/etcd", [], logFile: directory.file(names[$0] + ".log"),
                environment: try Self.environment(installedIn: roots[$0]))
        }
        defer { for member in members { member.kill() } }

        // A node's client certificate: enrolled like the aggregator's.
        let nodeKey = directory.file("node.key")
        let nodeCertificate = directory.file("node.crt")
        try runCommand(
            Self.enroll, ["request", "--id", "node-1", "--key", nodeKey, "--out", directory.file("node.csr")])
        try runCommand(
            Self.enroll,
            ["aggregator", "--ca", ca, "--csr", directory.file("node.csr"), "--out", nodeCertificate, "--id", "node-1"])
        let endpoints = clientPorts.map { URL(string: "https://127.0.0.1:\($0)")! }
        let first = Self.client([endpoints[0]], ca: ca + "/ca.crt", certificate: (nodeCertificate, nodeKey))
        let last = Self.client([endpoints[2]], ca: ca + "/ca.crt", certificate: (nodeCertificate, nodeKey))
        let key = Array("agritrace/install-test".utf8)
        var written = false
        let deadline = ContinuousClock.now + .seconds(60)
        while !written && ContinuousClock.now < deadline {
            let put = try? await first.transaction(if: [], then: [.put(key: key, value: Array("ok".utf8), lease: 0)])
            written = put?.succeeded == true
            if !written { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(written, "no write went through: \(members.map(\.log).joined(separator: "\n---\n").suffix(3000))")
        // Replicated to the third member over the peers' mutual TLS.
        let read = try await last.range(from: key, to: key + [0])
        #expect(read.map(\.value) == [Array("ok".utf8)])

        let anonymous = Self.client(endpoints, ca: ca + "/ca.crt", certificate: nil)
        await #expect(throws: (any Error).self) { _ = try await anonymous.range(from: key, to: key + [0]) }
    }

    /// Bad input is refused before anything is installed, naming the option.
    @Test func badOptionsAreRefusedNamingTheOption() throws {
        let directory = try TemporaryDirectory(prefix: "etcd-install")
        let root = directory.file("root")
        let base = [
            "--root", root, "--ca-dir", directory.path, "--peer-url", "https://127.0.0.1:2380",
            "--initial-cluster", "m1=https://127.0.0.1:2380",
        ]
        let cases: [([String], String)] = [
            (base + ["--client-url", "https://127.0.0.1:2379"], "--name is missing"),
            (
                base + ["--name", "m1", "--client-url", "http://127.0.0.1:2379"],
                "--client-url \"http://127.0.0.1:2379\""
            ),
            (
                base + ["--name", "m2", "--client-url", "https://127.0.0.1:2379"],
                "--initial-cluster does not list this member"
            ),
            (
                base + ["--name", "m1", "--client-url", "https://127.0.0.1:2379", "--cluster-state", "old"],
                "--cluster-state \"old\""
            ),
        ]
        for (arguments, message) in cases {
            let error = #expect(throws: CommandError.self) { try runCommand(Self.script, arguments) }
            #expect(error?.standardError.contains(message) == true, "\(arguments): \(error?.standardError ?? "")")
        }
        #expect(!FileManager.default.fileExists(atPath: root + "/etc/agritrace/etcd.env"))
    }
}
