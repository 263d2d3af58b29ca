import AgriTraceCore
import Ledger
import SQLiteStorage
import SharingGraph

/// Reads the public facts of the ledger's records for ``TraceabilityDetector``: lot, stage,
/// time, device, input lots, a location when a public field holds one (`"lat,lon"` text in a
/// field named `…geo…`, `…location…` or `…gps…`, or the last point of a public track), and
/// every public sensor series (temperature). The catalog makes the temperature series private
/// (level-2), so on a store built from the catalog the cold-chain check finds no public series
/// (docs/anomalies.md).
public enum TraceabilityLoader {
    /// Records and series after leaf `after`, with the last leaf read.
    public struct Facts: Sendable {
        public var records: [TraceRecord] = []
        public var series: [SensorSeries] = []
        public var throughLeaf: UInt64?

        public init() {}

        /// Adds a later read's facts.
        public mutating func append(_ later: Facts) {
            records += later.records
            series += later.series
            throughLeaf = later.throughLeaf ?? throughLeaf
        }
    }

    public static func facts(_ store: LedgerStore, after: UInt64?) throws -> Facts {
        try store.db.transaction(.deferred) {
            var facts = Facts()
            guard let through = try SharingGraphLoader.lastLeaf(store) else { return facts }
            facts.throughLeaf = through
            let select = try store.db.prepare(
                """
                SELECT r.leaf_index, e.entry FROM records r JOIN log_entries e ON e.leaf_index = r.leaf_index
                 WHERE r.leaf_index > ?1 AND r.leaf_index <= ?2 ORDER BY r.leaf_index
                """)
            try SharingGraphLoader.LeafBounds(after: after, through: through).bind(select)
            while try select.step() {
                guard case .record(let record)? = try? Canonical.decode(LogEntry.self, from: select.bytes(at: 1) ?? [])
                else { continue }
                let leaf = UInt64(select.int64(at: 0))
                facts.records.append(traceRecord(record, leaf: leaf))
                facts.series += sensorSeries(record, leaf: leaf)
            }
            return facts
        }
    }

    static func traceRecord(_ record: Record, leaf: UInt64) -> TraceRecord {
        var location: GeoPoint?
        for field in record.publicFields {
            switch field.value {
            case .text(let text) where isLocationKey(field.key):
                location = GeoPoint(text: text) ?? location
            case .track(let samples):
                if let last = samples.last { location = GeoPoint(latitude: last.latitude, longitude: last.longitude) }
            default: continue
            }
        }
        return TraceRecord(
            leaf: leaf, lot: record.lot, stage: Int(record.stage.ordinal), time: record.time.milliseconds,
            enterprise: record.enterprise, device: record.device, inputLots: record.inputLots, location: location)
    }

    static func isLocationKey(_ key: String) -> Bool {
        let name = key.split(separator: ".").last.map(String.init) ?? key
        return name.contains("geo") || name.contains("location") || name.contains("gps")
    }

    static func sensorSeries(_ record: Record, leaf: UInt64) -> [SensorSeries] {
        record.publicFields.compactMap { field in
            guard case .series(let samples) = field.value else { return nil }
            let temperature = samples.filter { $0.type.lowercased().contains("temperature") }
            guard !temperature.isEmpty else { return nil }
            return SensorSeries(
                leaf: leaf, lot: record.lot, device: record.device,
                samples: temperature.map { .init(time: $0.time.milliseconds, value: $0.value) })
        }
    }
}
