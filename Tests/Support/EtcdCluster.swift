import Foundation

/// Real etcd members (Debian's `etcd-server`, 3.4) on free loopback ports, each with its own
/// data directory, started and killed by a test or a benchmark.
public final class EtcdCluster: @unchecked Sendable {
    public struct Member: Sendable {
        public var name: String
        public var clientPort: Int32
        public var peerPort: Int32
        var process: BackgroundProcess?
    }

    public let directory: TemporaryDirectory
    public private(set) var members: [Member]
    /// TLS for clients (member certificates and client-certificate authentication), nil for
    /// plain HTTP on loopback.
    public let certificates: TestCertificates?

    public var scheme: String { certificates == nil ? "http" : "https" }

    private init(members count: Int, tls: Bool) throws {
        directory = try TemporaryDirectory(prefix: "etcd")
        certificates = tls ? try TestCertificates.generate(in: directory.path, clientCommonName: "node-1") : nil
        members = try (1...count).map {
            Member(name: "m\($0)", clientPort: try freeLoopbackPort(), peerPort: try freeLoopbackPort())
        }
    }

    /// Starts `count` members, then waits (up to 30 s) until `isHealthy` says the cluster takes
    /// requests (e.g. a read through a client of ``endpoints``).
    public static func start(
        members count: Int, tls: Bool = false, isHealthy: @Sendable (EtcdCluster) async -> Bool
    ) async throws -> EtcdCluster {
        let cluster = try EtcdCluster(members: count, tls: tls)
        for index in cluster.members.indices { try cluster.start(index) }
        try await cluster.wait(until: isHealthy)
        return cluster
    }

    deinit { stop() }

    /// Kills every member and removes the data directories. A benchmark's top-level cluster must
    /// call it: a program's globals are never deinitialized, and the members would outlive it.
    public func stop() {
        for index in members.indices { kill(index) }
        directory.remove()
    }

    /// The members' client URLs.
    public var endpoints: [URL] { members.map { URL(string: "\(scheme)://127.0.0.1:\($0.clientPort)")! } }

    /// Starts member `index` (again, on its data directory, after a kill).
    public func start(_ index: Int) throws {
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

    /// SIGKILL of member `index`.
    public func kill(_ index: Int) {
        members[index].process?.kill()
        members[index].process = nil
    }

    /// Waits until `isHealthy` holds, polling every 200 ms.
    public func wait(until isHealthy: @Sendable (EtcdCluster) async -> Bool, timeout: Duration = .seconds(30))
        async throws
    {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await isHealthy(self) { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw EtcdClusterError(log: logs)
    }

    /// Every member's log.
    public var logs: String {
        members.map { (try? String(contentsOfFile: directory.file($0.name + ".log"), encoding: .utf8)) ?? "" }
            .joined()
    }
}

/// The cluster did not take requests in time; carries the end of the members' logs.
public struct EtcdClusterError: Error, CustomStringConvertible {
    public var log: String
    public var description: String { "etcd did not become healthy:\n" + String(log.suffix(4000)) }
}
