import ArgumentParser
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Options every reading command shares.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Path of the ledger store (SQLite), opened read-only.")
    var store: String = "agritrace.sqlite"

    @Option(
        name: .long,
        help: "Read from the server's HTTP API at this base URL (e.g. https://ledger.example) instead of the store.")
    var api: String?

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false
}

/// Fetches JSON from the HTTP API (`docs/api/openapi.yaml`).
enum APIClient {
    static func get<Value: Decodable>(_ base: String, _ path: String, query: [String: String?] = [:]) async throws
        -> Value
    {
        guard var components = URLComponents(string: base.hasSuffix("/") ? String(base.dropLast()) + path : base + path)
        else {
            throw UserError("\(base) is not a URL")
        }
        let items = query.compactMap { key, value in value.map { URLQueryItem(name: key, value: $0) } }
        if !items.isEmpty { components.queryItems = items.sorted { $0.name < $1.name } }
        guard let url = components.url else { throw UserError("cannot build a URL from \(base)\(path)") }
        let (data, response) = try await URLSession.shared.data(from: url)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            throw UserError("\(url) answered \(status): \(String(decoding: data.prefix(500), as: UTF8.self))")
        }
        do {
            return try JSONDecoder().decode(Value.self, from: data)
        } catch {
            throw UserError("\(url) did not answer the expected JSON: \(error)")
        }
    }
}

/// An error shown to the user as one line, with a non-zero exit.
struct UserError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum Output {
    static func json<Value: Encodable>(_ value: Value) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// A plain text table: a header row, then rows, columns padded to the widest cell.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(header), line(widths.map { String(repeating: "-", count: $0) })] + rows.map(line)).joined(
            separator: "\n")
    }

    static func standardError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func write(_ text: String, to path: String) throws {
        try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: path))
    }
}
