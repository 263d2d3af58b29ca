import AgriTraceCore
import Ledger

/// Which records an export holds.
public enum ExportSelection: Sendable, Hashable {
    /// A lot, and with a direction its lineage through the lot graph.
    case lot(String, LedgerQueries.Direction)
    /// Every record whose time is in `[since, until)`.
    case window(since: Timestamp, until: Timestamp)
}

/// A record with where it is on the ledger.
public struct AnchoredRecord: Sendable {
    public var record: Record
    public var leafIndex: UInt64
    /// The block holding it.
    public var height: UInt64

    public init(record: Record, leafIndex: UInt64, height: UInt64) {
        self.record = record
        self.leafIndex = leafIndex
        self.height = height
    }

    public init(_ traced: TracedRecord) {
        self.init(record: traced.record, leafIndex: traced.leafIndex, height: traced.height)
    }
}

/// Builds EPCIS 2.0 documents from a ledger store: each record with its ledger anchor (leaf,
/// block and that block's tree head), its input lots named by who made them, and only public
/// fields and commitments.
public struct EPCISExporter {
    public let queries: LedgerQueries
    public let identifiers: GS1Identifiers
    /// Records at most in one export (a window wider than this is refused, not cut).
    public var maximumRecords: Int

    public init(store: LedgerStore, identifiers: GS1Identifiers = GS1Identifiers(), maximumRecords: Int = 1_000_000) {
        queries = LedgerQueries(store: store)
        self.identifiers = identifiers
        self.maximumRecords = maximumRecords
    }

    /// The records of `selection` in time order.
    /// - Throws: ``ExportError`` for an unknown lot, an inverted window or too many records.
    public func records(_ selection: ExportSelection) throws -> [AnchoredRecord] {
        switch selection {
        case .lot(let lot, let direction):
            let records = try queries.trace(lot: lot, direction: direction)
            guard !records.isEmpty else {
                throw ExportError(
                    value: "lot \"\(lot)\"", problem: "has no records on this ledger",
                    fix: "check the lot id (agritrace records --since … lists the lots recorded)")
            }
            return records.map(AnchoredRecord.init)
        case .window(let since, let until):
            try Self.check(since: since, until: until)
            let records = try queries.records(.init(since: since, until: until, limit: maximumRecords + 1))
            try Self.check(count: records.count, maximum: maximumRecords, since: since, until: until)
            return records.map(AnchoredRecord.init)
        }
    }

    /// Refuses an empty or inverted window.
    static func check(since: Timestamp, until: Timestamp) throws(ExportError) {
        guard since < until else {
            throw ExportError(
                value: "time window \(since.iso8601) to \(until.iso8601)", problem: "is empty or inverted",
                fix: "give --since earlier than --until")
        }
    }

    /// Refuses a window holding more than `maximum` records (`count` read with a limit of one more).
    static func check(count: Int, maximum: Int, since: Timestamp, until: Timestamp) throws(ExportError) {
        guard count <= maximum else {
            throw ExportError(
                value: "time window \(since.iso8601) to \(until.iso8601)",
                problem: "holds more than \(maximum) records",
                fix: "export shorter windows one after another")
        }
    }

    /// The EPCIS document of `selection`; the series in `disclosed` (values the exporter holds)
    /// become their events' sensor elements.
    public func document(
        _ selection: ExportSelection, createdAt: Timestamp = .now(), disclosed: DisclosedValues = .init()
    ) throws -> JSONOutput {
        var context = Context(exporter: self, disclosed: disclosed)
        let events = try records(selection).map { try context.event($0) }
        return EPCIS.document(events: events, createdAt: createdAt)
    }

    /// The record `id` with its place on the ledger, if the ledger holds it.
    public func record(_ id: RecordID) throws -> AnchoredRecord? {
        guard let location = try queries.store.location(of: id),
            let stored = try queries.store.entry(leafIndex: location.leafIndex),
            case .record(let record) = try Canonical.decode(LogEntry.self, from: stored.entry)
        else { return nil }
        return AnchoredRecord(record: record, leafIndex: location.leafIndex, height: location.height)
    }

    /// The events of `records`, sharing one cache of anchors and lot origins.
    public func events(_ records: [AnchoredRecord]) throws -> [JSONOutput] {
        var context = Context(exporter: self)
        return try records.map { try context.event($0) }
    }

    /// Caches what several events of one export look up: block tree heads and lot origins.
    struct Context {
        let exporter: EPCISExporter
        var disclosed = DisclosedValues()
        var heads: [UInt64: BlockHeader] = [:]
        var origins: [String: EPCIS.LotOrigin] = [:]
        /// The applied corrections per lot.
        var corrections: [String: [CorrectionRow]] = [:]

        mutating func event(_ traced: AnchoredRecord) throws -> JSONOutput {
            let record = traced.record
            origins[record.lot] = origins[record.lot] ?? .init(enterprise: record.enterprise, product: record.product)
            for lot in record.inputLots where origins[lot] == nil { origins[lot] = try origin(of: lot) }
            let head = try header(traced.height)
            let anchor = EPCIS.Anchor(
                leafIndex: traced.leafIndex, blockHeight: traced.height, treeSize: head.logSize, rootHash: head.logRoot)
            return try EPCIS.event(
                EPCIS.Source(
                    record: record, anchor: anchor, disclosed: disclosed.seriesEntries(record: record.id),
                    correction: try correction(of: record)),
                identifiers: exporter.identifiers, origins: origins)
        }

        /// The record's correction on the ledger (its lot's corrections read once per export).
        mutating func correction(of record: Record) throws -> EPCIS.Correction? {
            if corrections[record.lot] == nil {
                corrections[record.lot] = try exporter.queries.corrections(lot: record.lot)
            }
            let id = record.id.hex
            let rows = corrections[record.lot] ?? []
            let superseding = rows.first { $0.superseded == id }
            let correcting = rows.first { $0.correction == id }
            guard let row = superseding ?? correcting else { return nil }
            return EPCIS.Correction(
                declarationTime: Timestamp(iso8601: row.time) ?? Timestamp(milliseconds: 0), reason: row.reason,
                supersededBy: superseding.flatMap { RecordID(hex: $0.correction) },
                supersedes: correcting.flatMap { RecordID(hex: $0.superseded) })
        }

        mutating func header(_ height: UInt64) throws -> BlockHeader {
            if let known = heads[height] { return known }
            guard let block = try exporter.queries.store.block(height: height) else {
                throw ExportError(
                    value: "block \(height)", problem: "is missing from the store", fix: "run agritrace verify --store")
            }
            heads[height] = block.header.value
            return block.header.value
        }

        /// Who recorded `lot` first (an input lot not on this ledger keeps the consumer's names).
        func origin(of lot: String) throws -> EPCIS.LotOrigin? {
            guard let first = try exporter.queries.trace(lot: lot).first?.record else { return nil }
            return .init(enterprise: first.enterprise, product: first.product)
        }
    }
}
