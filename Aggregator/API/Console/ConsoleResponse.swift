import Foundation
import Hummingbird

/// Console responses, each with the security headers: a strict Content-Security-Policy
/// (scripts and styles only from this origin's `/console/assets/`, no inline code, no framing),
/// no caching, no referrer (a sign-in link never leaks through `Referer`), no sniffing.
enum ConsoleResponse {
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    static func headers(contentType: String) -> HTTPFields {
        [
            .contentType: contentType,
            .contentSecurityPolicy: contentSecurityPolicy,
            .cacheControl: "no-store",
            .init("Referrer-Policy")!: "no-referrer",
            .init("X-Content-Type-Options")!: "nosniff",
            .init("X-Frame-Options")!: "DENY",
        ]
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: headers(contentType: "text/html; charset=utf-8"),
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func asset(_ asset: ConsoleAssets.Asset) -> Response {
        Response(
            status: .ok, headers: headers(contentType: asset.contentType),
            body: .init(byteBuffer: ByteBuffer(string: asset.text)))
    }

    static func json<Value: Encodable>(_ value: Value, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSON(value).data) ?? Data("{}".utf8)
        return Response(
            status: status, headers: headers(contentType: "application/json"),
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A small page with a title and one sentence (refusals, sign-out).
    static func message(_ status: HTTPResponse.Status, _ title: String, _ text: String) -> Response {
        html(ConsolePages.message(title: title, text: text), status: status)
    }
}
