import Foundation
import NIOHTTP1

/// Talks to the server's API (`docs/api/openapi.yaml`) over HTTPS, verifying the server
/// against `--tls-ca` (and its revocation list `--tls-crl`) and presenting `--tls-cert` /
/// `--tls-key` (``APIConnection/current``).
public enum APIClient {
    /// GETs `base + path` and decodes the JSON answer.
    public static func get<Value: Decodable>(_ base: String, _ path: String, query: [String: String?] = [:])
        async throws
        -> Value
    {
        let url = try url(base, path, query: query)
        let data = try await send(.GET, url, body: nil)
        do {
            return try JSONDecoder().decode(Value.self, from: data)
        } catch {
            throw UserError("\(url) did not answer the expected JSON: \(error)")
        }
    }

    /// GETs `base + path` and returns the answer's bytes as they are (an export).
    public static func getBytes(_ base: String, _ path: String, query: [String: String?] = [:]) async throws -> Data {
        try await send(.GET, try url(base, path, query: query), body: nil)
    }

    /// POSTs `body` (JSON bytes) to `base + path` and returns the answer's bytes (status 200 to 299).
    public static func post(_ base: String, _ path: String, body: Data) async throws -> Data {
        try await send(.POST, try url(base, path, query: [:]), body: body)
    }

    /// POSTs `body` to `base + path` and returns the status and body whatever the status
    /// (not retried).
    public static func postForAnswer(_ base: String, _ path: String, body: Data) async throws -> APITransport.Response {
        try await APITransport.send(
            method: .POST, url: try url(base, path, query: [:]), body: body, connection: APIConnection.current)
    }

    private static func send(_ method: HTTPMethod, _ url: URL, body: Data?) async throws -> Data {
        // Reads are retried twice on a connection-level failure (a busy server may drop a
        // connection); a POST is not, since it is not idempotent.
        var attempt = 0
        var response: APITransport.Response
        while true {
            do {
                response = try await APITransport.send(
                    method: method, url: url, body: body, connection: APIConnection.current)
                break
            } catch  where method == .GET && attempt < 2 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(150 * attempt))
            }
        }
        guard (200..<300).contains(response.status) else {
            throw UserError(
                "\(url) answered \(response.status): \(String(decoding: response.body.prefix(500), as: UTF8.self))")
        }
        return response.body
    }

    private static func url(_ base: String, _ path: String, query: [String: String?]) throws -> URL {
        guard var components = URLComponents(string: base.hasSuffix("/") ? String(base.dropLast()) + path : base + path)
        else {
            throw UserError("\(base) is not a URL")
        }
        let items = query.compactMap { key, value in value.map { URLQueryItem(name: key, value: $0) } }
        if !items.isEmpty { components.queryItems = items.sorted { $0.name < $1.name } }
        guard let url = components.url else { throw UserError("cannot build a URL from \(base)\(path)") }
        return url
    }
}
