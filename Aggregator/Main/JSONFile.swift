import Foundation
import LedgerClient

/// JSON files the CLI reads: saved proofs and tree heads, enrollment records.
enum JSONFile {
    /// The value the JSON file at `path` holds.
    /// - Parameters:
    ///   - what: what the file must hold, for the error (`a saved proof`).
    ///   - unreadable: the error when the file cannot be read (default: `cannot read <path>`).
    /// - Throws: a ``UserError`` naming the file, and what it is not with the decoder's error.
    static func read<Value: Decodable>(
        _ type: Value.Type, from path: String, holding what: String, unreadable: String? = nil,
        decoder: JSONDecoder = JSONDecoder()
    ) throws -> Value {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UserError(unreadable ?? "cannot read \(path)")
        }
        do { return try decoder.decode(type, from: data) } catch {
            throw UserError("\(path) is not \(what): \(error)")
        }
    }
}
