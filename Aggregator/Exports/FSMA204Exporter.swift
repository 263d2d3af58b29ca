import AgriTraceCore
import Ledger

/// The FDA FSMA 204 electronic sortable spreadsheet: one row per critical tracking event,
/// the key data elements as columns (RFC 4180 CSV, UTF-8; see docs/exports.md).
///
/// Stages map to the rule's events (``event(of:inputStages:)``); breeding has no tracking
/// event of its own. The traceability lot code of a shipment or receipt is the lot assigned at
/// the nearest initial packing or transformation upstream; our own lot of the row stays in
/// its own column. A quantity is level-2 private: it is filled only from ``DisclosedValues``
/// (the exporter's own values, or values a verified `agritrace fetch` wrote), else "withheld".
///
/// A window is read straight from the log entries (only the fields a row shows are decoded)
/// and the rows are handed out in chunks as they are made (``write(_:chunkSize:to:)``).
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
        "Reference Document Number", "Lot", "Record ID", "Leaf Index", "Superseded By", "Corrects",
    ]

    /// What a cell of a private value says when the exporter does not hold the value.
    public static let withheld = "withheld (level-2 private)"

    /// Per stage: the public fields naming the firm and the place, the level-2 quantity and
    /// the reference document number.
    struct StageFields: Sendable {
        var name: String?
        var place: String?
        var quantity: String?
        var document: String
    }

    /// The stage's fields as catalog keys (`stage.name`), computed once.
    static let keys = StageTable { stage in
        let names = fields(of: stage)
        let key = { (name: String) in "\(stage.rawValue).\(name)" }
        return StageFields(
            name: names.name.map(key), place: names.place.map(key), quantity: names.quantity.map(key),
            document: key(names.document))
    }

    /// The name, place and document keys of a stage as UTF-8, to match log entries' keys.
    struct EntryKeys: Sendable {
        var name: [UInt8]?
        var place: [UInt8]?
        var document: [UInt8]
    }

    /// ``keys`` as UTF-8, computed once.
    static let entryKeys = StageTable { stage in
        let keys = FSMA204Exporter.keys[stage]
        return EntryKeys(
            name: keys.name.map { Array($0.utf8) }, place: keys.place.map { Array($0.utf8) },
            document: Array(keys.document.utf8))
    }

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

    /// The label of each stage's reference document number (the catalog's, else its name).
    static let documentLabels = StageTable { stage in
        let document = fields(of: stage).document
        return FieldCatalog.standard.field(document, in: stage)?.label ?? document
    }

    public let queries: LedgerQueries
    public let identifiers: GS1Identifiers
    public let disclosed: DisclosedValues
    /// Records at most in one window (a wider window is refused, not cut).
    public var maximumRecords: Int

    public init(
        store: LedgerStore, identifiers: GS1Identifiers = GS1Identifiers(), disclosed: DisclosedValues = .init(),
        maximumRecords: Int = 1_000_000
    ) {
        queries = LedgerQueries(store: store)
        self.identifiers = identifiers
        self.disclosed = disclosed
        self.maximumRecords = maximumRecords
    }

    /// Writes the spreadsheet of `selection` (CSV, header line first) to `output`, a chunk of
    /// about `chunkSize` bytes at a time as the rows are made. Nothing is written when the
    /// selection is refused. The whole export reads in one read transaction: one state of the
    /// ledger, and SQLite takes its locks once instead of per lookup.
    /// - Throws: ``ExportError`` for an unknown lot, an inverted window or too many records;
    ///   what `output` throws.
    public func write(
        _ selection: ExportSelection, chunkSize: Int = 1 << 20, to output: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        try queries.store.db.transaction(.deferred) { try write(try records(selection), chunkSize, output) }
    }

    /// Writes the rows of `chosen` (see ``write(_:chunkSize:to:)``).
    func write(
        _ chosen: [(leaf: UInt64, record: FSMA204Record)], _ chunkSize: Int,
        _ output: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var rows = FSMA204Rows(
            lineage: FSMA204Lineage(exporter: self, records: chosen), corrections: try queries.correctionMarks())
        var chunk: [UInt8] = []
        chunk.reserveCapacity(chunkSize + 4096)
        CSV.append(Self.columns, to: &chunk)
        for (position, item) in chosen.enumerated() {
            try rows.append(position, leaf: item.leaf, to: &chunk)
            if chunk.count >= chunkSize {
                try chunk.withUnsafeBytes(output)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        if !chunk.isEmpty { try chunk.withUnsafeBytes(output) }
    }

    /// The spreadsheet of `selection` as CSV bytes (``write(_:chunkSize:to:)`` into one array).
    public func csv(_ selection: ExportSelection) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try write(selection) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// The records of `selection` in time order with their leaves: a lot's from its trace, a
    /// window's decoded straight from the log entries.
    func records(_ selection: ExportSelection) throws -> [(leaf: UInt64, record: FSMA204Record)] {
        guard case .window(let since, let until) = selection else {
            let exporter = EPCISExporter(store: queries.store, identifiers: identifiers, maximumRecords: maximumRecords)
            return try exporter.records(selection).map { ($0.leafIndex, FSMA204Record($0.record)) }
        }
        try EPCISExporter.check(since: since, until: until)
        var records: [(leaf: UInt64, record: FSMA204Record)] = []
        try queries.forEachRecordEntry(since: since, until: until, limit: maximumRecords + 1) { leaf, entry in
            if let record = try FSMA204Record(entry: entry) { records.append((leaf, record)) }
        }
        try EPCISExporter.check(count: records.count, maximum: maximumRecords, since: since, until: until)
        return records
    }

    /// The quantity and its unit: the disclosed value, else withheld.
    func quantity(of record: FSMA204Record) -> (String, String) {
        guard let key = Self.keys[record.stage].quantity else { return ("", "") }
        guard disclosed.recordCount > 0, let id = record.recordID, let value = disclosed.value(record: id, key: key)
        else {
            return (Self.withheld, Self.withheld)
        }
        return (value, identifiers.unit(product: record.product, enterprise: record.enterprise) ?? "not configured")
    }

    /// "Firm, place (GLN n)" from the record's public fields and the site's GLN.
    func location(of record: FSMA204Record) -> String {
        var text = record.name ?? record.enterprise
        if let place = record.place { text += ", " + place }
        if let gln = identifiers.enterprises[record.enterprise]?.gln { text += ", GLN " + gln }
        return text
    }
}

/// Makes the spreadsheet's rows, one record at a time, as CSV bytes.
struct FSMA204Rows {
    let exporter: FSMA204Exporter
    var lineage: FSMA204Lineage
    /// The ledger's corrections: the last two columns (docs/governance.md, "Corrections").
    let corrections: CorrectionMarks
    /// Scratch for a time's RFC 3339 text.
    var time: [UInt8] = []

    init(lineage: FSMA204Lineage, corrections: CorrectionMarks) {
        exporter = lineage.exporter
        self.lineage = lineage
        self.corrections = corrections
    }

    /// Appends the row of the record at `position` (nothing for a stage with no tracking event).
    mutating func append(_ position: Int, leaf: UInt64, to bytes: inout [UInt8]) throws {
        let record = lineage.records[position]
        let inputs = try lineage.inputs(of: position)
        // Only a processing record's event depends on its inputs' stages.
        let stages = record.stage == .processing ? inputs.map { lineage.records[$0].stage } : []
        guard let event = FSMA204Exporter.event(of: record.stage, inputStages: stages) else { return }
        let lotCode = try lineage.traceabilityLot(of: position)
        let (shipFrom, shipTo) = try ends(of: position, event: event, inputs: inputs)
        let (quantity, unit) = exporter.quantity(of: record)
        CSV.append(cell: event.rawValue, to: &bytes)
        Self.next(lineage.records[lotCode].lot, &bytes)
        Self.next(lineage.location(of: lotCode), &bytes)
        Self.next(record.product, &bytes)
        Self.next(exporter.identifiers.gtin(product: record.product, enterprise: record.enterprise) ?? "", &bytes)
        Self.next(quantity, &bytes)
        Self.next(unit, &bytes)
        Self.next(shipFrom, &bytes)
        Self.next(shipTo, &bytes)
        Self.next(lineage.location(of: position), &bytes)
        time.removeAll(keepingCapacity: true)
        RFC3339.append(record.time, to: &time)
        bytes.append(UInt8(ascii: ","))
        time.withUnsafeBytes { CSV.append(cell: UnsafeRawBufferPointer(rebasing: $0.prefix(10)), to: &bytes) }
        bytes.append(UInt8(ascii: ","))
        time.withUnsafeBytes { CSV.append(cell: $0, to: &bytes) }
        Self.next(record.inputLots.count == 1 ? record.inputLots[0] : record.inputLots.joined(separator: "; "), &bytes)
        Self.next(FSMA204Exporter.documentLabels[record.stage], &bytes)
        Self.next(record.document ?? "", &bytes)
        Self.next(record.lot, &bytes)
        bytes.append(UInt8(ascii: ","))
        FSMA204Record.appendHex(record.id.high, to: &bytes)
        FSMA204Record.appendHex(record.id.low, to: &bytes)
        bytes.append(UInt8(ascii: ","))
        bytes.append(contentsOf: String(leaf).utf8)
        appendCorrection(of: record, to: &bytes)
        bytes.append(contentsOf: [13, 10])
    }

    /// The "Superseded By" and "Corrects" cells: the record ids of its correction, if any.
    func appendCorrection(of record: FSMA204Record, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: ","))
        guard !corrections.supersededBy.isEmpty, let id = record.recordID else {
            bytes.append(UInt8(ascii: ","))
            return
        }
        if let by = corrections.supersededBy[id] { bytes.append(contentsOf: by.hex.utf8) }
        bytes.append(UInt8(ascii: ","))
        if let old = corrections.supersedes[id] { bytes.append(contentsOf: old.hex.utf8) }
    }

    /// Appends a comma and the cell `text`.
    static func next(_ text: String, _ bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: ","))
        CSV.append(cell: text, to: &bytes)
    }

    /// Ship-from and ship-to of a shipment (the input's holder → the consumer of the lot) and of a
    /// receipt (the input's holder → here); empty for other events.
    mutating func ends(of position: Int, event: FSMA204Exporter.TrackingEvent, inputs: [Int]) throws -> (
        String, String
    ) {
        switch event {
        case .shipping:
            let from = lineage.locations(of: inputs)
            let to = lineage.locations(of: try lineage.consumers(of: lineage.records[position].lot))
            return (from, to.isEmpty ? "not recorded" : to)
        case .receiving: return (lineage.locations(of: inputs), lineage.location(of: position))
        default: return ("", "")
        }
    }
}
