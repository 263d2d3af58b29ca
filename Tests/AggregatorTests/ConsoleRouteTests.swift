import AgriTraceCore
import Crypto
import Foundation
import Ledger
import LedgerAPI
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The console's routes over a real store and a real server (in process, plain HTTP on loopback):
/// every route needs a session, sign-in links are checked against the principal registry, the
/// regulator pages refuse firms, state changes need the CSRF token, and the pages carry no data.
@Suite("Console routes", .serialized, .timeLimit(.minutes(2)))
struct ConsoleRouteTests {
    static let pages = ["/console", "/console/trace", "/console/proof", "/console/regulator", "/console/owner"]
    static let otherRoutes = ["/console/session", "/console/assets/console.js", "/console/assets/console.css"]

    /// A ledger with records, a firm and a regulator, served on a free port.
    struct Served {
        let fixture: LedgerFixture
        let firm = Curve25519.Signing.PrivateKey()
        let regulator = Curve25519.Signing.PrivateKey()
        let origin: String
        let server: Task<Void, any Error>

        init() async throws {
            fixture = try populatedLedger(blocks: 2, perBlock: 5)
            let principals: [(String, PrincipalEntry.Kind, Curve25519.Signing.PrivateKey)] = [
                ("Firm/sales/alice@RETAIL1", .firm, firm), ("Regulator/inspector@AGENCY", .regulator, regulator),
            ]
            for (name, kind, key) in principals {
                let entry = PrincipalEntry(
                    name: name, kind: kind, enterprise: "E", role: kind.rawValue, stage: nil,
                    publicKey: Array(key.publicKey.rawRepresentation))
                try fixture.ledger.admit(registry: SignedRegistry.addPrincipal(entry, authority: fixture.authority))
            }
            try fixture.ledger.cutBlock()
            let port = Int(try freeLoopbackPort())
            origin = "http://127.0.0.1:\(port)"
            let app = try LedgerAPI.application(storePath: fixture.path, host: "127.0.0.1", port: port)
            server = Task { try await app.run() }
        }

        func link(_ name: String, _ key: Curve25519.Signing.PrivateKey, origin: String? = nil, now: Int64? = nil)
            throws -> ConsoleSignIn
        {
            try ConsoleSignIn(
                origin: origin ?? self.origin, principal: name, key: key,
                now: now ?? Int64(Date().timeIntervalSince1970))
        }
    }

    /// One request without cookie storage: (status, headers, body).
    static func send(_ url: String, method: String = "GET", headers: [String: String] = [:], body: String? = nil)
        async throws -> (
            Int, [String: String], String
        )
    {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        configuration.httpCookieStorage = nil
        let session = URLSession(configuration: configuration)
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpBody = body.map { Data($0.utf8) }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let deadline = ContinuousClock.now + .seconds(30)  // a whole-suite run on two loaded cores starts servers slowly
        while true {
            do {
                let (data, response) = try await session.data(for: request)
                let http = response as! HTTPURLResponse
                var fields: [String: String] = [:]
                for (name, value) in http.allHeaderFields { fields["\(name)".lowercased()] = "\(value)" }
                return (http.statusCode, fields, String(decoding: data, as: UTF8.self))
            } catch  where ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))  // the server is still starting
            }
        }
    }

    /// Signs in with `link`; returns the cookie header to send.
    static func signIn(_ link: ConsoleSignIn) async throws -> String {
        let (status, headers, body) = try await send(link.link)
        #expect(status == 200, "\(body)")
        let cookie = try #require(headers["set-cookie"])
        #expect(cookie.contains("; Secure") && cookie.contains("; HttpOnly") && cookie.contains("; SameSite=Strict"))
        return String(cookie.prefix { $0 != ";" })
    }

    @Test func everyConsoleRouteNeedsASession() async throws {
        let served = try await Served()
        defer { served.server.cancel() }
        for path in Self.pages + Self.otherRoutes {
            for headers in [[:], ["Cookie": "agritrace_console=\(String(repeating: "ab", count: 32))"]] {
                let (status, answer, body) = try await Self.send(served.origin + path, headers: headers)
                #expect(status == 401, "\(path) answered \(status) without a session")
                #expect(body.contains("agritrace console login"), "\(path): \(body)")
                #expect(answer["content-security-policy"]?.contains("script-src 'self'") == true)
            }
        }
        #expect(try await Self.send(served.origin + "/console/logout", method: "POST").0 == 401)
    }

    @Test func signInLinksAreCheckedAgainstTheRegistry() async throws {
        let served = try await Served()
        defer { served.server.cancel() }
        let firm = "Firm/sales/alice@RETAIL1"
        let now = Int64(Date().timeIntervalSince1970)
        var tampered = try served.link(firm, served.firm)
        tampered.principal = "Regulator/inspector@AGENCY"
        let refused: [(ConsoleSignIn, String)] = [
            (try served.link(firm, served.regulator), "signature does not verify"),
            (tampered, "signature does not verify"),
            (try served.link(firm, served.firm, origin: "http://other.example:1"), "signature does not verify"),
            (try served.link(firm, served.firm, now: now - 400), "expired"),
            (try served.link("Firm/nobody@X", served.firm), "is not registered"),
        ]
        for (link, reason) in refused {
            let (status, _, body) = try await Self.send(
                served.origin + "/console/login?" + link.link.split(separator: "?")[1])
            #expect(status == 401 && body.contains(reason), "\(link.principal): \(status) \(body)")
        }
        var tooLong = try served.link(firm, served.firm)
        tooLong.expires = now + 3600
        #expect(try await Self.send(tooLong.link).2.contains("more than 600 s"))
        let link = try served.link(firm, served.firm)
        _ = try await Self.signIn(link)
        let (again, _, body) = try await Self.send(link.link)
        #expect(again == 401 && body.contains("already used"), "a sign-in link worked twice")
    }

    @Test func firmsGet403OnRegulatorPagesAndSignOutNeedsTheCSRFToken() async throws {
        let served = try await Served()
        defer { served.server.cancel() }
        let firm = try await Self.signIn(try served.link("Firm/sales/alice@RETAIL1", served.firm))
        let regulator = try await Self.signIn(try served.link("Regulator/inspector@AGENCY", served.regulator))
        for path in Self.pages + Self.otherRoutes {
            let (status, headers, body) = try await Self.send(served.origin + path, headers: ["Cookie": firm])
            #expect(status == (path == "/console/regulator" ? 403 : 200), "\(path): \(status)")
            let policy = try #require(headers["content-security-policy"])
            #expect(policy.contains("default-src 'none'") && policy.contains("script-src 'self'"))
            #expect(!body.contains("<script>") && !body.contains("onclick="), "\(path) has inline script")
            // Pages are shells: no record, lot or private value is rendered server-side.
            #expect(!body.contains("PL-0") && !body.contains("sweet corn") && !body.contains("1200"), "\(path)")
        }
        #expect(try await Self.send(served.origin + "/console/regulator", headers: ["Cookie": regulator]).0 == 200)
        let session = try await Self.send(served.origin + "/console/session", headers: ["Cookie": firm]).2
        let token = try #require(
            (try JSONSerialization.jsonObject(with: Data(session.utf8)) as? [String: Any])?["csrfToken"] as? String)
        let logout = served.origin + "/console/logout"
        #expect(try await Self.send(logout, method: "POST", headers: ["Cookie": firm]).0 == 403)
        #expect(
            try await Self.send(
                logout, method: "POST",
                headers: ["Cookie": firm, "X-CSRF-Token": token, "Origin": "https://evil.example"]
            ).0 == 403)
        #expect(try await Self.send(served.origin + "/console", headers: ["Cookie": firm]).0 == 200)
        #expect(try await Self.send(logout, method: "POST", headers: ["Cookie": firm, "X-CSRF-Token": token]).0 == 200)
        #expect(try await Self.send(served.origin + "/console", headers: ["Cookie": firm]).0 == 401)
        #expect(try await Self.send(served.origin + "/console", headers: ["Cookie": regulator]).0 == 200)
    }

    /// The session's CSRF token.
    static func csrfToken(_ served: Served, _ cookie: String) async throws -> String {
        let session = try await send(served.origin + "/console/session", headers: ["Cookie": cookie]).2
        return try #require(
            (try JSONSerialization.jsonObject(with: Data(session.utf8)) as? [String: Any])?["csrfToken"] as? String)
    }

    /// The owner page's signed answer: a revocation transaction and its signature by `key`.
    static func signedBody(_ transaction: AccessTransaction, _ key: Curve25519.Signing.PrivateKey) throws -> String {
        let signed = try Signed(transaction, domain: .transaction, key: key)
        return
            #"{"transaction":"\#(Canonical.encode(transaction).hexString)","signature":"\#(signed.signature.hexString)"}"#
    }

    @Test func revocationsNeedTheCSRFTokenTheOwnersKeyAndWhatItOwns() async throws {
        let served = try await Served()
        defer { served.server.cancel() }
        let name = "Firm/sales/alice@RETAIL1"
        let firm = try await Self.signIn(try served.link(name, served.firm))
        let token = try await Self.csrfToken(served, firm)
        let prepare = served.origin + "/console/owner/revocations"
        let grant = String(repeating: "ab", count: 16)
        let asked = #"{"kind":"grant","id":"\#(grant)","reason":"test"}"#
        #expect(try await Self.send(prepare, method: "POST", body: asked).0 == 401)
        #expect(try await Self.send(prepare, method: "POST", headers: ["Cookie": firm], body: asked).0 == 403)
        let withToken = ["Cookie": firm, "X-CSRF-Token": token]
        let notOwned = try await Self.send(prepare, method: "POST", headers: withToken, body: asked)
        #expect(notOwned.0 == 403 && notOwned.2.contains("granted no request \(grant)"), "\(notOwned)")
        let policy = try await Self.send(
            prepare, method: "POST", headers: withToken, body: #"{"kind":"policy","id":"\#(grant)"}"#)
        #expect(policy.0 == 403 && policy.2.contains("owns no protected entry"), "\(policy)")
        let garbled = try await Self.send(prepare, method: "POST", headers: withToken, body: "{\"kind\":1}")
        #expect(garbled.0 == 400 && garbled.2.contains("kind: grant|policy"), "\(garbled)")

        let signedURL = served.origin + "/console/owner/revocations/signed"
        let revoke = AccessTransaction(submitter: name, operation: .revokeGrant(requestID: grant, reason: "test"))
        let refused: [(String, [String: String], Int, String)] = [
            (try Self.signedBody(revoke, served.firm), ["Cookie": firm], 403, "X-CSRF-Token"),
            (try Self.signedBody(revoke, served.regulator), withToken, 403, "does not verify under \(name)"),
            (try Self.signedBody(revoke, served.firm), withToken, 403, "granted no request"),
            (
                try Self.signedBody(
                    AccessTransaction(
                        submitter: "Regulator/inspector@AGENCY", operation: .revokeGrant(requestID: grant, reason: "")),
                    served.firm), withToken, 403, "is not the signed-in"
            ),
            (
                try Self.signedBody(
                    AccessTransaction(
                        submitter: name, operation: .revokeGrant(requestID: grant, reason: ""),
                        submittedAt: Timestamp(milliseconds: Timestamp.now().milliseconds - 1_200_000)), served.firm),
                withToken, 400, "prepare the revocation again"
            ),
            (
                try Self.signedBody(
                    AccessTransaction(submitter: name, operation: .addToBlacklist(source: "10.0.0.1", reason: "")),
                    served.firm), withToken, 403, "only submits revokeGrant"
            ),
            (#"{"transaction":"00","signature":"00"}"#, withToken, 400, "not a canonical access transaction"),
        ]
        for (body, headers, status, reason) in refused {
            let answer = try await Self.send(signedURL, method: "POST", headers: headers, body: body)
            #expect(answer.0 == status && answer.2.contains(reason), "\(reason): \(answer.0) \(answer.2)")
        }
        let queued = try LedgerStore(path: served.fixture.path, readOnly: true)
        #expect((try? queued.submissionStatus(1)) == nil, "a refused revocation reached the submission queue")
    }
}
