import AgriTraceCore
import Ledger

/// Follows lots on the ledger for the spreadsheet, remembering what it looked up: the records
/// being exported and every lot's first record are held once, by position in ``records``.
struct FSMA204Lineage {
    let exporter: FSMA204Exporter
    /// The exported records (in row order), then the first records of other lots read from the log.
    private(set) var records: [FSMA204Record]
    /// Positions in ``records`` by leaf: a lot's first record found on the lot index is taken
    /// from here before the log is read.
    var byLeaf: LeafPositions
    /// Each lot's first record (position), or nil when the ledger has none.
    var firsts: [String: Int?] = [:]
    /// Each record's location text (by position), made on first use.
    var locations: [String?]
    /// Each record's upstream record (by position): the first record of its first input lot;
    /// `unknown` until asked, `none` when there is none.
    var upstreams: [Int]
    static let unknown = -2
    static let none = -1

    init(exporter: FSMA204Exporter, records: [(leaf: UInt64, record: FSMA204Record)]) {
        self.exporter = exporter
        self.records = records.map(\.record)
        locations = Array(repeating: nil, count: records.count)
        upstreams = Array(repeating: Self.unknown, count: records.count)
        firsts.reserveCapacity(records.count + 1024)
        byLeaf = LeafPositions(records.map(\.leaf))
    }

    /// The first record of `lot` (earliest time, then leaf), if the ledger has it.
    mutating func first(_ lot: String) throws -> Int? {
        if let cached = firsts[lot] { return cached }
        var position: Int?
        if let leaf = try exporter.queries.firstLeaf(of: lot) {
            position = try byLeaf[leaf] ?? read(leaf)
        }
        firsts[lot] = position
        return position
    }

    /// Reads the record at `leaf` from the log and keeps it.
    mutating func read(_ leaf: UInt64) throws -> Int? {
        guard let stored = try exporter.queries.store.entry(leafIndex: leaf),
            let record = try stored.entry.withUnsafeBytes({ try FSMA204Record(entry: $0) })
        else { return nil }
        records.append(record)
        locations.append(nil)
        upstreams.append(Self.unknown)
        byLeaf[leaf] = records.count - 1
        return records.count - 1
    }

    /// The first records of the input lots of the record at `position` that the ledger has.
    mutating func inputs(of position: Int) throws -> [Int] {
        var found: [Int] = []
        for (index, lot) in records[position].inputLots.enumerated() {
            if let input = try index == 0 ? upstream(of: position) : first(lot) { found.append(input) }
        }
        return found
    }

    /// The first record of the first input lot of the record at `position`, looked up once.
    mutating func upstream(of position: Int) throws -> Int? {
        if upstreams[position] == Self.unknown {
            upstreams[position] = try records[position].inputLots.first.flatMap { try first($0) } ?? Self.none
        }
        return upstreams[position] == Self.none ? nil : upstreams[position]
    }

    /// The record that assigned the traceability lot code the record at `position` carries:
    /// itself for harvesting, packing and transformation; else the nearest processing record
    /// upstream (the record itself when the chain upstream is not on this ledger).
    mutating func traceabilityLot(of position: Int) throws -> Int {
        let record = records[position]
        var current = position
        var steps = 0
        while records[current].stage != .processing && records[current].stage != .planting {
            // A lot graph deeper than this upstream of a packing is a cycle (or not a chain).
            guard steps < 64, let input = records[current].inputLots.first, input != record.lot,
                let next = try upstream(of: current)
            else { return position }
            steps += 1
            current = next
        }
        return records[current].stage == .processing || record.stage == .planting ? current : position
    }

    /// The first records of the lots made from `lot` (where it was shipped to), in time order.
    mutating func consumers(of lot: String) throws -> [Int] {
        try exporter.queries.linkedLots(of: lot, direction: .forward).compactMap { try first($0) }
            .sorted { records[$0].time < records[$1].time }
    }

    /// "Firm, place (GLN n)" of the record at `position`, made once.
    mutating func location(of position: Int) -> String {
        if let known = locations[position] { return known }
        let text = exporter.location(of: records[position])
        locations[position] = text
        return text
    }

    /// The locations of `positions` joined by "; ".
    mutating func locations(of positions: [Int]) -> String {
        positions.count == 1 ? location(of: positions[0]) : positions.map { location(of: $0) }.joined(separator: "; ")
    }
}
