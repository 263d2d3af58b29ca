import Crypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The key of a signer of notes (C2SP `signed-note`): its name, signature type and Ed25519
/// public key, written as a verifier key `<name>+<key id hex>+<base64(type || public key)>`
/// (the `vkey` form other transparency-log tooling reads).
public struct NoteVerifierKey: Hashable, Sendable, CustomStringConvertible {
    /// The signature types this project signs and verifies (C2SP signed-note §Signature types).
    public enum SignatureType: UInt8, Sendable, Hashable {
        /// An Ed25519 signature over the note text (a log's own signature).
        case ed25519 = 0x01
        /// A timestamped Ed25519 cosignature (C2SP `tlog-cosignature`, `cosignature/v1`).
        case cosignature = 0x04
    }

    /// Why a verifier key is refused.
    public enum Error: Swift.Error, Hashable, Sendable, CustomStringConvertible {
        case invalidName(String)
        case malformed(String)
        case keyIDMismatch(declared: UInt32, computed: UInt32)

        public var description: String {
            switch self {
            case .invalidName(let name):
                "key name \"\(name)\" is empty or holds a space or '+'; fix: name the key like example.com/node-1"
            case .malformed(let reason): "the verifier key is malformed: \(reason)"
            case .keyIDMismatch(let declared, let computed):
                "the verifier key declares key id \(keyIDText(declared)) but its name and key give \(keyIDText(computed))"
            }
        }
    }

    public let name: String
    public let type: SignatureType
    /// The 32-byte Ed25519 public key.
    public let publicKey: [UInt8]
    /// `SHA-256(name || 0x0A || type || public key)[:4]`, big-endian.
    public let keyID: UInt32

    /// The key `publicKey` of the signer `name`.
    public init(name: String, type: SignatureType, publicKey: [UInt8]) throws(Error) {
        guard Self.isValidName(name) else { throw .invalidName(name) }
        guard publicKey.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey)) != nil else {
            throw .malformed("an Ed25519 public key is 32 bytes, not \(publicKey.count)")
        }
        self.name = name
        self.type = type
        self.publicKey = publicKey
        var hasher = SHA256()
        hasher.update(data: Array(name.utf8) + [0x0A, type.rawValue] + publicKey)
        keyID = Array(hasher.finalize()).prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Parses the verifier-key text `<name>+<key id hex>+<base64(type || public key)>`.
    public init(vkey: String) throws(Error) {
        let parts = vkey.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("it is not <name>+<key id>+<key>") }
        guard parts[1].utf8.count == 8, let declared = UInt32(parts[1], radix: 16) else {
            throw .malformed("the key id \"\(parts[1])\" is not 8 hexadecimal digits")
        }
        guard let material = Base64.decode(parts[2]), material.count == 33 else {
            throw .malformed("the key is not base64 of a type byte and 32 key bytes")
        }
        guard let type = SignatureType(rawValue: material[0]) else {
            throw .malformed("signature type \(material[0]) is not Ed25519 (1) or a cosignature (4)")
        }
        try self.init(name: String(parts[0]), type: type, publicKey: Array(material[1...]))
        guard keyID == declared else { throw .keyIDMismatch(declared: declared, computed: keyID) }
    }

    /// The verifier-key text.
    public var vkey: String { "\(name)+\(keyIDText(keyID))+\(Base64.encode([type.rawValue] + publicKey))" }
    public var description: String { vkey }

    /// Whether `signature` by this key verifies over `message`.
    func verifies(_ signature: ArraySlice<UInt8>, over message: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(signature, for: message)
    }

    /// A key name is non-empty and holds no Unicode space and no `+`.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.unicodeScalars.contains { $0 == "+" || $0.properties.isWhitespace }
    }
}

/// Signs notes with an Ed25519 key: as the log itself (``NoteVerifierKey/SignatureType/ed25519``)
/// or as a cosigner of checkpoints (``NoteVerifierKey/SignatureType/cosignature``).
public struct NoteSigner: Sendable {
    public let verifierKey: NoteVerifierKey
    let key: Curve25519.Signing.PrivateKey

    /// The signer `name` with `key`, signing notes of `type`.
    public init(name: String, type: NoteVerifierKey.SignatureType, key: Curve25519.Signing.PrivateKey)
        throws(NoteVerifierKey.Error)
    {
        self.key = key
        verifierKey = try NoteVerifierKey(name: name, type: type, publicKey: Array(key.publicKey.rawRepresentation))
    }

    /// The signature line of this key over `text` (a checkpoint's body for a cosignature, cosigned
    /// at `time`, seconds since the epoch).
    public func sign(_ text: String, time: UInt64 = 0) throws -> SignedNote.Signature {
        let signed: [UInt8]
        switch verifierKey.type {
        case .ed25519:
            signed = Array(try key.signature(for: Array(text.utf8)))
        case .cosignature:
            var timestamped = CanonicalWriter(capacity: 72)
            timestamped.write(time)
            timestamped.writeRaw(Array(try key.signature(for: Cosignature.message(text, time: time))))
            signed = timestamped.bytes
        }
        return SignedNote.Signature(name: verifierKey.name, keyID: verifierKey.keyID, signature: signed)
    }
}

/// The `tlog-cosignature` v1 message: the header line, the time line and the checkpoint body.
public enum Cosignature {
    /// The bytes an Ed25519 cosigner signs for the checkpoint body `text` at `time`.
    public static func message(_ text: String, time: UInt64) -> [UInt8] {
        Array("cosignature/v1\ntime \(time)\n".utf8) + Array(text.utf8)
    }

    /// The time of a cosignature's `timestamped_signature` (its first eight bytes, big-endian).
    public static func time(of signature: SignedNote.Signature) -> UInt64? {
        guard signature.signature.count == 72 else { return nil }
        return signature.signature.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// A key id as written in a verifier key: eight lower-case hexadecimal digits.
func keyIDText(_ keyID: UInt32) -> String { SignedNote.Signature.keyIDBytes(keyID).hexString }
