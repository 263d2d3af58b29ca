import AgriTraceCore
import Exports
import Foundation
import Ledger
import TestSupport
import Testing

/// `agritrace export fsma204` of the example chain: every row checked against the ledger, the
/// level-2 quantities filled only from values the exporter holds.
@Suite("FSMA 204 spreadsheet", .serialized, .timeLimit(.minutes(3)))
struct FSMA204ExportTests {
    func spreadsheet(_ chain: ExampleChain, _ extra: [String]) throws -> (text: String, rows: [[String: String]]) {
        let file = chain.directory.file("fsma-\(extra.count).csv")
        try runCommand(
            try builtProduct(named: "agritrace"),
            ["export", "fsma204", "SA-2026-5521", "--backward", "--store", chain.path, "--output", file] + extra)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let lines = CSV.parse(text)
        let header = try #require(lines.first)
        #expect(header == FSMA204Exporter.columns)
        let rows = lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
        return (text, rows)
    }

    @Test func rowsMatchTheLedgerAndQuantitiesAreWithheld() throws {
        let chain = try ExampleChain()
        let site = try ExampleChain.siteFile(in: chain.directory)
        let (text, rows) = try spreadsheet(chain, ["--gs1-site", site])
        #expect(text.hasSuffix("\r\n") && !text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(
            rows.map { $0["Critical Tracking Event"] ?? "" } == [
                "Harvesting", "Initial Packing", "Receiving", "Shipping", "Receiving",
            ])
        #expect(
            rows.map { $0["Traceability Lot Code"] ?? "" } == [
                "PL-2026-0417", "PR-2026-0042", "PR-2026-0042", "PR-2026-0042", "PR-2026-0042",
            ])
        let exporter = EPCISExporter(store: chain.ledger.store)
        for row in rows {
            let id = try #require(RecordID(hex: row["Record ID"] ?? ""))
            let stored = try #require(try exporter.record(id), "row \(row) names no ledger record")
            #expect(row["Lot"] == stored.record.lot && row["Leaf Index"] == String(stored.leafIndex))
            #expect(row["Event Time"] == stored.record.time.iso8601)
            #expect(row["Event Date"] == String(stored.record.time.iso8601.prefix(10)))
            #expect(row["Product Description"] == stored.record.product)
            #expect(row["Input Traceability Lot Codes"] == stored.record.inputLots.joined(separator: "; "))
            #expect(row["Quantity"] == FSMA204Exporter.withheld && row["Unit of Measure"] == FSMA204Exporter.withheld)
            let party = try #require(ExampleChain.parties[stored.record.stage])
            #expect(row["GTIN"] == ExampleChain.key(party.prefix, item: 7, digits: 14))
        }
        let plantGLN = ExampleChain.key("0614143", item: 1, digits: 13)
        #expect(rows[1]["Traceability Lot Code Source"] == "ZS123 Foods, GLN \(plantGLN)")
        #expect(rows[1]["Reference Document Type"] == "Processing number")
        #expect(rows[1]["Reference Document Number"] == "ZS123-L2")
        let warehouse =
            "Northern Cold Chain, Harbin depot, row 12, GLN \(ExampleChain.key("0614144", item: 1, digits: 13))"
        #expect(rows[2]["Ship-From Location"] == "ZS123 Foods, GLN \(plantGLN)")
        #expect(rows[2]["Ship-To Location"] == warehouse)
        #expect(rows[3]["Ship-From Location"] == warehouse)
        #expect(
            rows[3]["Ship-To Location"] == "MKT1, supermarket, GLN \(ExampleChain.key("0614146", item: 1, digits: 13))")
        let farmGLN = ExampleChain.key("0614142", item: 1, digits: 13)
        #expect(rows[0]["Location Description"] == "FARM1, Wuchang, Heilongjiang, GLN \(farmGLN)")
        #expect(rows[4]["Ship-From Location"]?.hasPrefix("Swift Logistics, Harbin - Beijing, GLN") == true)
    }

    @Test func aHolderOfTheValuesSeesTheirQuantitiesOnly() throws {
        let chain = try ExampleChain()
        let site = try ExampleChain.siteFile(in: chain.directory)
        // The farm's and the processor's own values, in the form `agritrace fetch --out` writes.
        let held = chain.classified.filter { $0.record.stage == .planting || $0.record.stage == .processing }
        let entries: [[String: Any]] = held.map { item in
            [
                "record": item.record.id.hex, "lot": item.record.lot, "stage": item.record.stage.rawValue,
                "level": "level-2",
                "fields": Dictionary(
                    uniqueKeysWithValues: (item.level2?.entries ?? []).map { ($0.key, $0.value.display) }),
            ]
        }
        let file = chain.directory.file("held.json")
        try JSONSerialization.data(withJSONObject: entries).write(to: URL(fileURLWithPath: file))
        let (_, rows) = try spreadsheet(chain, ["--gs1-site", site, "--disclosed", file])
        #expect(
            rows.map { $0["Quantity"] ?? "" } == [
                "1200", "1150", FSMA204Exporter.withheld, FSMA204Exporter.withheld, FSMA204Exporter.withheld,
            ])
        #expect(rows[0]["Unit of Measure"] == "kg" && rows[2]["Unit of Measure"] == FSMA204Exporter.withheld)
        let (_, plain) = try spreadsheet(chain, [])
        #expect(plain.allSatisfy { $0["Quantity"] == FSMA204Exporter.withheld && $0["GTIN"] == "" })
    }

    @Test func csvQuotesAndDefusesCells() {
        let line = CSV.line(["a,b", "say \"hi\"", "=SUM(A1)", "plain", "two\nlines"])
        #expect(line == "\"a,b\",\"say \"\"hi\"\"\",'=SUM(A1),plain,\"two\nlines\"\r\n")
        #expect(CSV.parse(line) == [["a,b", "say \"hi\"", "'=SUM(A1)", "plain", "two\nlines"]])
    }
}
