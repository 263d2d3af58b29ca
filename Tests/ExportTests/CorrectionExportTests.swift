import AgriTraceCore
import Crypto
import Exports
import Foundation
import Ledger
import TestSupport
import Testing

/// A correction (docs/governance.md, "Corrections") in the exports, `trace` and the audit,
/// through the built CLI over a real ledger store: the planting enterprise records a second
/// planting reading of its lot and names it the correction of the first.
@Suite("Corrections in the exports", .serialized, .timeLimit(.minutes(3)))
struct CorrectionExportTests {
    static let lot = "PL-2026-0417"
    static let principal = "Firm/admin@FARM1"

    /// The example chain with the planting record corrected; the superseded and correcting ids.
    static func corrected() throws -> (ExampleChain, old: RecordID, new: RecordID) {
        let chain = try ExampleChain()
        let old = try #require(chain.classified.first { $0.record.lot == lot }).record.id
        var reading = try #require(try ExampleChain.readings().first { $0.lot == lot })
        reading.time = Timestamp(milliseconds: reading.time.milliseconds + 60_000)
        let new = try chain.commit(reading, enterprise: "FARM1", device: "farm-box-02").record.id
        let key = Curve25519.Signing.PrivateKey()
        try chain.ledger.admit(
            registry: SignedRegistry.addPrincipal(
                principal, kind: .firm, enterprise: "FARM1", role: "farm-administrator", key: key.publicKey,
                authority: chain.authority))
        try chain.ledger.cutBlock()
        let correction = RecordCorrection(superseded: old, correction: new, reason: "planting time entered in UTC")
        try chain.ledger.admit(
            access: Signed(
                AccessTransaction(submitter: principal, operation: .correctRecord(correction)), domain: .transaction,
                key: key))
        try chain.ledger.cutBlock()
        return (chain, old, new)
    }

    func cli(_ chain: ExampleChain, _ arguments: [String]) throws -> String {
        try runCommand(try builtProduct(named: "agritrace"), arguments + ["--store", chain.path])
    }

    @Test func theSupersededEventCarriesAnErrorDeclarationAndValidates() throws {
        let (chain, old, new) = try Self.corrected()
        let file = chain.directory.file("corrected.json")
        _ = try cli(chain, ["export", "epcis", Self.lot, "--output", file])
        let verdict = try SchemaValidator.validate(file)
        #expect(verdict.valid, "\(verdict.report)")
        let document = try #require(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
        let events = try EPCISExportTests.events(document)
        #expect(events.count == 2)
        let superseded = try #require(events.first { $0["eventID"] as? String == EPCIS.eventID(of: old) })
        let declaration = try #require(superseded["errorDeclaration"] as? [String: Any])
        #expect(declaration["reason"] as? String == "incorrect_data")
        #expect(declaration["correctiveEventIDs"] as? [String] == [EPCIS.eventID(of: new)])
        #expect((declaration["declarationTime"] as? String).flatMap(Timestamp.init(iso8601:)) != nil)
        let correcting = try #require(events.first { $0["eventID"] as? String == EPCIS.eventID(of: new) })
        #expect(correcting["errorDeclaration"] == nil)
        let mark = try #require(correcting["agritrace:correction"] as? [String: Any])
        #expect(mark["supersedes"] as? String == EPCIS.eventID(of: old))
        #expect(mark["reason"] as? String == "planting time entered in UTC")
    }

    @Test func theSpreadsheetTraceAndAuditMarkTheCorrection() throws {
        let (chain, old, new) = try Self.corrected()
        let file = chain.directory.file("corrected.csv")
        _ = try cli(chain, ["export", "fsma204", Self.lot, "--output", file])
        let lines = CSV.parse(try String(contentsOfFile: file, encoding: .utf8))
        #expect(lines.first == FSMA204Exporter.columns)
        let rows = lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(FSMA204Exporter.columns, $0)) }
        let oldRow = try #require(rows.first { $0["Record ID"] == old.hex })
        let newRow = try #require(rows.first { $0["Record ID"] == new.hex })
        #expect(oldRow["Superseded By"] == new.hex && oldRow["Corrects"] == "")
        #expect(newRow["Corrects"] == old.hex && newRow["Superseded By"] == "")

        let trace =
            try JSONSerialization.jsonObject(
                with: Data(try cli(chain, ["trace", Self.lot, "--json"]).utf8)) as? [[String: Any]]
        let traced = try #require(trace)
        #expect(traced.count == 2)
        #expect(traced.first { $0["recordID"] as? String == old.hex }?["supersededBy"] as? String == new.hex)
        #expect(traced.first { $0["recordID"] as? String == new.hex }?["supersedes"] as? String == old.hex)
        #expect(try cli(chain, ["trace", Self.lot]).contains("record \(old.hex) is superseded by \(new.hex)"))

        let audit =
            try JSONSerialization.jsonObject(
                with: Data(try cli(chain, ["audit", "corrections", "--json"]).utf8)) as? [[String: Any]]
        let entry = try #require(audit?.first)
        let correction = try #require(entry["entry"] as? [String: Any])
        #expect(correction["superseded"] as? String == old.hex && correction["correction"] as? String == new.hex)
        #expect(correction["corrector"] as? String == Self.principal)
        #expect((entry["proof"] as? [String: Any])?["verified"] as? Bool == true)
    }

    /// The CLI refuses, before signing, a correction naming another enterprise's record.
    @Test func theCLIRefusesAnotherEnterprisesRecordNamingTheField() throws {
        let (chain, old, _) = try Self.corrected()
        let processing = try #require(chain.classified.first { $0.record.stage == .processing }).record
        let (status, output) = try runCombiningOutput(
            try builtProduct(named: "agritrace"),
            [
                "correct", old.hex, "--by", processing.id.hex, "--lot", Self.lot, "--reason", "x", "--as",
                Self.principal, "--key", chain.directory.file("absent.key"), "--store", chain.path,
            ])
        #expect(status != 0)
        #expect(output.contains("--by: record \(processing.id.hex) is not a record of lot \(Self.lot)"), "\(output)")
    }
}
