import AgriTraceCore
import Foundation

/// Private values an exporter holds, by record: the file `agritrace fetch --out` writes after
/// checking every value against its commitment on the ledger (an authorized requester), or
/// the same form written by the owner from its own values.
///
/// The file is a JSON array of `{"record": "<32 hex>", "level": "level-2", "fields": {"stage.name": "value"}}`.
/// A sensor series may be given whole, as an array of `{"time", "type", "value", "unit"}`
/// samples (RFC 3339 time, CBV type, UN/CEFACT unit): the EPCIS export turns it into sensor
/// elements.
public struct DisclosedValues: Sendable {
    var values: [RecordID: [String: String]]
    var series: [RecordID: [String: [SensorSample]]]

    /// No values: every private cell is withheld.
    public init() {
        values = [:]
        series = [:]
    }

    /// One field's value in the file: text, or a series given sample by sample.
    enum Value: Decodable {
        case text(String)
        case series([Sample])

        struct Sample: Decodable {
            var time: String
            var type: String
            var value: Double
            var unit: String
        }

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                self = .series(try container.decode([Sample].self))
            }
        }
    }

    /// The values of a fetch output file.
    /// - Throws: ``ExportError`` naming the file and the entry that cannot be read.
    public static func load(json bytes: [UInt8], file: String) throws(ExportError) -> DisclosedValues {
        struct Entry: Decodable {
            var record: String
            var level: String?
            var fields: [String: Value]
        }
        let entries: [Entry]
        do {
            entries = try JSONDecoder().decode([Entry].self, from: Data(bytes))
        } catch {
            throw ExportError(
                value: file, problem: "is not a file of fetched values (\(error))",
                fix: "give the file `agritrace fetch <request> --out FILE` wrote")
        }
        var result = DisclosedValues()
        for (index, entry) in entries.enumerated() {
            guard let id = RecordID(hex: entry.record) else {
                throw ExportError(
                    value: "\(file): entry \(index) record \"\(entry.record)\"", problem: "is not a record id",
                    fix: "give the file `agritrace fetch --out` wrote, unedited")
            }
            for (key, value) in entry.fields {
                switch value {
                case .text(let text): result.values[id, default: [:]][key] = text
                case .series(let samples):
                    result.series[id, default: [:]][key] = try samples.map { sample throws(ExportError) in
                        guard let time = Timestamp(iso8601: sample.time) else {
                            throw ExportError(
                                value: "\(file): entry \(index) field \"\(key)\" sample time \"\(sample.time)\"",
                                problem: "is not an RFC 3339 time", fix: "write times like 2026-07-28T08:30:00Z")
                        }
                        return SensorSample(time: time, type: sample.type, value: sample.value, unit: sample.unit)
                    }
                    result.values[id, default: [:]][key] = "\(samples.count) samples"
                }
            }
        }
        return result
    }

    /// The series held for record `id`, as field entries (for the EPCIS sensor elements).
    public func seriesEntries(record id: RecordID) -> [FieldEntry] {
        (series[id] ?? [:]).map { FieldEntry(key: $0.key, value: .series($0.value)) }
    }

    /// The value of field `key` (`stage.name`) of record `id`, if held.
    public func value(record id: RecordID, key: String) -> String? { values[id]?[key] }

    /// How many records have values.
    public var recordCount: Int { values.count }
}
