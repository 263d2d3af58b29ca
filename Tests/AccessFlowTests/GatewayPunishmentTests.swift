import AccessFlow
import AgriTraceCore
import Crypto
import Foundation
import Ledger
import LedgerClient
import NIOHTTP1
import TestSupport
import Testing

/// The access gateway's punishment through a real `agritrace api` over mutual TLS
/// (docs/governance.md): the address it observes and the requester principal are struck and
/// refused at every access step; the requester's `source` label punishes nobody; only a
/// trusted proxy's `X-Forwarded-For` names the client. The ledger's writer is this process
/// (``Deployment``): it admits what the API queued and cuts the blocks.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct GatewayPunishmentTests {
    /// A running `agritrace api` over the deployment's store, and a client of it.
    struct Gateway {
        let base: String
        let server: BackgroundProcess
        let connection: APIConnection

        /// Posts `body` to `path` as if through a reverse proxy naming `client`.
        func post(_ path: String, _ body: [UInt8], client: String?) async throws -> APITransport.Response {
            try await APITransport.send(
                method: .POST, url: URL(string: base + path)!, body: Data(body), connection: connection,
                headers: client.map { [("X-Forwarded-For", $0)] } ?? [])
        }

        func get(_ path: String, client: String?) async throws -> APITransport.Response {
            try await APITransport.send(
                method: .GET, url: URL(string: base + path)!, body: nil, connection: connection,
                headers: client.map { [("X-Forwarded-For", $0)] } ?? [])
        }
    }

    static func start(_ d: Deployment, extra: [String]) async throws -> Gateway {
        let certificates = try TestCertificates.generate(in: d.directory.path, clientCommonName: "firm-client")
        let port = Int(try freeLoopbackPort())
        let server = try BackgroundProcess(
            try builtProduct(named: "agritrace"),
            [
                "api", "--store", d.storePath, "--http-port", "\(port)", "--api-cert",
                certificates.serverCertificateFile, "--api-key", certificates.serverKeyFile, "--api-client-ca",
                certificates.caFile,
            ] + extra, logFile: d.directory.file("api-\(port).log"))
        let gateway = Gateway(
            base: "https://127.0.0.1:\(port)", server: server,
            connection: APIConnection(
                caFile: certificates.caFile, certificateFile: certificates.clientCertificateFile,
                keyFile: certificates.clientKeyFile))
        // A generous wait: the suite starts several servers at once on a loaded machine.
        let deadline = ContinuousClock.now + .seconds(60)
        while (try? await gateway.get("/v1/status", client: nil)) == nil {
            try #require(ContinuousClock.now < deadline, "the API did not start")
            try await Task.sleep(for: .milliseconds(100))
        }
        return gateway
    }

    /// A signed trapdoor request of `keys` for the lot (the `source` label chosen freely).
    static func trapdoor(_ d: Deployment, _ keys: RequesterKeys, source: String) throws -> (TrapdoorRequest, [UInt8]) {
        let request = try keys.trapdoorRequest(
            lot: Deployment.lot, product: Deployment.product, stage: .planting, level: .level2, action: .write,
            source: source, parameters: try #require(try d.queries.accessParameters()).parameters)
        return (request, try d.signed(keys.grant.principal, .addTrapdoor(request)))
    }

    /// `serve`'s part: admit what the API queued and cut a block.
    static func order(_ d: Deployment) throws {
        try d.ledger.admitSubmissions()
        try d.cut()
    }

    @Test func aDeniedRequestBlocksTheObservedAddressAndThePrincipalAtEveryStep() async throws {
        let (d, keys) = try Deployment.protectedWithRequester()
        let other = try d.enrollOutsider("Firm/other@ZS555", enterprise: "ZS555")
        // Blocks run from the block time; the gateway checks them at its own clock.
        d.clock = Timestamp.now()
        let gateway = try await Self.start(d, extra: ["--trusted-proxy", "127.0.0.1"])
        defer { gateway.server.terminate() }
        let address = "203.0.113.7"

        // A denied request (a write the policy does not permit) strikes the observed address
        // and the principal; the source label is nobody's address.
        let (first, body) = try Self.trapdoor(d, keys, source: "198.51.100.99")
        #expect(try await gateway.post("/v1/transactions", body, client: address).status == 200)
        try Self.order(d)
        let denied = try #require(try d.queries.accessRequest(first.requestID))
        #expect(denied.status == .denied)
        let keys1 = Set(try d.queries.blacklist().map(\.source))
        #expect(keys1 == [address, "principal:" + keys.grant.principal])
        #expect(!keys1.contains("198.51.100.99"), "the source label must not be punished")

        // Another source label, another principal from the same address, the same principal
        // from another address, straight to redeem, fetch or a blob download: all refused.
        for (label, principal, client) in [
            ("10.0.0.1", keys, address), ("10.0.0.2", other, address), ("10.0.0.3", keys, "198.51.100.20"),
        ] {
            let (_, again) = try Self.trapdoor(d, principal, source: label)
            let answer = try await gateway.post("/v1/transactions", again, client: client)
            #expect(answer.status == 403, "\(principal.grant.principal) from \(client)")
            #expect(String(decoding: answer.body, as: UTF8.self).contains("blacklisted"))
        }
        let redeem = try d.signed(
            keys.grant.principal,
            .redeem(
                RedeemRequest(
                    requestID: first.requestID, requesterKey: [UInt8](repeating: 1, count: 32), proof: [1],
                    purpose: "audit")))
        #expect(try await gateway.post("/v1/transactions", redeem, client: "198.51.100.21").status == 403)
        #expect(try await gateway.get("/v1/transfers/keys?redeem-leaf=1", client: address).status == 403)
        #expect(try await gateway.get("/v1/blobs/" + String(repeating: "ab", count: 32), client: address).status == 403)

        // The other principal from an address nobody struck passes the gateway, and so does
        // the address the first request named as its source.
        let (_, fromElsewhere) = try Self.trapdoor(d, other, source: address)
        #expect(try await gateway.post("/v1/transactions", fromElsewhere, client: "198.51.100.99").status == 200)
        try Self.order(d)
        #expect(try d.queries.blacklist().contains { $0.source == "198.51.100.99" })
        #expect(!(try d.queries.blacklist().contains { $0.source == address && $0.strikes > 1 }))
    }

    @Test func anUnregisteredKeyIsRefusedAndStrikesOnlyItsAddress() async throws {
        let (d, keys) = try Deployment.protectedWithRequester()
        d.clock = Timestamp.now()
        let gateway = try await Self.start(d, extra: ["--trusted-proxy", "127.0.0.1"])
        defer { gateway.server.terminate() }
        // Signed with a key the ledger does not know, in the name of a registered principal.
        let (request, _) = try Self.trapdoor(d, keys, source: "label")
        let forged = Canonical.encode(
            try Signed(
                AccessTransaction(submitter: keys.grant.principal, operation: .addTrapdoor(request)),
                domain: .transaction, key: Curve25519.Signing.PrivateKey()))
        #expect(try await gateway.post("/v1/transactions", forged, client: "192.0.2.66").status == 200)
        try Self.order(d)
        #expect(try d.queries.accessRequest(request.requestID) == nil)
        let rows = try d.queries.blacklist()
        #expect(rows.map(\.source) == ["192.0.2.66"], "the named principal is not struck")
        let event = try #require(try d.queries.accessEvents(method: "addTrapdoor").first)
        #expect(event.outcome == .refused && event.detail.contains("not signed by"), "\(event.detail)")
    }

    @Test func xForwardedForCountsOnlyFromATrustedProxy() async throws {
        let (d, keys) = try Deployment.protectedWithRequester()
        d.clock = Timestamp.now()
        // No --trusted-proxy: the TCP peer (127.0.0.1) is the client whatever the header says.
        let gateway = try await Self.start(d, extra: [])
        defer { gateway.server.terminate() }
        let (request, body) = try Self.trapdoor(d, keys, source: "label")
        #expect(try await gateway.post("/v1/transactions", body, client: "203.0.113.50").status == 200)
        try Self.order(d)
        #expect(try d.queries.accessRequest(request.requestID)?.status == .denied)
        #expect(Set(try d.queries.blacklist().map(\.source)) == ["127.0.0.1", "principal:" + keys.grant.principal])
    }

    @Test func punishmentRulesOutOfRangeAreRefusedNamingTheField() throws {
        let agritrace = try builtProduct(named: "agritrace")
        let directory = try TemporaryDirectory(prefix: "rules")
        let common = [
            "regulator", "setup", "--secrets", directory.file("regulator.secrets"), "--as", "Regulator/r@GOV", "--key",
            directory.file("missing.key"), "--store", directory.file("ledger.sqlite"),
        ]
        for (option, value, field) in [
            ("--block-minutes", "0", "blockMilliseconds 0"), ("--maximum-strikes", "0", "maximumStrikes 0"),
            ("--trapdoors-per-minute", "0", "trapdoorsPerMinute 0"),
            ("--block-minutes", "9999999999999999", "blockMilliseconds"),
        ] {
            let result = try runCombiningOutput(agritrace, common + [option, value])
            #expect(result.status != 0, "\(option) \(value)")
            #expect(result.output.contains(field) && result.output.contains(option), "\(result.output)")
        }
        // Nothing was generated or signed.
        #expect(!FileManager.default.fileExists(atPath: directory.file("regulator.secrets")))
        // The contract refuses the same values from a client that skips the CLI's check.
        let d = try Deployment()
        var parameters = d.secrets.publicParameters()
        parameters.blockMilliseconds = 0
        let refusal = #expect(throws: ContractViolation.self) {
            try d.submit(Deployment.regulator, .publishParameters(parameters))
        }
        #expect(refusal?.reason.contains("blockMilliseconds 0 is out of range") == true)
    }
}
