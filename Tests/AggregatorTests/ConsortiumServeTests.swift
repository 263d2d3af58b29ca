import AgriTraceCore
import Crypto
import Foundation
import Ledger
import LedgerClient
import MQTTClient
import Ordering
import TestSupport
import Testing

/// `agritrace serve --consortium-genesis …` (docs/consortium.md, "Running a node"): three built
/// `agritrace` nodes with their own stores and brokers, ordering through three real etcd
/// members over TLS with client certificates, 2 of 3 cosigning.
@Suite("Consortium of serve nodes over etcd", .serialized, .timeLimit(.minutes(4)))
struct ConsortiumServeTests {
    static let names = ["operator.agritrace.example", "processor.agritrace.example", "regulator.agritrace.example"]

    /// The consortium's files: node keys, the genesis, the registry authority.
    struct Deployment {
        let directory: TemporaryDirectory
        let executable: String
        let genesis: ConsortiumGenesis
        let registryKey: String

        init(executable: String) throws {
            self.executable = executable
            let directory = try TemporaryDirectory(prefix: "agritrace-consortium")
            self.directory = directory
            for (index, name) in ConsortiumServeTests.names.enumerated() {
                _ = try runCommand(
                    executable, ["node", "keygen", "--name", name, "--output", directory.file("node-\(index)")])
            }
            let members = (0..<3).flatMap { ["--member", directory.file("node-\($0)/node.vkey")] }
            _ = try runCommand(
                executable,
                ["consortium", "genesis", "--origin", "agritrace.example/consortium", "--threshold", "2"] + members
                    + ["--output", directory.file("genesis.txt")])
            genesis = try ConsortiumGenesis(
                text: String(contentsOfFile: directory.file("genesis.txt"), encoding: .utf8))
            registryKey = directory.file("registry.key")
            _ = try runCommand(executable, ["keygen", "--output", registryKey])
        }

        func store(_ index: Int) -> String { directory.file("node-\(index).sqlite") }

        /// Queues a device's registration in node `index`'s store (put up for ordering once it runs).
        func register(_ device: TestDevice, at index: Int) throws {
            _ = try runCommand(
                executable,
                [
                    "devices", "add", "--store", store(index), "--authority-key", registryKey, "--enterprise",
                    device.enterprise, "--device", device.device, "--public-key", device.key.publicKey.hex,
                    "--wait", "0",
                ])
        }

        /// `serve` as node `index`, on its own broker, with its own etcd client certificate.
        func serve(_ index: Int, cluster: EtcdCluster, broker: TestBroker) throws -> ServeProcess {
            let certificates = try #require(cluster.certificates)
            let client = try certificates.issueClientCertificate(commonName: "node-\(index)")
            let etcd = cluster.endpoints.flatMap { ["--etcd", $0.absoluteString] }
            return try ServeProcess(
                executable: executable,
                arguments: [
                    "serve", "--store", store(index), "--consortium-genesis", directory.file("genesis.txt"),
                    "--node-key", directory.file("node-\(index)"), "--registry-authority", registryKey + ".pub",
                    "--etcd-ca", certificates.caFile, "--etcd-cert", client.certificateFile, "--etcd-key",
                    client.keyFile, "--broker-port", String(broker.port), "--client-id", "node-\(index)",
                    "--proposal-interval-ms", "100",
                ] + etcd, log: directory.file("node-\(index).log"))
        }

        func log(_ index: Int) -> String {
            (try? String(contentsOfFile: directory.file("node-\(index).log"), encoding: .utf8)) ?? ""
        }
    }

    /// Three TLS etcd members, three brokers, the three nodes (once the registrations are
    /// queued, and until they are applied everywhere) and a publisher at each broker.
    final class Running {
        let cluster: EtcdCluster
        var brokers: [TestBroker] = []
        var nodes: [ServeProcess] = []
        var publishers: [ReceiptListener] = []

        init(_ deployment: Deployment, registering registrations: [(device: TestDevice, node: Int)]) async throws {
            cluster = try await EtcdCluster.start(members: 3, tls: true) { cluster in
                let health = Array("health".utf8)
                return (try? await ConsortiumServeTests.etcdClient(cluster).range(from: health, to: health + [0]))
                    != nil
            }
            for registration in registrations { try deployment.register(registration.device, at: registration.node) }
            for _ in 0..<3 { brokers.append(try await TestBroker.start()) }
            for index in 0..<3 { nodes.append(try deployment.serve(index, cluster: cluster, broker: brokers[index])) }
            let count = UInt64(registrations.count)
            let registered = await eventually(timeout: .seconds(60)) {
                (0..<3).allSatisfy { ConsortiumServeTests.progress(deployment.store($0)).logSize >= count }
            }
            try #require(registered, "registrations applied on every node:\n\(deployment.log(0))")
            for index in 0..<3 {
                publishers.append(
                    try await ReceiptListener("publisher-\(index)", port: brokers[index].port, topics: []))
            }
        }

        /// Publishes `payloads` (again each round, as an agent resends) until every node applied
        /// `size` leaves under a final checkpoint, six rounds at most; whether they did.
        func publishUntilApplied(
            _ payloads: [(node: Int, topic: String, payload: [UInt8])], size: UInt64, _ deployment: Deployment
        ) async throws -> Bool {
            for _ in 0..<6 {
                for item in payloads {
                    try publishers[item.node].client.publish(topic: item.topic, payload: item.payload)
                }
                let applied = await eventually(timeout: .seconds(15)) {
                    (0..<3).allSatisfy {
                        let progress = ConsortiumServeTests.progress(deployment.store($0))
                        return progress.logSize == size && progress.final
                    }
                }
                if applied { return true }
            }
            return false
        }

        /// Stops the nodes gracefully, so their stores can be read.
        func stopNodes() {
            for node in nodes { node.terminate() }
            nodes = []
        }

        deinit {
            for publisher in publishers { publisher.client.disconnect() }
            for node in nodes { node.kill() }
            for broker in brokers { broker.kill() }
            cluster.stop()
        }
    }

    static func etcdClient(_ cluster: EtcdCluster) -> EtcdClient {
        let certificates = cluster.certificates
        let connection = APIConnection(
            caFile: certificates?.caFile, certificateFile: certificates?.clientCertificateFile,
            keyFile: certificates?.clientKeyFile)
        return EtcdClient(endpoints: cluster.endpoints, connection: connection, timeout: .seconds(2))
    }

    /// The number of leaves and the last applied height of a node's store (0 before it exists).
    static func progress(_ path: String) -> (logSize: UInt64, height: UInt64, final: Bool) {
        guard let store = try? LedgerStore(path: path, readOnly: true),
            let latest = try? store.latestCheckpoint()
        else { return (0, 0, false) }
        let size = (try? Checkpoint(text: latest.checkpoint).size) ?? 0
        return (size, latest.height, latest.finalNote != nil)
    }

    @Test func everyRecordEndsInEveryNodesLogOnceWithTheSameRootsAndA2Of3Checkpoint() async throws {
        let deployment = try Deployment(executable: try agritraceExecutable())
        defer { deployment.directory.remove() }
        var farm = TestDevice()
        var warehouse = TestDevice(enterprise: "warehouse-1", device: "box-2")
        let running = try await Running(deployment, registering: [(farm, 0), (warehouse, 2)])
        // Farm batches at nodes 0 and 1, warehouse batches at node 2; one farm batch at two nodes.
        var payloads: [(node: Int, topic: String, payload: [UInt8])] = []
        var published: [Record] = []
        for round in 0..<6 {
            let records = farm.records(50, lot: "PL-\(round)")
            published += records
            payloads.append((round % 2, farm.recordTopic, farm.payload(records)))
            let shipped = warehouse.records(20, lot: "WL-\(round)")
            published += shipped
            payloads.append((2, warehouse.recordTopic, warehouse.payload(shipped)))
        }
        payloads.append((1, payloads[0].topic, payloads[0].payload))
        let expectedSize = UInt64(2 + published.count)
        // Published again while not every record is in: a resend is ordered again, and admitted as a duplicate.
        let complete = try await running.publishUntilApplied(payloads, size: expectedSize, deployment)
        #expect(
            complete, "every node applied all \(published.count) records with a final checkpoint:\n\(deployment.log(0))"
        )
        running.stopNodes()
        try Self.checkTheNodesAgree(deployment, published: published, expectedSize: expectedSize)
    }

    /// The node that is the sequencer now, by index.
    static func sequencer(_ deployment: Deployment, _ etcd: EtcdClient) async -> Int? {
        let key = Array("agritrace/\(deployment.genesis.id.hex.prefix(16))/sequencer".utf8)
        guard let found = try? await etcd.range(from: key, to: key + [0]).first else { return nil }
        return names.firstIndex(of: String(decoding: found.value, as: UTF8.self))
    }

    /// Kill -9 of the sequencer under load, three times (restarted each time): no record lost or
    /// duplicated, and every node ends with the same log, checkpoints and state roots.
    @Test func theSequencerKilledUnderLoadLosesAndDuplicatesNothing() async throws {
        let deployment = try Deployment(executable: try agritraceExecutable())
        defer { deployment.directory.remove() }
        var farm = TestDevice()
        let running = try await Running(deployment, registering: [(farm, 1)])
        let etcd = Self.etcdClient(running.cluster)
        var payloads: [(node: Int, payload: [UInt8])] = []
        var published: [Record] = []
        for cycle in 0..<3 {
            let sequencer = try #require(await Self.sequencer(deployment, etcd), "a sequencer is elected")
            for batch in 0..<6 {
                let records = farm.records(50, lot: "PL-\(cycle)")
                published += records
                payloads.append(((cycle + batch) % 3, farm.payload(records)))
                try running.publishers[payloads.last!.node].client.publish(
                    topic: farm.recordTopic, payload: payloads.last!.payload)
                try await Task.sleep(for: .milliseconds(30))
            }
            running.nodes[sequencer].kill()
            running.nodes[sequencer] = try deployment.serve(
                sequencer, cluster: running.cluster, broker: running.brokers[sequencer])
        }
        // Batches a node took but had not put into etcd when it died are published again, as an agent resends.
        let expectedSize = UInt64(1 + published.count)
        let complete = try await running.publishUntilApplied(
            payloads.map { (node: $0.node, topic: farm.recordTopic, payload: $0.payload) }, size: expectedSize,
            deployment)
        #expect(complete, "every node applied all \(published.count) records:\n\(deployment.log(0))")
        running.stopNodes()
        try Self.checkTheNodesAgree(deployment, published: published, expectedSize: expectedSize)
    }

    /// Every record once at the same leaf on every node, the same checkpoints at every height,
    /// the last one final 2 of 3, and `verify --store` passing on every store.
    static func checkTheNodesAgree(_ deployment: Deployment, published: [Record], expectedSize: UInt64) throws {
        let stores = try (0..<3).map { try LedgerStore(path: deployment.store($0), readOnly: true) }
        for record in published {
            let locations = try stores.map { try $0.location(of: record.id)?.leafIndex }
            #expect(locations[0] != nil && Set(locations).count == 1, "record \(record.id) at \(locations)")
        }
        for store in stores {
            let status = try LedgerQueries(store: store).status()
            #expect(status.records == published.count)
            #expect(status.logSize == expectedSize)
        }
        let checkpoints = try stores.map { try $0.checkpoints() }
        let common = checkpoints.map(\.count).min() ?? 0
        #expect(common > 0)
        for height in 0..<common {
            #expect(Set(checkpoints.map { $0[height].checkpoint }).count == 1, "checkpoints at height \(height + 1)")
            #expect(Set(checkpoints.map { $0[height].stateRoot }).count == 1, "state roots at height \(height + 1)")
        }
        let last = try #require(checkpoints[0].last(where: { $0.finalNote != nil }))
        let note = try SignedNote(parsing: try #require(last.finalNote))
        let (checkpoint, cosigners) = try deployment.genesis.membership.checkpointVerifier.verify(note)
        #expect(cosigners.count >= 2)
        #expect(checkpoint.text == last.checkpoint)
        for index in 0..<3 {
            let result = try runAgritrace(["verify", "--store", deployment.store(index)])
            #expect(result.status == 0, "verify --store on node \(index): \(result.output)")
            let status = try runAgritrace(["status", "--store", deployment.store(index)])
            #expect(status.output.contains("consortium final height"), "\(status.output)")
            #expect(!status.output.contains("ALARM"), "\(status.output)")
        }
    }
}
