import AgriTraceCore

/// A consortium block's checkpoint: the C2SP `tlog-checkpoint` body of the log after the
/// block (origin from the genesis, size, root hash) with one extension line,
/// `state <base64 of the 32-byte state root>` (``StateRoot``), so a cosignature commits to the
/// world state as well as to the log (docs/consortium.md, "Checkpoints").
public enum ConsortiumCheckpoint {
    /// The extension line's keyword.
    static let stateKeyword = "state "

    /// The checkpoint of a log of `size` leaves with root `logRoot` and the state root `stateRoot`.
    public static func make(origin: String, size: UInt64, logRoot: Digest32, stateRoot: Digest32) -> Checkpoint {
        Checkpoint(
            origin: origin, size: size, rootHash: logRoot, extensions: [stateKeyword + Base64.encode(stateRoot.bytes)])
    }

    /// The state root a consortium checkpoint carries, or nil if it has no (well-formed) `state` line.
    public static func stateRoot(of checkpoint: Checkpoint) -> Digest32? {
        guard let line = checkpoint.extensions.first(where: { $0.hasPrefix(stateKeyword) }),
            let bytes = Base64.decode(line.dropFirst(stateKeyword.count))
        else { return nil }
        return Digest32(bytes: bytes)
    }
}
