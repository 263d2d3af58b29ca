import Crypto
import Synchronization

/// Random bytes for per-record secrets (level salts, the vault's AES-GCM nonces) from
/// swift-crypto's generator (the kernel's `getrandom` on Linux), drawn 4 KiB at a time.
///
/// Drawn one value at a time, each salt and each nonce was a system call; drawn in blocks, a
/// hundred or more share one. Each byte is handed out once and zeroed in the block as it is,
/// so the pool never holds a value already given out.
public enum RandomPool {
    /// The size of one draw from the generator.
    public static let blockSize = 4096

    private struct Block {
        var bytes: [UInt8] = []
        var offset = 0
    }

    private static let block = Mutex(Block())

    /// `count` fresh random bytes.
    /// - Precondition: `count` is at most ``blockSize``.
    public static func bytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0 && count <= blockSize, "at most \(blockSize) random bytes at a time")
        return block.withLock { block in
            if block.offset + count > block.bytes.count {
                block.bytes = SymmetricKey(size: SymmetricKeySize(bitCount: blockSize * 8)).withUnsafeBytes {
                    Array($0)
                }
                block.offset = 0
            }
            let range = block.offset..<(block.offset + count)
            let drawn = Array(block.bytes[range])
            block.bytes.replaceSubrange(range, with: repeatElement(0, count: count))
            block.offset += count
            return drawn
        }
    }
}
