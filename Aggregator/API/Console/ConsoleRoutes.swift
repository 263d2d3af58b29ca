import AgriTraceCore
import Foundation
import Hummingbird
import Ledger

/// The web console (`/console/`): pages and assets embedded in the binary, served by the API
/// over the same TLS. Sign-in turns a link signed with the principal's registered key
/// (``ConsoleSignIn``) into a session cookie; every console route needs that session, and
/// the regulator pages need a regulator. Pages hold no ledger data: their script reads the
/// API's JSON routes (`/v1/...`) from the browser. See `docs/console.md`.
public enum ConsoleRoutes {
    /// The session cookie's name.
    static let cookie = "agritrace_console"

    static func add(
        to router: Router<GatewayRequestContext>, reader: StoreReader, submissions: SubmissionQueue, scheme: String
    ) {
        let sessions = ConsoleSessions()
        let gate = ConsoleGate(sessions: sessions, scheme: scheme)
        ConsoleRevocations.add(to: router, gate: gate, reader: reader, submissions: submissions)
        router.get("/console/login") { request, _ in
            try await gate.signIn(request, reader: reader)
        }
        router.post("/console/logout") { request, _ in
            try await gate.signOut(request)
        }
        router.get("/console/session") { request, _ in
            let (_, session) = try await gate.require(request)
            let authority = try await reader.read { try $0.authorityKey()?.hex }
            return ConsoleResponse.json(
                SessionAnswer(
                    principal: session.principal, enterprise: session.enterprise, role: session.role.rawValue,
                    csrfToken: session.csrfToken, authority: authority))
        }
        for page in ConsolePage.allCases {
            router.get(RouterPath(page.path)) { request, _ in
                let (_, session) = try await gate.require(request)
                guard page.allows(session.role) else {
                    return ConsoleResponse.message(
                        .forbidden, "Forbidden",
                        "The \(page.title) page is for regulators; \(session.principal) is signed in as a \(session.role.rawValue)."
                    )
                }
                return ConsoleResponse.html(ConsolePages.render(page, session: session))
            }
        }
        router.get("/console/assets/:name") { request, context in
            _ = try await gate.require(request)
            guard let asset = ConsoleAssets.named(try context.parameters.require("name")) else {
                return ConsoleResponse.message(.notFound, "Not found", "There is no such console asset.")
            }
            return ConsoleResponse.asset(asset)
        }
    }

    /// What `/console/session` answers: who is signed in, the CSRF token, and the authority key
    /// the store recorded (the page says to compare it with one's own copy).
    struct SessionAnswer: Codable {
        var principal, enterprise, role, csrfToken: String
        var authority: String?
    }
}

/// Checks sessions and sign-in links.
struct ConsoleGate: Sendable {
    let sessions: ConsoleSessions
    let scheme: String

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

    /// The session of the request's cookie, or a 401 naming how to sign in.
    func require(_ request: Request) async throws -> (token: String, session: ConsoleSession) {
        guard let token = request.cookies[ConsoleRoutes.cookie]?.value,
            let session = await sessions.session(token: token, now: Self.now())
        else { throw ConsoleRefusal.notSignedIn }
        return (token, session)
    }

    /// `GET /console/login?principal&expires&nonce&signature`: checks the link against the
    /// registry, opens a session and sets its cookie.
    func signIn(_ request: Request, reader: StoreReader) async throws -> Response {
        let origin = "\(scheme)://\(request.head.authority ?? "")"
        let query = request.uri.queryParameters
        do {
            let link = try ConsoleSignIn(origin: origin, query: { query.get($0) })
            let principal = try await reader.read { try LedgerQueries(store: $0).principal(link.principal) }
            var registered: ConsoleSignIn.PrincipalKey?
            if let principal, let key = [UInt8](hexString: principal.publicKey) {
                registered = ConsoleSignIn.PrincipalKey(publicKey: key, active: principal.status == .active)
            }
            try link.check(registered: registered, now: Self.now())
            guard let principal, let role = ConsoleSession.Role(kind: principal.kind) else {
                throw ConsoleSignIn.Refusal.notConsoleUser(link.principal)
            }
            guard let opened = await sessions.open(link, enterprise: principal.enterprise, role: role, now: Self.now())
            else { throw ConsoleSignIn.Refusal.used }
            let token = opened.token
            var response = ConsoleResponse.html(ConsolePages.signedIn(principal: principal.name))
            response.headers[.setCookie] =
                "\(ConsoleRoutes.cookie)=\(token); Path=/console; Max-Age=\(ConsoleSessions.lifetime); Secure; HttpOnly; SameSite=Strict"
            return response
        } catch let refusal as ConsoleSignIn.Refusal {
            standardError("agritrace api: console sign-in refused: \(refusal)")
            return ConsoleResponse.message(.unauthorized, "Sign-in refused", refusal.description)
        }
    }

    /// `POST /console/logout`: needs the session's CSRF token in `X-CSRF-Token` and a
    /// same-origin `Origin` when the browser sends one.
    func signOut(_ request: Request) async throws -> Response {
        let (token, session) = try await require(request)
        try checkCSRF(request, session: session)
        await sessions.close(token: token)
        var response = ConsoleResponse.message(.ok, "Signed out", "The session is closed.")
        response.headers[.setCookie] =
            "\(ConsoleRoutes.cookie)=; Path=/console; Max-Age=0; Secure; HttpOnly; SameSite=Strict"
        return response
    }

    /// The session of a state-changing request, which must carry its CSRF token (``checkCSRF(_:session:)``).
    func requireWithCSRF(_ request: Request) async throws -> ConsoleSession {
        let (_, session) = try await require(request)
        try checkCSRF(request, session: session)
        return session
    }

    func checkCSRF(_ request: Request, session: ConsoleSession) throws {
        let sent = request.headers.first { $0.name.canonicalName == "x-csrf-token" }?.value
        guard let sent, sent == session.csrfToken else {
            throw ConsoleRefusal.csrf("the X-CSRF-Token header is missing or wrong")
        }
        if let origin = request.headers[.origin], origin != "\(scheme)://\(request.head.authority ?? "")" {
            throw ConsoleRefusal.csrf("the request comes from another origin (\(origin))")
        }
    }
}

extension ConsoleSession.Role {
    /// Firms and regulators use the console; devices and aggregators do not.
    init?(kind: PrincipalEntry.Kind) {
        switch kind {
        case .regulator: self = .regulator
        case .firm: self = .firm
        case .device, .aggregator: return nil
        }
    }
}

/// A refused JSON request of the owner page: the status and the reason, which the page shows.
struct Problem: Codable, Sendable {
    var status: Int
    var reason: String
}

/// Console refusals, answered as small pages (or, for the owner page's JSON requests, a
/// ``Problem``) with the right status.
enum ConsoleRefusal: Error, HTTPResponseError {
    case notSignedIn
    case csrf(String)
    /// The signed-in principal may not do this (not its grant, a signature under another key).
    case forbidden(String)
    /// The request's body is not what the page sends.
    case badRequest(String)

    var status: HTTPResponse.Status {
        switch self {
        case .notSignedIn: .unauthorized
        case .csrf, .forbidden: .forbidden
        case .badRequest: .badRequest
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        switch self {
        case .notSignedIn:
            ConsoleResponse.message(
                .unauthorized, "Not signed in",
                "Sign in with a link from `agritrace console login --principal NAME --key KEY --url ORIGIN` (see docs/console.md)."
            )
        case .csrf(let reason):
            ConsoleResponse.message(.forbidden, "Refused", "Refused a state-changing request: \(reason).")
        case .forbidden(let reason):
            ConsoleResponse.json(Problem(status: 403, reason: "Refused: \(reason)."), status: .forbidden)
        case .badRequest(let reason):
            ConsoleResponse.json(Problem(status: 400, reason: "Bad request: \(reason)."), status: .badRequest)
        }
    }
}
