import AgriTraceCore
import Crypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The device's Ed25519 signing key, generated on the box and never leaving it.
///
/// The key file holds one line: the 32-byte raw private key as 64 hex characters, readable
/// by the owner only (mode 0600).
public struct DeviceKey: Sendable {
    /// The signing key.
    public let privateKey: Curve25519.Signing.PrivateKey

    /// The public key, to register with the aggregator.
    public var publicKey: Curve25519.Signing.PublicKey { privateKey.publicKey }

    /// Errors reading or creating the key file.
    public enum KeyError: Error, CustomStringConvertible {
        case missing(path: String)
        case malformed(path: String)
        case tooOpen(path: String, mode: UInt16)
        case exists(path: String)
        case io(path: String, errno: Int32)

        public var description: String {
            switch self {
            case .missing(let path):
                "device key \(path) does not exist; create it with `agritrace-agent init --config ...`"
            case .malformed(let path): "device key \(path) is not 64 hex characters of an Ed25519 private key"
            case .tooOpen(let path, let mode):
                "device key \(path) has mode \(String(mode, radix: 8)); run `chmod 600 \(path)`"
            case .exists(let path): "device key \(path) already exists; refusing to overwrite it"
            case .io(let path, let code): "device key \(path): \(String(cString: strerror(code)))"
            }
        }
    }

    /// Wraps an existing key.
    public init(privateKey: Curve25519.Signing.PrivateKey) {
        self.privateKey = privateKey
    }

    /// Loads the key file, refusing one readable by group or others.
    public static func load(path: String) throws -> DeviceKey {
        var info = stat()
        guard stat(path, &info) == 0 else { throw KeyError.missing(path: path) }
        let mode = UInt16(info.st_mode & 0o777)
        guard mode & 0o077 == 0 else { throw KeyError.tooOpen(path: path, mode: mode) }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let bytes = [UInt8](hexString: String(text.trimmingWhitespace().filter { $0 != "\n" })),
            bytes.count == 32,
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: bytes)
        else { throw KeyError.malformed(path: path) }
        return DeviceKey(privateKey: key)
    }

    /// Generates a new key and writes it with mode 0600; refuses to overwrite an existing file.
    @discardableResult
    public static func create(path: String) throws -> DeviceKey {
        let key = Curve25519.Signing.PrivateKey()
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            if errno == EEXIST { throw KeyError.exists(path: path) }
            throw KeyError.io(path: path, errno: errno)
        }
        defer { close(descriptor) }
        let line = Array((Array(key.rawRepresentation).hexString + "\n").utf8)
        let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(descriptor) == 0 else { throw KeyError.io(path: path, errno: errno) }
        return DeviceKey(privateKey: key)
    }

    /// The symmetric key that encrypts the vault, derived with HKDF-SHA256 from the private key.
    public func vaultKey(enterprise: String, device: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: privateKey.rawRepresentation),
            salt: Array("agritrace/v1/vault-key".utf8),
            info: Array("\(enterprise)/\(device)".utf8),
            outputByteCount: 32)
    }
}

/// Seals private values for the vault with AES-256-GCM, bound to their record and level.
public struct VaultCipher: Sendable {
    let key: SymmetricKey

    /// Creates a cipher with a 256-bit key.
    public init(key: SymmetricKey) {
        self.key = key
    }

    /// Encrypts `plaintext` under a random 96-bit nonce (from ``RandomPool``: one system call
    /// per few hundred readings, not one per reading); `context` (record id and level) is
    /// authenticated, not stored.
    public func seal(_ plaintext: [UInt8], context: [UInt8]) throws -> [UInt8] {
        let nonce = try AES.GCM.Nonce(data: RandomPool.bytes(12))
        let box = try AES.GCM.seal(plaintext, using: key, nonce: nonce, authenticating: context)
        guard let combined = box.combined else { throw CryptoKitError.incorrectParameterSize }
        return Array(combined)
    }

    /// Decrypts what ``seal(_:context:)`` produced with the same context.
    public func open(_ sealed: [UInt8], context: [UInt8]) throws -> [UInt8] {
        Array(try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key, authenticating: context))
    }
}
