import AccessFlow
import AgriTraceCore
import Foundation
import Ledger
import TestSupport
import Testing

/// Credit (docs/governance.md "Credit") through the built `agritrace` CLI: `audit credit` reads
/// the same rows from a real `agritrace api` over mutual TLS as from the store; an owner's
/// minimum credit out of range is refused naming the option before anything is signed.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct CreditGatewayTests {
    @Test func auditCreditOverTheAPIEqualsTheStoreAndTheConditionDeniesALowCredit() async throws {
        let (d, zhang) = try Deployment.protectedWithRequester()
        let wu = try d.enrollOutsider("Firm/wu@QX77", enterprise: "QX77")
        // ZS123 is granted once; QX77 is denied on its merits (a write) and struck.
        #expect(try d.requestAndMatch(zhang).status == .granted)
        #expect(try d.request(wu, action: .write).status == .denied)
        let dataID = try #require(try d.queries.encryptedData(owner: Deployment.owner).first).dataID
        try d.submit(Deployment.owner, .setMinimumCredit(dataID: dataID, basisPoints: 5_000))
        try d.cut()
        // Once its block is over, QX77's credit is below 0.5: its next read is denied without a strike.
        d.advance(minutes: 11)
        let strikes = try d.queries.credit().first { $0.enterprise == "QX77" }?.strikes
        let low = try d.request(wu, source: "10.0.0.8")
        #expect(low.reason?.hasPrefix("insufficient-credit: the credit of Firm/wu@QX77's enterprise is 0,") == true)
        #expect(try d.queries.credit().first { $0.enterprise == "QX77" }?.strikes == strikes)
        #expect(try d.request(zhang).status == .pending)

        let gateway = try await GatewayPunishmentTests.start(d, extra: [])
        defer { gateway.server.terminate() }
        let tls = gateway.connection
        let client = [
            "--tls-ca", tls.caFile ?? "", "--tls-cert", tls.certificateFile ?? "", "--tls-key", tls.keyFile ?? "",
        ]
        let cli = try builtProduct(named: "agritrace")
        let overAPI = try runCommand(cli, ["audit", "credit", "--json", "--api", gateway.base] + client)
        let fromStore = try runCommand(cli, ["audit", "credit", "--json", "--store", d.storePath])
        #expect(overAPI == fromStore)
        let rows = try JSONDecoder().decode([CreditRow].self, from: Data(fromStore.utf8))
        #expect(rows.first?.enterprise != "QX77" && rows.last?.enterprise == "QX77" && rows.last?.basisPoints == 0)
        #expect(rows.first { $0.enterprise == "ZS123" }?.grants == 1)
        let entries = try runCommand(cli, ["policy", "list", "--json", "--store", d.storePath])
        #expect(entries.contains("\"minimumCredit\" : 5000"), "\(entries)")

        let refused = #expect(throws: CommandError.self) {
            try runCommand(
                cli,
                [
                    "policy", "minimum-credit", dataID, "--minimum", "1.5", "--as", Deployment.owner, "--key",
                    d.directory.file("none.key"), "--store", d.storePath,
                ])
        }
        #expect(refused?.standardError.contains("--minimum \"1.5\" is not a credit from 0 to 1") == true)
    }
}
