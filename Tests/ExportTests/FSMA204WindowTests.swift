import AgriTraceCore
import Foundation
import Ledger
import TestSupport
import Testing

@testable import Exports

/// The spreadsheet of a time window, read straight from the log entries and written as it is
/// made: the file `agritrace` streams equals its standard output and the in-process bytes, and
/// every row equals the row the lot export makes from wholly decoded records.
@Suite("FSMA 204 spreadsheet of a window", .serialized, .timeLimit(.minutes(3)))
struct FSMA204WindowTests {
    /// The example chain plus: a second shipment of the warehouse lot with cells to quote and
    /// defuse; a second consumer of the chain's shipment (also made of a lot not on the ledger);
    /// a later record of the planting lot (not the lot's first).
    static func chain() throws -> ExampleChain {
        let chain = try ExampleChain()
        let readings = Dictionary(uniqueKeysWithValues: try ExampleChain.readings().map { ($0.stage, $0) })
        var shipment = try #require(readings[.transport])
        shipment.lot = "TR-2026-0909"
        shipment.time = try #require(Timestamp(iso8601: "2026-07-31T20:00:00+08:00"))
        shipment.fields["transport.route"] = .text("Harbin, \"north\" - Beijing")
        shipment.fields["transport.transport_number"] = .text("=SL-8")
        try chain.commit(shipment, enterprise: "LOGI1", device: "truck-02")
        var sale = try #require(readings[.sales])
        sale.lot = "SA-2026-5522"
        sale.time = try #require(Timestamp(iso8601: "2026-08-01T10:00:00+08:00"))
        sale.inputLots = ["TR-2026-0908", "XX-NOT-ON-LEDGER"]
        try chain.commit(sale, enterprise: "MKT2", device: "store-box-02")
        var planting = try #require(readings[.planting])
        planting.time = try #require(Timestamp(iso8601: "2026-07-30T08:30:00+08:00"))
        try chain.commit(planting, enterprise: "FARM1", device: "farm-box-02")
        return chain
    }

    /// The rows of CSV `bytes` by record id, after checking the header.
    func rowsByRecord(_ bytes: [UInt8]) throws -> [String: [String]] {
        let lines = CSV.parse(String(decoding: bytes, as: UTF8.self))
        #expect(lines.first == FSMA204Exporter.columns)
        let id = try #require(FSMA204Exporter.columns.firstIndex(of: "Record ID"))
        return Dictionary(uniqueKeysWithValues: lines.dropFirst().map { ($0[id], $0) })
    }

    func export(_ chain: ExampleChain, _ arguments: [String]) throws -> [UInt8] {
        let file = chain.directory.file("export-\(UUID().uuidString).csv")
        let printed = try runCommand(
            try builtProduct(named: "agritrace"), ["export", "fsma204", "--store", chain.path] + arguments)
        try runCommand(
            try builtProduct(named: "agritrace"),
            ["export", "fsma204", "--store", chain.path, "--output", file] + arguments)
        let written = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        #expect(written == Array(printed.utf8), "the file and standard output differ")
        return written
    }

    @Test func streamedWindowEqualsInProcessBytesAndLotRows() throws {
        let chain = try Self.chain()
        let site = try ExampleChain.siteFile(in: chain.directory)
        let identifiers = try GS1Identifiers.load(
            json: Array(try Data(contentsOf: URL(fileURLWithPath: site))), file: site)
        let exporter = FSMA204Exporter(store: chain.ledger.store, identifiers: identifiers)
        var windows: [[String: [String]]] = []
        for since in ["2026-07-01T00:00:00Z", "2026-07-29T12:00:00Z"] {
            let streamed = try export(chain, ["--since", since, "--until", "2026-09-01T00:00:00Z", "--gs1-site", site])
            let window = ExportSelection.window(
                since: try #require(Timestamp(iso8601: since)),
                until: try #require(Timestamp(iso8601: "2026-09-01T00:00:00Z")))
            #expect(streamed == (try exporter.csv(window)), "the streamed file differs from the in-process bytes")
            windows.append(try rowsByRecord(streamed))
        }
        let (whole, late) = (windows[0], windows[1])
        #expect(whole.count == 8 && late.count == 6)
        // A row does not depend on the window: lots' first records outside it are read from the log.
        for (id, row) in late { #expect(whole[id] == row) }
        // The lot export decodes whole records; its rows equal the window's.
        let lot = try rowsByRecord(try export(chain, ["SA-2026-5522", "--backward", "--gs1-site", site]))
        #expect(lot.count == 6)
        for (id, row) in lot {
            #expect(whole[id] == row, "record \(id): lot row \(row), window row \(whole[id] ?? [])")
        }
        try checkAgainstLedger(whole, chain)
    }

    /// The added records' rows: consumers in time order, a lot not on the ledger left out, a
    /// lot's first record taken for its inputs, quoted and defused cells.
    func checkAgainstLedger(_ rows: [String: [String]], _ chain: ExampleChain) throws {
        let column = { (name: String) in FSMA204Exporter.columns.firstIndex(of: name)! }
        let byLot = Dictionary(grouping: rows.values) { $0[column("Lot")] }
        let gln = { (prefix: String) in ExampleChain.key(prefix, item: 1, digits: 13) }
        let shipment = try #require(byLot["TR-2026-0908"]?.first)
        #expect(
            shipment[column("Ship-To Location")]
                == "MKT1, supermarket, GLN \(gln("0614146")); MKT2, supermarket")
        let second = try #require(byLot["SA-2026-5522"]?.first)
        #expect(second[column("Ship-From Location")] == "Swift Logistics, Harbin - Beijing, GLN \(gln("0614145"))")
        #expect(second[column("Input Traceability Lot Codes")] == "TR-2026-0908; XX-NOT-ON-LEDGER")
        let quoted = try #require(byLot["TR-2026-0909"]?.first)
        #expect(
            quoted[column("Location Description")]
                == "Swift Logistics, Harbin, \"north\" - Beijing, GLN \(gln("0614145"))")
        #expect(quoted[column("Reference Document Number")] == "'=SL-8")
        #expect(byLot["PL-2026-0417"]?.count == 2)
        let exporter = EPCISExporter(store: chain.ledger.store)
        for row in rows.values {
            let id = try #require(RecordID(hex: row[column("Record ID")]))
            let stored = try #require(try exporter.record(id))
            #expect(row[column("Leaf Index")] == String(stored.leafIndex))
            #expect(row[column("Event Time")] == stored.record.time.iso8601)
            #expect(row[column("Product Description")] == stored.record.product)
        }
    }

    @Test func leafPositionsFindEveryLeafInTheTableAndBesideIt() {
        // A window's leaves: a dense run in time order, a few far before and after it, one twice.
        let run = (0..<20_000).map { UInt64(1_000_000 + $0 * 3 % 20_000) }
        let leaves = [7, 2_000_000] + run + [3, 1_000_004]
        var positions = LeafPositions(leaves)
        #expect(
            !positions.table.isEmpty && positions.others.count >= 2, "both the table and the dictionary hold leaves")
        var last: [UInt64: Int] = [:]
        for (position, leaf) in leaves.enumerated() { last[UInt64(leaf)] = position }
        for (leaf, position) in last { #expect(positions[leaf] == position, "leaf \(leaf)") }
        for absent: UInt64 in [0, 8, 999_999, 1_020_000, 2_000_001] { #expect(positions[absent] == nil) }
        positions[999_999] = 9
        positions[1_002_000] = nil
        #expect(positions[999_999] == 9 && positions[1_002_000] == nil)
    }

    @Test func aRefusedWindowWritesNoFile() throws {
        let chain = try ExampleChain()
        let file = chain.directory.file("refused.csv")
        #expect(throws: CommandError.self) {
            try runCommand(
                try builtProduct(named: "agritrace"),
                [
                    "export", "fsma204", "--store", chain.path, "--output", file, "--since", "2026-08-01T00:00:00Z",
                    "--until", "2026-07-01T00:00:00Z",
                ])
        }
        #expect(!FileManager.default.fileExists(atPath: file))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: chain.directory.path)
        #expect(!leftovers.contains { $0.contains("partial") })
    }
}
