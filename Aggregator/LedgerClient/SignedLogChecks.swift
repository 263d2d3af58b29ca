import AgriTraceCore
import Crypto
import LedgerCore

// What the CLI checks of a log's answers before it believes them, whether they came from a
// server's API or from a store: the readable fields of a tree head against its signed header,
// its signature under the authority key, and a consistency proof between two signed roots.
// Nothing here needs the server: the proofs are verified with the one Merkle-log implementation.

extension SavedTreeHead {
    /// Refuses a saved tree head whose readable fields (`height`, `logSize`, `logRoot`,
    /// `time`) disagree with its signed header: the signature covers only `signedHeader`, and
    /// nothing shown may differ from what is signed. A header that does not decode is left to
    /// the signature check, which names it.
    /// - Parameters:
    ///   - name: how the tree head is named in the error (`treeHead` in a proof file).
    ///   - verdict: the error's first words (`INVALID proof`).
    public func checkReadableFields(named name: String, in verdict: String) throws {
        if let mismatch = unsignedFieldDisagreement() {
            throw UserError(
                "\(verdict): \(name).\(mismatch.field) says \(mismatch.shown) but the signed tree head says \(mismatch.signed); the file was changed after signing: fetch it again and trust only signed values"
            )
        }
    }

    /// The signed header once the readable fields agree with it and it is signed by `key`.
    public func verifiedHeader(key: Curve25519.Signing.PublicKey) throws -> BlockHeader {
        try verifiedHead(key: key).value
    }

    /// The signed header and its signature once the readable fields agree with it and it is signed by `key`.
    public func verifiedHead(key: Curve25519.Signing.PublicKey) throws -> Signed<BlockHeader> {
        try checkReadableFields(named: "the tree head of log size \(logSize)", in: "INVALID tree head")
        do {
            return try verified(authority: key)
        } catch {
            throw UserError(
                "the tree head of log size \(logSize) is not signed by the authority key (\(error)): nothing is consistent"
            )
        }
    }

    /// The tree head of log size `size` from the API at `api`, checked under `key`.
    public static func fetchVerified(from api: String, size: UInt64, key: Curve25519.Signing.PublicKey) async throws
        -> Signed<BlockHeader>
    {
        let head: SavedTreeHead = try await APIClient.get(api, "/v1/tree-head", query: ["tree-size": String(size)])
        return try head.verifiedHead(key: key)
    }
}

extension ConsistencyAnswer {
    /// Checks the answer to a consistency request for sizes `old` and `new` (nil: the latest):
    /// the sizes asked for, the roots the answer gives and the signed roots must agree, and
    /// the proof must link the two signed roots.
    public func check(old: UInt64, new: UInt64?, against heads: (old: BlockHeader, new: BlockHeader)) throws {
        guard oldSize == old, new.map({ $0 == newSize }) ?? true else {
            throw UserError("the answer is about sizes \(oldSize) and \(newSize), not the ones asked for")
        }
        for (size, root, head) in [(oldSize, oldRoot, heads.old), (newSize, newRoot, heads.new)] {
            guard head.logSize == size, head.logRoot.hex == root else {
                throw UserError(
                    "the root given for log size \(size) (\(root)) is not signed by the authority: the signed tree head of block \(head.height) has size \(head.logSize) and root \(head.logRoot.hex)"
                )
            }
        }
        let hashes = proof.compactMap(Digest32.init(hex:))
        guard hashes.count == proof.count else { throw UserError("the answer holds malformed hashes") }
        do {
            try MerkleTree.verifyConsistency(
                oldSize: oldSize, newSize: newSize, oldRoot: heads.old.logRoot, newRoot: heads.new.logRoot,
                proof: hashes)
        } catch {
            throw UserError("INVALID consistency proof between the signed tree heads: \(error)")
        }
    }
}
