import AgriTraceCore
import ArgumentParser
import Foundation
import Ledger
import LedgerClient

/// Options every reading command shares.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Path of the ledger store (SQLite), opened read-only.")
    var store: String = "agritrace.sqlite"

    @Option(
        name: .long,
        help:
            "Read from the server's HTTPS API at this base URL (e.g. https://ledger.example:8443) instead of the store."
    )
    var api: String?

    @Option(name: .long, help: "With --api: the CA file (PEM) the server's certificate must chain to.")
    var tlsCA: String?

    @Option(
        name: .long,
        help:
            "With --api and --tls-ca: the CA's revocation list (PEM, its crl.pem); a server whose certificate is on it is refused."
    )
    var tlsCRL: String?

    @Option(name: .long, help: "With --api: client certificate (PEM) for servers that require mutual TLS.")
    var tlsCert: String?

    @Option(name: .long, help: "With --api: the client certificate's private key (PEM).")
    var tlsKey: String?

    @Flag(name: .long, help: "With --api: allow a plain http:// URL on loopback (no TLS).")
    var insecureHTTP = false

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    /// The store, read-only, for a command that works on the store file itself; `--api` is
    /// refused naming the command rather than ignored.
    func localStore(for command: String) throws -> LedgerStore {
        if let api {
            throw UserError(
                "`agritrace \(command)` reads the store file itself and has no --api form (given \(api)): run it where the store is, with --store (or on a copy made with `agritrace backup`)"
            )
        }
        return try openReadOnly(store)
    }

    /// The ledger's queries over the store, opened read-only.
    func queries() throws -> LedgerQueries { LedgerQueries(store: try openReadOnly(store)) }

    /// The one branch of every reading command: with `--api`, the API's answer to `path`
    /// (with `query`); otherwise `local`, run here over the store.
    /// - Parameters:
    ///   - path: the API route, e.g. `/v1/devices`.
    ///   - query: its query parameters (nil values are left out).
    ///   - local: the same answer computed from the store.
    func read<Value: Decodable>(
        _ path: String, query: [String: String?] = [:], local: () throws -> Value
    ) async throws -> Value {
        if let api { return try await APIClient.get(api, path, query: query) }
        return try local()
    }

    /// With `--json`, prints `value` as JSON and returns true; otherwise returns false for the
    /// command to print its text. With `output` (a command's `--output`), the JSON is also
    /// written to that file, with or without `--json`.
    func printedJSON<Value: Encodable>(_ value: Value, savingTo output: String? = nil) throws -> Bool {
        guard json || output != nil else { return false }
        let text = try Output.json(value)
        if let output { try Output.write(text, to: output) }
        if json { print(text) }
        return json
    }

    /// Prints `rows`: as JSON with `--json`; otherwise `none` when there are none, else each
    /// row with `printRow`.
    func printRows<Row: Encodable>(_ rows: [Row], none: String, _ printRow: (Row) -> Void) throws {
        if try printedJSON(rows) { return }
        if rows.isEmpty { print(none) }
        rows.forEach(printRow)
    }

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        if tlsCRL != nil && tlsCA == nil {
            throw ValidationError("--tls-crl needs --tls-ca (the CA whose revocation list it is)")
        }
        // Every `--api` request of this process uses these settings (APIClient).
        APIConnection.current = APIConnection(
            caFile: tlsCA, revocationListFile: tlsCRL, certificateFile: tlsCert, keyFile: tlsKey,
            insecureHTTP: insecureHTTP)
    }
}

enum Output {
    /// `value` as the CLI's JSON (sorted keys, slashes unescaped): indented, or with
    /// `pretty: false` on one line (a line of a stream or of a log).
    static func json<Value: Encodable>(_ value: Value, pretty: Bool = true) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { encoder.outputFormatting.insert(.prettyPrinted) }
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

/// Option values read strictly: an error names the option, the value and what it takes.
enum OptionValue {
    /// The RFC 3339 time given to `--name`, or nil when it is absent.
    static func time(_ text: String?, _ name: String) throws -> Timestamp? {
        guard let text else { return nil }
        guard let time = Timestamp(iso8601: text) else {
            throw UserError("--\(name) \(text) is not an RFC 3339 time (e.g. 2026-07-28T00:00:00Z)")
        }
        return time
    }

    /// The stage given to `--stage`, or nil when it is absent.
    static func stage(_ text: String?) throws -> Stage? {
        try text.map { name in
            guard let stage = Stage(rawValue: name) else {
                throw UserError(
                    "--stage \(name) is not a stage (\(Stage.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return stage
        }
    }
}
