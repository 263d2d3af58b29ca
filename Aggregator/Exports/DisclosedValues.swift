import AgriTraceCore
import Foundation

/// Private values an exporter holds, by record: the file `agritrace fetch --out` writes after
/// checking every value against its commitment on the ledger (an authorized requester), or
/// the same form written by the owner from its own values.
///
/// The file is a JSON array of `{"record": "<32 hex>", "level": "level-2", "fields": {"stage.name": "value"}}`.
public struct DisclosedValues: Sendable {
    var values: [RecordID: [String: String]]

    /// No values: every private cell is withheld.
    public init() { values = [:] }

    /// The values of a fetch output file.
    /// - Throws: ``ExportError`` naming the file and the entry that cannot be read.
    public static func load(json bytes: [UInt8], file: String) throws(ExportError) -> DisclosedValues {
        struct Entry: Decodable {
            var record: String
            var level: String?
            var fields: [String: String]
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
            result.values[id, default: [:]].merge(entry.fields) { _, new in new }
        }
        return result
    }

    /// The value of field `key` (`stage.name`) of record `id`, if held.
    public func value(record id: RecordID, key: String) -> String? { values[id]?[key] }

    /// How many records have values.
    public var recordCount: Int { values.count }
}
