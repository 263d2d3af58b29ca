import Crypto

/// HMAC-SHA256 (RFC 2104) with its key schedule done once.
///
/// A record's level salt keys one HMAC per field. swift-crypto's `HMAC` reaches SHA-256
/// through its generic `DataProtocol` path, which is not specialized outside the library:
/// on the agent's intake path that cost more than the hashing itself. This keeps the inner
/// and outer SHA-256 states after the padded key and copies them per message, feeding bytes
/// through `update(bufferPointer:)` only. `Tests/CoreTests` checks it against swift-crypto's
/// `HMAC<SHA256>` and the RFC 4231 vectors.
public struct SaltKey: Sendable {
    @usableFromInline var inner = SHA256()
    @usableFromInline var outer = SHA256()

    /// Keys the HMAC with `key` (hashed first when longer than SHA-256's 64-byte block).
    public init(key: some Collection<UInt8>) {
        var block = [UInt8](repeating: 0, count: 64)
        if key.count > 64 {
            var hasher = SHA256()
            hasher.update(bytes: Array(key))
            hasher.finalize().withUnsafeBytes { digest in
                for (index, byte) in digest.enumerated() { block[index] = byte }
            }
        } else {
            for (index, byte) in key.enumerated() { block[index] = byte }
        }
        inner.update(bytes: block.map { $0 ^ 0x36 })
        outer.update(bytes: block.map { $0 ^ 0x5c })
    }

    /// `HMAC-SHA256(key, message)`.
    @inlinable
    public func authenticationCode(for message: UnsafeRawBufferPointer) -> Digest32 {
        var innerHash = inner
        innerHash.update(bufferPointer: message)
        var outerHash = outer
        Digest32(innerHash.finalize()).update(&outerHash)
        return Digest32(outerHash.finalize())
    }

    /// `HMAC-SHA256(key, message)`.
    @inlinable
    public func authenticationCode(for message: [UInt8]) -> Digest32 {
        message.withUnsafeBytes { authenticationCode(for: $0) }
    }
}

extension SHA256 {
    /// Feeds `bytes` in through `update(bufferPointer:)`, not swift-crypto's generic
    /// `update(data:)`, which goes through unspecialized `DataProtocol` code.
    @inlinable
    public mutating func update(bytes: [UInt8]) {
        bytes.withUnsafeBytes { update(bufferPointer: $0) }
    }
}
