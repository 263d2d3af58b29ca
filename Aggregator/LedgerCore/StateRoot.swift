import AgriTraceCore

/// The consortium's per-block commitment to the world state (issue #16): a hash chain over
/// what each block changed,
///
///     root(0) = 32 zero bytes
///     root(h) = SHA-256("agritrace-state-root/v1\n" ‖ root(h-1) ‖ h as 8 bytes big-endian ‖ changes(h))
///
/// where `changes(h)` is the digest of the state rows block h changed, read after the block
/// (`StateChanges` in `Ledger` computes it). Two nodes that applied the same blocks the same
/// way have the same root at every height; a node that wrote one row differently, or touched
/// another row, differs from that height on. It costs O(rows changed) per block, not O(state).
public enum StateRoot {
    /// The root before the first block.
    public static let initial = Digest32.zero

    static let domain = Array("agritrace-state-root/v1\n".utf8)

    /// The root after block `height`, whose changed rows digest to `changes`, following `previous`.
    public static func next(after previous: Digest32, height: UInt64, changes: Digest32) -> Digest32 {
        var writer = CanonicalWriter(capacity: domain.count + 72)
        writer.writeRaw(domain)
        previous.encode(to: &writer)
        writer.write(height)
        changes.encode(to: &writer)
        return Digest32.sha256(writer.bytes)
    }
}
