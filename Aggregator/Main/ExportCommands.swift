import AgriTraceCore
import ArgumentParser
import Exports
import Foundation
import Ledger
import LedgerClient

/// `agritrace export epcis | fsma204`: the ledger's data in the standards other systems read.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a lot (and its lineage) or a time window as GS1 EPCIS 2.0 or an FDA FSMA 204 spreadsheet.",
        discussion: "Only public fields and commitments leave; see docs/exports.md.",
        subcommands: [ExportEPCIS.self, ExportFSMA204.self])
}

/// What both exports select and how they name things.
struct ExportOptions: ParsableArguments {
    @Argument(help: "The lot (traceability lot code); or give --since and --until.") var lot: String?
    @Flag(name: .long, help: "With a lot: follow input lots back to the origins.") var backward = false
    @Flag(name: .long, help: "With a lot: follow the lots made from it (recall scope).") var forward = false
    @Option(name: .long, help: "Window start (RFC 3339, inclusive), instead of a lot.") var since: String?
    @Option(name: .long, help: "Window end (RFC 3339, exclusive).") var until: String?
    @Option(name: .long, help: "Site file mapping enterprises to GS1 company prefixes, GTINs and GLNs (JSON).")
    var gs1Site: String?
    @Flag(name: .long, help: "Refuse to export a lot, location or read point without a GS1 key.") var requireGS1 = false
    @Option(name: .long, help: "Write the export here instead of standard output.") var output: String?
    @OptionGroup var source: StoreOptions

    /// The lot or the window asked for.
    func selection() throws -> ExportSelection {
        guard !(backward && forward) else { throw UserError("choose --backward or --forward, not both") }
        switch (lot, since, until) {
        case (let lot?, nil, nil):
            return .lot(lot, backward ? .backward : forward ? .forward : .none)
        case (nil, let since?, let until?):
            return .window(since: try Self.time(since, "--since"), until: try Self.time(until, "--until"))
        default:
            throw UserError("give a lot, or --since and --until (RFC 3339), not both")
        }
    }

    static func time(_ text: String, _ option: String) throws -> Timestamp {
        guard let time = Timestamp(iso8601: text) else {
            throw UserError("\(option) \"\(text)\" is not an RFC 3339 time: give e.g. 2026-07-01T00:00:00Z")
        }
        return time
    }

    /// The selection as the API's `/v1/export/…` query (the server's site file names things).
    func apiQuery() throws -> [String: String?] {
        guard gs1Site == nil, !requireGS1 else {
            throw UserError(
                "with --api the server's --gs1-site names lots and locations: drop --gs1-site / --require-gs1")
        }
        _ = try selection()
        return [
            "lot": lot, "direction": backward ? "backward" : forward ? "forward" : nil, "since": since, "until": until,
        ]
    }

    /// The site's GS1 keys (URNs only without --gs1-site).
    func identifiers() throws -> GS1Identifiers {
        var identifiers = GS1Identifiers()
        if let gs1Site {
            identifiers = try GS1Identifiers.load(
                json: try Self.contents(of: gs1Site, "the GS1 site file"), file: gs1Site)
        }
        if requireGS1 { identifiers.requireGS1 = true }
        return identifiers
    }

    /// The bytes of the file at `path`, or an error naming it as `what`.
    static func contents(of path: String, _ what: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UserError("cannot read \(what) \(path)")
        }
        return Array(data)
    }

    /// The private values of the `--disclosed` file, if one is given.
    static func disclosedValues(_ disclosed: String?) throws -> DisclosedValues? {
        try disclosed.map {
            try DisclosedValues.load(json: try contents(of: $0, "the disclosed values file"), file: $0)
        }
    }

    /// With `--api`: writes the server's export at `path` (e.g. `/v1/export/epcis`) and
    /// returns true; without it, returns false for the command to export from the store.
    /// - Parameters:
    ///   - disclosed: the `--disclosed` file, refused with `--api` (the values are local).
    ///   - use: what `--disclosed` does, for the error.
    func exportedByAPI(_ path: String, disclosed: String?, use: String) async throws -> Bool {
        guard let api = source.api else { return false }
        guard disclosed == nil else { throw UserError("--disclosed \(use): use it with --store, not --api") }
        try write(Array(try await APIClient.getBytes(api, path, query: try apiQuery())))
        return true
    }

    /// Writes `bytes` to --output (atomically) or standard output.
    func write(_ bytes: [UInt8]) throws {
        try ExportOutput.write(to: output) { output in try bytes.withUnsafeBytes(output) }
    }
}

struct ExportEPCIS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "epcis",
        abstract: "An EPCIS 2.0 JSON-LD EPCISDocument: one event per record, with its ledger anchor and commitments.")

    @OptionGroup var options: ExportOptions
    @Flag(name: .long, help: "Indent the JSON.") var pretty = false
    @Option(
        name: .long,
        help:
            "Private values you hold (docs/exports.md): sensor series given sample by sample become the events' sensorElementList."
    )
    var disclosed: String?

    func run() async throws {
        let values = try ExportOptions.disclosedValues(disclosed)
        let use = "adds your own values to the document"
        if try await options.exportedByAPI("/v1/export/epcis", disclosed: disclosed, use: use) { return }
        let exporter = EPCISExporter(
            store: try openReadOnly(options.source.store), identifiers: try options.identifiers())
        do {
            let document = try exporter.document(try options.selection(), disclosed: values ?? .init())
            try options.write(document.jsonBytes(pretty: pretty) + [UInt8(ascii: "\n")])
        } catch let error as ExportError {
            throw UserError("\(error)")
        }
    }
}

struct ExportFSMA204: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsma204",
        abstract: "The FDA FSMA 204 sortable spreadsheet (CSV, RFC 4180): one row per critical tracking event.")

    @OptionGroup var options: ExportOptions
    @Option(
        name: .long,
        help:
            "Private values you hold (the file `agritrace fetch --out` wrote): fills their quantities; others stay withheld."
    )
    var disclosed: String?

    func run() async throws {
        let values = try ExportOptions.disclosedValues(disclosed) ?? DisclosedValues()
        let use = "fills the spreadsheet from your own files"
        if try await options.exportedByAPI("/v1/export/fsma204", disclosed: disclosed, use: use) { return }
        let exporter = FSMA204Exporter(
            store: try openReadOnly(options.source.store), identifiers: try options.identifiers(), disclosed: values)
        let selection = try options.selection()
        do {
            try ExportOutput.write(to: options.output) { output in try exporter.write(selection, to: output) }
        } catch let error as ExportError {
            throw UserError("\(error)")
        }
    }
}
