import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension APIClient {
    /// POSTs bytes (`application/octet-stream`) to the API and returns the body of a 200 answer.
    static func post(_ base: String, _ path: String, body: [UInt8]) async throws -> Data {
        guard let url = URL(string: base.hasSuffix("/") ? String(base.dropLast()) + path : base + path) else {
            throw UserError("\(base) is not a URL")
        }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
        let (data, response) = try await URLSession.shared.upload(for: request, from: Data(body))
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            throw UserError("\(url) answered \(status): \(String(decoding: data.prefix(500), as: UTF8.self))")
        }
        return data
    }
}
