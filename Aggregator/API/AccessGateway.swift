import AgriTraceCore
import Foundation
import HTTPTypes
import Hummingbird
import Ledger
import NIOCore

/// The HTTPS API's request context: Hummingbird's core context and the address of the TCP
/// peer, which the access gateway needs (``AccessGateway``).
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer's IP address; nil when the channel has none.
    public let peerAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress?.ipAddress
    }
}

/// The API as the access gateway (docs/governance.md): it observes the network address of
/// every access step (a request or a redemption it relays, a fetch of wrapped keys, a blob
/// download) and refuses the step while that address, or the principal taking it, is
/// blacklisted. The address is the TCP peer's; only when the peer is one of the configured
/// trusted reverse proxies (`--trusted-proxy`) is the client taken from `X-Forwarded-For`:
/// its right-most address that is not itself a trusted proxy.
public struct AccessGateway: Sendable {
    /// The reverse proxies whose `X-Forwarded-For` the gateway believes (IP addresses).
    public var trustedProxies: Set<String>

    public init(trustedProxies: Set<String> = []) {
        self.trustedProxies = trustedProxies
    }

    /// The address the gateway observes for a request over a connection from `peer`.
    /// - Throws: a 400 when the connection has no address, or a trusted proxy forwards a
    ///   malformed `X-Forwarded-For`.
    public func observedAddress(peer: String?, forwardedFor: String?) throws -> String {
        guard let peer else {
            throw HTTPError(.badRequest, message: "the access gateway could not observe the client's address")
        }
        guard trustedProxies.contains(peer), let forwardedFor else { return peer }
        let hops = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() where !trustedProxies.contains(hop) {
            guard Self.isIPAddress(hop) else {
                throw HTTPError(
                    .badRequest,
                    message:
                        "X-Forwarded-For from trusted proxy \(peer) names '\(hop)', which is not an IP address; fix the proxy's configuration"
                )
            }
            return hop
        }
        return peer
    }

    /// `X-Forwarded-For`.
    static let forwardedForField = HTTPField.Name("X-Forwarded-For")!

    /// The address observed for `request`.
    func observedAddress(_ request: Request, context: GatewayRequestContext) throws -> String {
        try observedAddress(peer: context.peerAddress, forwardedFor: request.headers[Self.forwardedForField])
    }

    /// Whether `text` is an IPv4 or IPv6 address.
    public static func isIPAddress(_ text: String) -> Bool {
        (try? SocketAddress(ipAddress: text, port: 0)) != nil
    }

    /// Refuses the step (403, naming the block and when it ends) when one of `subjects` is
    /// blacklisted now.
    static func refuseBlocked(_ subjects: [Punishment.Subject], reader: StoreReader) async throws {
        let now = Timestamp.now()
        let block = try await reader.read { try LedgerQueries(store: $0).block(among: subjects, at: now) }
        guard let block else { return }
        let until = block.until.map { "until \($0.iso8601)" } ?? "permanently"
        throw HTTPError(
            .forbidden,
            message:
                "blacklisted: \(block.subject) is blocked \(until); the access gateway refuses every access step (request, redeem, fetch, blob download) until then"
        )
    }
}

/// Checks every download of requested data (wrapped keys, transfers, blobs) against the
/// blacklist by the observed address; the routes add the requester principal where the
/// request names it.
struct AccessGateMiddleware: RouterMiddleware {
    let gateway: AccessGateway
    let reader: StoreReader

    /// The read routes that are access steps: a requester's fetch and blob downloads (not
    /// the owner's own listings, `/v1/transfers/open` and `/v1/blobs/owned`).
    static func isAccessStep(_ path: String) -> Bool {
        if path == "/v1/transfers" || path == "/v1/transfers/keys" { return true }
        return path.hasPrefix("/v1/blobs/") && path != "/v1/blobs/owned"
    }

    func handle(
        _ request: Request, context: GatewayRequestContext,
        next: (Request, GatewayRequestContext) async throws -> Response
    ) async throws -> Response {
        if request.method == .get, Self.isAccessStep(request.uri.path) {
            let address = try gateway.observedAddress(request, context: context)
            try await AccessGateway.refuseBlocked([.address(address)], reader: reader)
        }
        return try await next(request, context)
    }
}
