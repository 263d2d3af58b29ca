import EdgeAgent
import Foundation

/// The agent's TOML parser's view of a document as one line of typed JSON, for the
/// differential against Python's `tomllib` (`scripts/toml-differential.py`).
extension FuzzHarnesses {
    /// `{"ok": VALUE}` or `{"error": "line N: reason"}`, where a VALUE is
    /// `{"s": string}`, `{"i": "digits"}`, `{"f": "IEEE bits in hex"}`, `{"b": bool}`,
    /// `{"a": [VALUE...]}`, `{"t": {key: VALUE}}` or `{"ta": [{key: VALUE}...]}`.
    public static func tomlJSON(_ text: String) -> String {
        do {
            return "{\"ok\": \(json(.table(try TOMLDocument(parsing: text).root)))}"
        } catch {
            return "{\"error\": \(quoted("\(error)"))}"
        }
    }

    static func json(_ value: TOMLDocument.Value) -> String {
        switch value {
        case .string(let text): "{\"s\": \(quoted(text))}"
        case .integer(let integer): "{\"i\": \"\(integer)\"}"
        case .float(let float): "{\"f\": \"\(String(float.bitPattern, radix: 16))\"}"
        case .bool(let bool): "{\"b\": \(bool)}"
        case .array(let items): "{\"a\": [\(items.map(json).joined(separator: ", "))]}"
        case .table(let table): "{\"t\": \(json(table))}"
        case .tableArray(let tables): "{\"ta\": [\(tables.map(json).joined(separator: ", "))]}"
        }
    }

    static func json(_ table: [String: TOMLDocument.Value]) -> String {
        "{" + table.sorted { $0.key < $1.key }.map { "\(quoted($0.key)): \(json($0.value))" }.joined(separator: ", ")
            + "}"
    }

    /// A JSON string.
    static func quoted(_ text: String) -> String {
        guard let data = try? JSONEncoder().encode(text) else { return "\"?\"" }
        return String(decoding: data, as: UTF8.self)
    }
}
