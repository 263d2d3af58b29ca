import AccessFlow
import AgriTraceCore
import Foundation
import Ledger
import TestSupport
import Testing

/// The governance commands of the built `agritrace` CLI end to end on a real ledger store
/// (docs/governance.md): the owner's whitelist, a violation report and the regulator's
/// confirmation revoking the offender's grant in the same block, the requester's history and
/// the expiries audit as JSON, and a report about an unknown principal refused naming the field.
/// This process is the server's writer: it admits what the CLI queued and cuts the blocks.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct GovernanceCLITests {
    /// Writes `principal`'s signing key where the CLI reads it (hex, mode 0600).
    static func keyFile(_ d: Deployment, _ principal: String) throws -> String {
        let path = d.directory.file(principal.replacingOccurrences(of: "/", with: "_") + ".key")
        let key = try #require(d.keys[principal])
        #expect(
            FileManager.default.createFile(
                atPath: path, contents: Data(key.rawRepresentation.map { String(format: "%02x", $0) }.joined().utf8),
                attributes: [.posixPermissions: 0o600]))
        return path
    }

    @Test func whitelistViolationsHistoryAndExpiriesThroughTheBuiltCLI() throws {
        let (d, zhang) = try Deployment.protectedWithRequester()
        let wu = try d.enrollOutsider("Firm/wu@QX77", enterprise: "QX77")
        let cli = try builtProduct(named: "agritrace")
        let store = ["--store", d.storePath]
        func signer(_ principal: String) throws -> [String] {
            ["--as", principal, "--key", try Self.keyFile(d, principal), "--wait", "0"] + store
        }
        func order() throws {
            _ = try d.ledger.admitSubmissions()
            try d.cut()
        }

        // The owner whitelists wu, whose attributes are outside its policy: granted without a match.
        try runCommand(
            cli,
            ["whitelist", "add", "--lot", Deployment.lot, "--principal", wu.grant.principal] + signer(Deployment.owner))
        try order()
        #expect(try runCommand(cli, ["whitelist", "list", "--json"] + store).contains("\"\(wu.grant.principal)\""))
        #expect(try d.request(wu, source: "10.0.0.9").status == .granted)

        // zhang's grant comes from a match; the owner reports zhang, the regulator confirms.
        let granted = try d.requestAndMatch(zhang)
        #expect(granted.status == .granted)
        let evidence = d.directory.file("evidence.txt")
        try "the buyer resold the lot's records".write(toFile: evidence, atomically: true, encoding: .utf8)
        let report = [
            "violation", "report", "--owner", "PLANT1", "--lot", Deployment.lot, "--evidence", evidence,
            "--severity", "high", "--summary", "resold the data",
        ]
        try runCommand(cli, report + ["--offender", zhang.grant.principal] + signer(Deployment.owner))
        try order()
        struct Proven<Entry: Decodable>: Decodable { var entry: Entry }
        let reports = try JSONDecoder().decode(
            [Proven<ViolationRow>].self, from: Data(try runCommand(cli, ["violation", "list", "--json"] + store).utf8))
        let reportID = try #require(reports.first { $0.entry.offender == zhang.grant.principal }).entry.reportID
        try runCommand(cli, ["violation", "confirm", reportID] + signer(Deployment.regulator))
        try order()
        #expect(try d.queries.violations(offender: zhang.grant.principal).first?.status == .confirmed)
        #expect(
            try d.queries.grants(owner: Deployment.owner).first { $0.requestID == granted.requestID }?.revoked == true)

        // The requester's thread names the confirmation; the expiries audit is JSON.
        let history = try runCommand(cli, ["audit", "history", "--principal", zhang.grant.principal, "--json"] + store)
        #expect(history.contains("\"addTrapdoor\"") && history.contains("\"confirmViolation\""), "\(history)")
        _ = try JSONSerialization.jsonObject(
            with: Data(try runCommand(cli, ["audit", "expiries", "--json"] + store).utf8))

        // A report about a principal nobody registered is refused before signing, naming the field.
        let refused = #expect(throws: CommandError.self) {
            try runCommand(cli, report + ["--offender", "Firm/ghost@NONE"] + signer(Deployment.owner))
        }
        #expect(refused?.standardError.contains("offender: Firm/ghost@NONE is not a registered principal") == true)
    }
}
