import Foundation
import LedgerClient
import Ordering
import TestSupport

/// Real etcd members (Debian's `etcd-server`, 3.4) on free loopback ports, each with its own
/// data directory, started and killed by the test.
final class EtcdCluster: @unchecked Sendable {
    struct Member {
        var name: String
        var clientPort: Int32
        var peerPort: Int32
        var process: BackgroundProcess?
    }

    let directory: TemporaryDirectory
    var members: [Member]
    /// TLS for clients (server certificate and client-certificate authentication), nil for
    /// plain HTTP on loopback.
    let certificates: TestCertificates?

    var scheme: String { certificates == nil ? "http" : "https" }

    private init(members count: Int, tls: Bool) throws {
        directory = try TemporaryDirectory(prefix: "etcd")
        certificates = tls ? try TestCertificates.generate(in: directory.path, clientCommonName: "node-1") : nil
        members = try (1...count).map {
            Member(name: "m\($0)", clientPort: try freeLoopbackPort(), peerPort: try freeLoopbackPort())
        }
    }

    /// Starts `count` members and waits until the cluster takes requests.
    static func start(members count: Int, tls: Bool = false) async throws -> EtcdCluster {
        let cluster = try EtcdCluster(members: count, tls: tls)
        for index in cluster.members.indices { try cluster.start(index) }
        try await cluster.waitUntilHealthy()
        return cluster
    }

    deinit {
        for member in members { member.process?.kill() }
        directory.remove()
    }

    var endpoints: [URL] { members.map { URL(string: "\(scheme)://127.0.0.1:\($0.clientPort)")! } }

    /// A client of every member, with this cluster's TLS files when it has them.
    func client(certificate: Bool = true) -> EtcdClient {
        var connection = APIConnection(caFile: certificates?.caFile)
        connection.insecureHTTP = certificates == nil
        if certificate, let certificates {
            connection.certificateFile = certificates.clientCertificateFile
            connection.keyFile = certificates.clientKeyFile
        }
        return EtcdClient(endpoints: endpoints, connection: connection, timeout: .seconds(2))
    }

    /// Starts member `index` (again, on its data directory, after a kill).
    func start(_ index: Int) throws {
        let member = members[index]
        let cluster = members.map { "\($0.name)=http://127.0.0.1:\($0.peerPort)" }.joined(separator: ",")
        var arguments = [
            "--name", member.name, "--data-dir", directory.file(member.name),
            "--listen-client-urls", "\(scheme)://127.0.0.1:\(member.clientPort)",
            "--advertise-client-urls", "\(scheme)://127.0.0.1:\(member.clientPort)",
            "--listen-peer-urls", "http://127.0.0.1:\(member.peerPort)",
            "--initial-advertise-peer-urls", "http://127.0.0.1:\(member.peerPort)",
            "--initial-cluster", cluster, "--initial-cluster-state", "new",
            "--heartbeat-interval", "100", "--election-timeout", "1000",
        ]
        if let certificates {
            // Server and client use: the member's JSON gateway dials the member with it.
            let (certificate, key) = try certificates.issueMemberCertificate(commonName: "etcd-" + member.name)
            arguments += [
                "--cert-file", certificate, "--key-file", key,
                "--trusted-ca-file", certificates.caFile, "--client-cert-auth",
            ]
        }
        members[index].process = try BackgroundProcess(
            "/usr/bin/etcd", arguments, logFile: directory.file(member.name + ".log"))
    }

    func kill(_ index: Int) {
        members[index].process?.kill()
        members[index].process = nil
    }

    /// Waits until a read goes through (a leader is elected and a majority answers).
    func waitUntilHealthy(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        let client = client()
        while ContinuousClock.now < deadline {
            if (try? await client.range(from: Array("health".utf8), to: Array("health0".utf8))) != nil { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw EtcdClusterError(log: logs)
    }

    /// Every member's log.
    var logs: String {
        members.map { (try? String(contentsOfFile: directory.file($0.name + ".log"), encoding: .utf8)) ?? "" }
            .joined()
    }
}

struct EtcdClusterError: Error, CustomStringConvertible {
    var log: String
    var description: String { "etcd did not become healthy:\n" + String(log.suffix(4000)) }
}
