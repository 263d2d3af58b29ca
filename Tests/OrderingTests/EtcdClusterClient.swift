import Foundation
import LedgerClient
import Ordering
import TestSupport

extension EtcdCluster {
    /// Starts `count` members and waits until a read through ``client(certificate:)`` goes through.
    static func start(members count: Int, tls: Bool = false) async throws -> EtcdCluster {
        try await start(members: count, tls: tls) { await $0.client().isAnswering() }
    }

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

    /// Waits until a read goes through (a leader is elected and a majority answers).
    func waitUntilHealthy() async throws { try await wait { await $0.client().isAnswering() } }
}

extension EtcdClient {
    /// Whether a read goes through.
    func isAnswering() async -> Bool {
        (try? await range(from: Array("health".utf8), to: Array("health0".utf8))) != nil
    }
}
