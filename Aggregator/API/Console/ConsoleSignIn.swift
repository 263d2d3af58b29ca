import AgriTraceCore
import Crypto
import Foundation

/// The console's sign-in link: a principal's short-lived statement, signed with its enrolled
/// Ed25519 transaction key, that it wants a console session on one server (`agritrace console login`).
///
/// The server checks the signature against the key in the principal registry on the ledger,
/// that the link is for its own origin, unexpired, at most ``maximumLifetime`` ahead, and
/// unused (the nonce is single-use), then turns it into a session cookie.
/// The signed text starts with `agritrace/v1/console-sign-in`, not with a length prefix,
/// so it can never be mistaken for the canonical bytes of a signed transaction.
public struct ConsoleSignIn: Sendable, Equatable {
    /// The longest a link may be valid for.
    public static let maximumLifetime: Int64 = 600
    static let domain = "agritrace/v1/console-sign-in"

    /// The server's origin, `https://HOST:PORT`, as the browser sees it.
    public var origin: String
    public var principal: String
    /// When the link stops working (Unix seconds).
    public var expires: Int64
    /// 16 random bytes (hex): the link works once.
    public var nonce: String
    /// The Ed25519 signature over ``message`` (hex).
    public var signature: String

    /// The bytes signed.
    public var message: [UInt8] {
        Array("\(Self.domain)\n\(origin)\n\(principal)\n\(expires)\n\(nonce)".utf8)
    }

    /// Mints a link for `principal` on `origin`, valid for `lifetime` seconds from `now`.
    public init(
        origin: String, principal: String, key: Curve25519.Signing.PrivateKey, now: Int64, lifetime: Int64 = 300
    ) throws {
        self.origin = Self.normalized(origin)
        self.principal = principal
        expires = now + min(lifetime, Self.maximumLifetime)
        nonce = (0..<16).map { _ in UInt8.random(in: 0...255) }.hexString
        signature = ""
        signature = Array(try key.signature(for: message)).hexString
    }

    /// The parsed query of a sign-in request; nil names the missing parameter.
    public init(origin: String, query: (String) -> String?) throws(Refusal) {
        guard let principal = query("principal"), !principal.isEmpty else { throw .missing("principal") }
        guard let expiresText = query("expires"), let expires = Int64(expiresText) else { throw .missing("expires") }
        guard let nonce = query("nonce"), nonce.count == 32, [UInt8](hexString: nonce) != nil else {
            throw .missing("nonce")
        }
        guard let signature = query("signature"), signature.count == 128 else { throw .missing("signature") }
        self.origin = Self.normalized(origin)
        self.principal = principal
        self.expires = expires
        self.nonce = nonce
        self.signature = signature
    }

    /// The link to open in a browser.
    public var link: String {
        var components = URLComponents()
        components.queryItems = [
            URLQueryItem(name: "principal", value: principal), URLQueryItem(name: "expires", value: "\(expires)"),
            URLQueryItem(name: "nonce", value: nonce), URLQueryItem(name: "signature", value: signature),
        ]
        let query = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        return "\(origin)/console/login?\(query)"
    }

    /// Checks the link at `now` against the principal's registered key and status.
    public func check(registered: PrincipalKey?, now: Int64) throws(Refusal) {
        guard expires >= now else { throw .expired }
        guard expires <= now + Self.maximumLifetime else { throw .tooLong }
        guard let registered else { throw .unknownPrincipal(principal) }
        guard registered.active else { throw .revokedPrincipal(principal) }
        guard let signatureBytes = [UInt8](hexString: signature),
            let key = try? Curve25519.Signing.PublicKey(rawBytes: registered.publicKey),
            key.isValidSignature(signatureBytes, for: message)
        else { throw .badSignature }
    }

    /// What the registry says about the principal.
    public struct PrincipalKey: Sendable {
        public var publicKey: [UInt8]
        public var active: Bool
        public init(publicKey: [UInt8], active: Bool) {
            self.publicKey = publicKey
            self.active = active
        }
    }

    /// Why a sign-in link was refused (shown to the user, with the fix).
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case missing(String)
        case expired
        case tooLong
        case unknownPrincipal(String)
        case revokedPrincipal(String)
        case badSignature
        case used
        case notConsoleUser(String)

        public var description: String {
            switch self {
            case .missing(let field):
                "the sign-in link has no valid \(field); mint a new one with `agritrace console login`"
            case .expired: "the sign-in link has expired; mint a new one with `agritrace console login`"
            case .tooLong:
                "the sign-in link is valid for more than \(ConsoleSignIn.maximumLifetime) s; mint a shorter one"
            case .unknownPrincipal(let name):
                "principal \(name) is not registered; register it with `agritrace principals add`"
            case .revokedPrincipal(let name): "principal \(name) is revoked"
            case .badSignature:
                "the sign-in link's signature does not verify under the principal's registered key (or it was minted for another server: --url must be the address the browser opens)"
            case .used: "the sign-in link was already used; mint a new one with `agritrace console login`"
            case .notConsoleUser(let name):
                "principal \(name) is a device or an aggregator; the console is for firms and regulators"
            }
        }
    }

    static func normalized(_ origin: String) -> String {
        origin.hasSuffix("/") ? String(origin.dropLast()) : origin
    }
}
