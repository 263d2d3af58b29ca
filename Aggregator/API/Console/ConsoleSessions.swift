import AgriTraceCore
import Foundation

/// A signed-in console user.
struct ConsoleSession: Sendable {
    /// What the principal may open: regulators see the regulator pages, everyone else gets 403 there.
    enum Role: String, Sendable, Codable {
        case regulator, firm
    }

    var principal: String
    var enterprise: String
    var role: Role
    /// Sent back on every state-changing request (`X-CSRF-Token`), never in a cookie.
    var csrfToken: String
    /// Unix seconds.
    var expires: Int64
}

/// The console's sessions, in memory: a restart signs everyone out. Tokens are 32 random bytes;
/// the server keeps only their SHA-256, so a memory dump does not hand out live cookies.
actor ConsoleSessions {
    /// How long a session lasts (8 hours), whatever the activity.
    static let lifetime: Int64 = 8 * 3600

    private var sessions: [String: ConsoleSession] = [:]
    /// Sign-in nonces already used, with the link's expiry (forgotten once the link expires anyway).
    private var usedNonces: [String: Int64] = [:]

    /// Starts a session for a checked sign-in link; nil if its nonce was used before.
    func open(_ link: ConsoleSignIn, enterprise: String, role: ConsoleSession.Role, now: Int64) -> (
        token: String, session: ConsoleSession
    )? {
        usedNonces = usedNonces.filter { $0.value >= now }
        sessions = sessions.filter { $0.value.expires > now }
        guard usedNonces[link.nonce] == nil else { return nil }
        usedNonces[link.nonce] = link.expires
        let token = Self.randomHex()
        let session = ConsoleSession(
            principal: link.principal, enterprise: enterprise, role: role, csrfToken: Self.randomHex(),
            expires: now + Self.lifetime)
        sessions[Self.key(token)] = session
        return (token, session)
    }

    /// The live session of a cookie value.
    func session(token: String, now: Int64) -> ConsoleSession? {
        guard let session = sessions[Self.key(token)], session.expires > now else { return nil }
        return session
    }

    /// Ends a session.
    func close(token: String) { sessions[Self.key(token)] = nil }

    static func key(_ token: String) -> String { Digest32.sha256(Array(token.utf8)).hex }

    static func randomHex() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }.hexString
    }
}
