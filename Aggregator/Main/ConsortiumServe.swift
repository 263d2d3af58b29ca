import AgriTraceCore
import ArgumentParser
import ConsortiumNode
import Crypto
import Foundation
import Ledger
import LedgerClient
import Ordering

/// `serve`'s consortium options (docs/consortium.md, "Running a node"): with
/// `--consortium-genesis`, `serve` runs as one member of the consortium instead of a
/// single-node ledger.
struct ConsortiumOptions: ParsableArguments {
    @Option(
        name: .long,
        help:
            "Run as a member of the consortium this genesis file fixes (`agritrace consortium genesis`); without it, serve runs a single-node ledger."
    )
    var consortiumGenesis: String?

    @Option(name: .long, help: "This node's key directory (`agritrace node keygen`: node.key, node.vkey).")
    var nodeKey: String?

    @Option(name: .customLong("etcd"), help: "An etcd member's client URL, https://HOST:PORT; repeat for each member.")
    var etcd: [String] = []

    @Option(name: .customLong("etcd-ca"), help: "The deployment CA that signed the etcd members' certificates.")
    var etcdCA: String?

    @Option(name: .customLong("etcd-cert"), help: "This node's client certificate for etcd (from the deployment CA).")
    var etcdCert: String?

    @Option(name: .customLong("etcd-key"), help: "The key of --etcd-cert.")
    var etcdKey: String?

    @Option(
        name: .customLong("etcd-prefix"),
        help: "The consortium's key prefix in etcd (default: agritrace/<the consortium id's first 16 hex digits>/).")
    var etcdPrefix: String?

    @Option(
        name: .long,
        help:
            "The public key (hex, or a file holding it) registry transactions must be signed with: the consortium's registry authority."
    )
    var registryAuthority: String?

    @Option(
        name: .long, help: "The sequencer lease's time to live in seconds: how long a silent sequencer keeps the role.")
    var sequencerLeaseSeconds: Int = 5

    @Option(name: .long, help: "How often the sequencer proposes a block, in milliseconds.")
    var proposalIntervalMs: Int = 200

    var isEnabled: Bool { consortiumGenesis != nil }

    /// The node's cosigner and its private key, checked to be a member's.
    func node(of membership: ConsortiumMembership) throws -> (signer: NoteSigner, key: Curve25519.Signing.PrivateKey) {
        guard let nodeKey else {
            throw UserError("--consortium-genesis needs --node-key DIR, this node's key (`agritrace node keygen`)")
        }
        let files = Node.KeyFiles(directory: nodeKey)
        let signer = try files.signer()
        guard membership.members.contains(signer.verifierKey) else {
            throw UserError(
                "\(files.verifierKey) (\(signer.verifierKey.name)) is not a member of the consortium; fix: give a member's node key, or add it with a membership change"
            )
        }
        return (signer, try Keys.readPrivateKey(file: files.privateKey))
    }

    /// The etcd client: HTTPS with the deployment CA and this node's client certificate, always.
    func etcdClient() throws -> EtcdClient {
        guard !etcd.isEmpty else {
            throw UserError("--consortium-genesis needs --etcd https://HOST:PORT (each member)")
        }
        guard let etcdCA, let etcdCert, let etcdKey else {
            throw UserError(
                "--consortium-genesis needs --etcd-ca, --etcd-cert and --etcd-key: etcd is reached over TLS with a client certificate from the deployment CA"
            )
        }
        let endpoints = try etcd.map { text in
            guard let url = URL(string: text), url.scheme == "https", url.host != nil else {
                throw UserError("--etcd \(text) is not an https:// URL of an etcd member's client port")
            }
            return url
        }
        return EtcdClient(
            endpoints: endpoints, connection: APIConnection(caFile: etcdCA, certificateFile: etcdCert, keyFile: etcdKey)
        )
    }

    /// The consortium's configuration from the genesis and the etcd options.
    func configuration(membership: ConsortiumMembership) throws -> ConsortiumConfiguration {
        guard sequencerLeaseSeconds >= 2 else { throw UserError("--sequencer-lease-seconds must be at least 2") }
        guard proposalIntervalMs >= 10 else { throw UserError("--proposal-interval-ms must be at least 10") }
        let prefix = etcdPrefix ?? "agritrace/\(membership.consortium.hex.prefix(16))/"
        return ConsortiumConfiguration(
            etcd: try etcdClient(), keys: ConsortiumKeys(prefix: prefix), membership: membership,
            leaseSeconds: sequencerLeaseSeconds, proposalInterval: .milliseconds(proposalIntervalMs))
    }
}

extension Serve {
    /// `serve --consortium-genesis …`: this node's ledger driven by the consortium's ordered
    /// proposals, its broker's batches and its queued submissions put up for ordering, and the
    /// API over its store (not authoritative once it diverged: `/readyz` says so).
    func runConsortium() async throws {
        let process = try ServerProcess(
            label: "agritrace.serve", logging: logging, operations: operations, settings: settings)
        let logger = process.logger
        let lock = try StoreLock(store: store, command: "agritrace serve")
        let membership = try ConsortiumFiles.genesis(consortium.consortiumGenesis!).membership
        let (signer, key) = try consortium.node(of: membership)
        guard let registry = consortium.registryAuthority else {
            throw UserError(
                "--consortium-genesis needs --registry-authority KEY: the public key registry transactions are signed with"
            )
        }
        var configuration = try ledgerConfiguration()
        configuration.registryAuthority = try Keys.readPublicKey(registry)
        configuration.proposer = signer.verifierKey.name
        let ledger = try Ledger(path: store, authority: key, configuration: configuration)
        let applier = try ProposalApplier(ledger: ledger, origin: membership.origin, signer: signer)
        let log: @Sendable (String) -> Void = { line in logger.info("\(line)") }
        let node = try ConsortiumNodeService(
            applier: applier, configuration: try consortium.configuration(membership: membership), log: log)
        let ingest = ConsortiumIngest(
            node: node, broker: try brokerOptions(), clientID: clientID, shareGroup: shareGroup, log: log)
        try await process.run(
            [
                ("consortium", ServerLifecycle.service { try await node.run() }),
                ("ingest", ServerLifecycle.service { try await ingest.run() }),
            ], storePath: store, api: api, operations: operations, ready: { node.notAuthoritative }, blobs: nil,
            readAtStart: Self.readAtStart)
        logger.notice("stopped")
        withExtendedLifetime(lock) {}
    }
}
