import AgriTraceCore
import Foundation
import Ledger

/// The FDA FSMA 204 electronic sortable spreadsheet: one row per critical tracking event,
/// the key data elements as columns (RFC 4180 CSV, UTF-8; see docs/exports.md).
///
/// Stages map to the rule's events (``event(of:inputStages:)``); breeding has no tracking
/// event of its own. The traceability lot code of a shipment or receipt is the lot assigned at
/// the nearest initial packing or transformation upstream; our own lot of the row stays in
/// its own column. A quantity is level-2 private: it is filled only from ``DisclosedValues``
/// (the exporter's own values, or values a verified `agritrace fetch` wrote), else "withheld".
public struct FSMA204Exporter {
    /// The critical tracking events of the rule that the stages become.
    public enum TrackingEvent: String, Sendable, CaseIterable {
        case harvesting = "Harvesting"
        case cooling = "Cooling"
        case initialPacking = "Initial Packing"
        case shipping = "Shipping"
        case receiving = "Receiving"
        case transformation = "Transformation"
    }

    /// The columns, in order.
    public static let columns = [
        "Critical Tracking Event", "Traceability Lot Code", "Traceability Lot Code Source", "Product Description",
        "GTIN", "Quantity", "Unit of Measure", "Ship-From Location", "Ship-To Location", "Location Description",
        "Event Date", "Event Time", "Input Traceability Lot Codes", "Reference Document Type",
        "Reference Document Number", "Lot", "Record ID", "Leaf Index",
    ]

    /// What a cell of a private value says when the exporter does not hold the value.
    public static let withheld = "withheld (level-2 private)"

    /// Per stage: the public fields naming the firm and the place, the level-2 quantity and
    /// the reference document number.
    struct StageFields {
        var name: String?
        var place: String?
        var quantity: String?
        var document: String
    }

    /// The stage's fields as catalog keys (`stage.name`), computed once.
    static let keys: [Stage: StageFields] = Dictionary(
        uniqueKeysWithValues: Stage.allCases.map { stage in
            let names = fields(of: stage)
            let key = { (name: String) in "\(stage.rawValue).\(name)" }
            return (
                stage,
                StageFields(
                    name: names.name.map(key), place: names.place.map(key), quantity: names.quantity.map(key),
                    document: key(names.document))
            )
        })

    /// The stage's field names (without the stage).
    static func fields(of stage: Stage) -> StageFields {
        switch stage {
        case .breeding: StageFields(name: "breeding_enterprise", quantity: nil, document: "breeding_number")
        case .planting: StageFields(place: "planting_origin", quantity: "planted_quantity", document: "planting_number")
        case .processing:
            StageFields(name: "processing_enterprise", quantity: "processed_quantity", document: "processing_number")
        case .warehousing:
            StageFields(
                name: "warehousing_enterprise", place: "storage_location", quantity: "inventory_status",
                document: "warehouse_number")
        case .transport:
            StageFields(
                name: "transport_enterprise", place: "route", quantity: "transported_quantity",
                document: "transport_number")
        case .sales: StageFields(place: "sales_channel", quantity: "sold_quantity", document: "sales_number")
        }
    }

    /// The tracking event of a record of `stage` whose input lots were recorded at `inputStages`.
    public static func event(of stage: Stage, inputStages: [Stage]) -> TrackingEvent? {
        switch stage {
        case .breeding: nil
        case .planting: .harvesting
        case .processing:
            !inputStages.isEmpty && inputStages.allSatisfy { $0 == .planting } ? .initialPacking : .transformation
        case .warehousing, .sales: .receiving
        case .transport: .shipping
        }
    }

    public let queries: LedgerQueries
    public let identifiers: GS1Identifiers
    public let disclosed: DisclosedValues

    public init(
        store: LedgerStore, identifiers: GS1Identifiers = GS1Identifiers(), disclosed: DisclosedValues = .init()
    ) {
        queries = LedgerQueries(store: store)
        self.identifiers = identifiers
        self.disclosed = disclosed
    }

    /// The spreadsheet of `records` (from ``EPCISExporter/records(_:)``) as CSV text.
    public func csv(_ records: [AnchoredRecord]) throws -> String {
        var lineage = Lineage(queries: queries)
        lineage.known.reserveCapacity(records.count)
        for traced in records { lineage.known[traced.leafIndex] = traced.record }
        var text = CSV.line(Self.columns)
        text.reserveCapacity(records.count * 400)
        for traced in records {
            guard let row = try row(traced, lineage: &lineage) else { continue }
            CSV.append(row, to: &text)
        }
        return text
    }

    /// One row, or nil for a stage with no tracking event.
    func row(_ traced: AnchoredRecord, lineage: inout Lineage) throws -> [String]? {
        let record = traced.record
        let inputs = try record.inputLots.compactMap { try lineage.first($0) }
        guard let event = Self.event(of: record.stage, inputStages: inputs.map(\.stage)) else { return nil }
        let lotCode = try lineage.traceabilityLot(of: record)
        let (shipFrom, shipTo) = try ends(of: record, event: event, inputs: inputs, lineage: &lineage)
        let (quantity, unit) = quantity(of: record)
        let time = record.time.iso8601
        return [
            event.rawValue, lotCode.lot, location(of: lotCode), record.product,
            identifiers.gtin(product: record.product, enterprise: record.enterprise) ?? "",
            quantity, unit, shipFrom, shipTo, location(of: record),
            String(time.prefix(10)), time,
            record.inputLots.joined(separator: "; "),
            Self.documentLabels[record.stage] ?? "",
            publicText(record, Self.keys[record.stage]!.document) ?? "", record.lot, record.id.hex,
            String(traced.leafIndex),
        ]
    }

    /// The label of each stage's reference document number (the catalog's, else its name).
    static let documentLabels: [Stage: String] = Dictionary(
        uniqueKeysWithValues: Stage.allCases.map { stage in
            let document = fields(of: stage).document
            return (stage, FieldCatalog.standard.field(document, in: stage)?.label ?? document)
        })

    /// Ship-from and ship-to of a shipment (the input's holder → the consumer of the lot) and of a
    /// receipt (the input's holder → here); empty for other events.
    func ends(of record: Record, event: TrackingEvent, inputs: [Record], lineage: inout Lineage) throws -> (
        String, String
    ) {
        let from = inputs.map { location(of: $0) }.joined(separator: "; ")
        switch event {
        case .shipping:
            let to = try lineage.consumers(of: record.lot).map { location(of: $0) }.joined(separator: "; ")
            return (from, to.isEmpty ? "not recorded" : to)
        case .receiving: return (from, location(of: record))
        default: return ("", "")
        }
    }

    /// The quantity and its unit: the disclosed value, else withheld.
    func quantity(of record: Record) -> (String, String) {
        guard let key = Self.keys[record.stage]!.quantity else { return ("", "") }
        guard disclosed.recordCount > 0, let value = disclosed.value(record: record.id, key: key) else {
            return (Self.withheld, Self.withheld)
        }
        return (value, identifiers.unit(product: record.product, enterprise: record.enterprise) ?? "not configured")
    }

    /// "Firm, place (GLN n)" from the record's public fields and the site's GLN.
    func location(of record: Record) -> String {
        let keys = Self.keys[record.stage]!
        var text = keys.name.flatMap { publicText(record, $0) } ?? record.enterprise
        if let place = keys.place.flatMap({ publicText(record, $0) }) { text += ", " + place }
        if let gln = identifiers.enterprises[record.enterprise]?.gln { text += ", GLN " + gln }
        return text
    }

    /// The public field `key` (`stage.name`) of `record` as text.
    func publicText(_ record: Record, _ key: String) -> String? {
        record.publicFields.first { $0.key == key }?.value.display
    }
}

/// Follows lots on the ledger for the spreadsheet, remembering what it looked up.
struct Lineage {
    let queries: LedgerQueries
    var firsts: [String: Record?] = [:]
    /// Records already decoded (those being exported), by leaf: a lot's first record found
    /// on the lot index is read from here before the log is.
    var known: [UInt64: Record] = [:]

    /// The first record of `lot`, if the ledger has it.
    mutating func first(_ lot: String) throws -> Record? {
        if let cached = firsts[lot] { return cached }
        var record: Record?
        if let leaf = try queries.firstLeaf(of: lot) {
            record = try known[leaf] ?? queries.record(leafIndex: leaf)?.record
        }
        firsts[lot] = record
        return record
    }

    /// The record that assigned the traceability lot code `record` carries: itself for
    /// harvesting, packing and transformation; else the nearest processing record upstream
    /// (the record itself when the chain upstream is not on this ledger).
    mutating func traceabilityLot(of record: Record) throws -> Record {
        var current = record
        var steps = 0
        while current.stage != .processing && current.stage != .planting {
            // A lot graph deeper than this upstream of a packing is a cycle (or not a chain).
            guard steps < 64, let input = current.inputLots.first, input != record.lot, let next = try first(input)
            else { return record }
            steps += 1
            current = next
        }
        return current.stage == .processing || record.stage == .planting ? current : record
    }

    /// The first records of the lots made from `lot` (where it was shipped to), in time order.
    mutating func consumers(of lot: String) throws -> [Record] {
        try queries.linkedLots(of: lot, direction: .forward).compactMap { try first($0) }
            .sorted { $0.time < $1.time }
    }
}

/// RFC 4180 CSV: CRLF line ends, fields quoted when they hold a comma, a quote or a line end.
public enum CSV {
    /// One line of `cells`, ending in CRLF. A cell starting with `=`, `+`, `@` or a tab gets a
    /// leading `'` so spreadsheets do not run it as a formula.
    public static func line(_ cells: [String]) -> String {
        var text = ""
        append(cells, to: &text)
        return text
    }

    /// Appends the line of `cells` to `text`.
    public static func append(_ cells: [String], to text: inout String) {
        for (index, cell) in cells.enumerated() {
            if index > 0 { text.append(",") }
            append(cell: cell, to: &text)
        }
        text.append("\r\n")
    }

    static func cell(_ value: String) -> String {
        var text = ""
        append(cell: value, to: &text)
        return text
    }

    /// One cell: a formula guard for a leading `=`, `+`, `@` or tab; quotes when it holds a
    /// comma, a quote or a line end (inner quotes doubled).
    static func append(cell value: String, to text: inout String) {
        let bytes = value.utf8
        let guarded =
            bytes.first.map { $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "@") || $0 == 9 }
            ?? false
        let quoted = bytes.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 13 || $0 == 10 }
        if quoted { text.append("\"") }
        if guarded { text.append("'") }
        if quoted && bytes.contains(UInt8(ascii: "\"")) {
            text.append(value.replacingOccurrences(of: "\"", with: "\"\""))
        } else {
            text.append(value)
        }
        if quoted { text.append("\"") }
    }

    /// Parses CSV text into rows of cells (for checking exports).
    public static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var cell = ""
        var quoted = false
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            if quoted {
                if character == "\"" {
                    if characters.first == "\"" {
                        cell.append("\"")
                        characters.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    cell.append(character)
                }
                continue
            }
            switch character {
            case "\"": quoted = true
            case ",":
                row.append(cell)
                cell = ""
            case "\r\n", "\n":
                row.append(cell)
                rows.append(row)
                row = []
                cell = ""
            default: cell.append(character)
            }
        }
        if !cell.isEmpty || !row.isEmpty { rows.append(row + [cell]) }
        return rows
    }
}
