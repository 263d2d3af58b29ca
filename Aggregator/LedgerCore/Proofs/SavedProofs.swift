import AgriTraceCore
import Crypto

/// A signed tree head saved to a file (`agritrace proof`, `agritrace status --tree-head`):
/// the canonical signed block header in hex, with its fields repeated for reading.
/// Only `signedHeader` is trusted by the verifier; the other fields are informational.
public struct SavedTreeHead: Codable, Sendable, Equatable {
    public var format = "agritrace-tree-head/v1"
    public var signedHeader: String
    public var height: UInt64
    public var logSize: UInt64
    public var logRoot: String
    public var time: String

    public init(_ header: Signed<BlockHeader>) {
        signedHeader = Canonical.encode(header).hexString
        height = header.value.height
        logSize = header.value.logSize
        logRoot = header.value.logRoot.hex
        time = header.value.time.iso8601
    }

    /// Decodes the signed header and checks its signature under `authority`.
    public func verified(authority: Curve25519.Signing.PublicKey) throws -> Signed<BlockHeader> {
        guard format == "agritrace-tree-head/v1" else { throw ProofCheckError.format(format) }
        guard let bytes = [UInt8](hexString: signedHeader),
            let header = try? Canonical.decode(Signed<BlockHeader>.self, from: bytes)
        else { throw ProofCheckError.malformed("the tree head is not a canonical signed block header") }
        guard header.isValid(domain: .blockHeader, key: authority) else { throw ProofCheckError.treeHeadSignature }
        return header
    }

    /// The first readable field (`height`, `logSize`, `logRoot`, `time`) that disagrees with
    /// the signed header, or `nil` when all agree or the header does not decode (left to
    /// ``verified(authority:)``, which names it). The signature covers only `signedHeader`:
    /// nothing shown may differ from what is signed.
    public func unsignedFieldDisagreement() -> (field: String, shown: String, signed: String)? {
        guard let bytes = [UInt8](hexString: signedHeader),
            let header = try? Canonical.decode(Signed<BlockHeader>.self, from: bytes).value
        else { return nil }
        let pairs: [(String, String, String)] = [
            ("height", String(height), String(header.height)),
            ("logSize", String(logSize), String(header.logSize)),
            ("logRoot", logRoot, header.logRoot.hex),
            ("time", time, header.time.iso8601),
        ]
        return pairs.first { $0.1 != $0.2 }.map { (field: $0.0, shown: $0.1, signed: $0.2) }
    }
}

/// An inclusion proof saved to a file by `agritrace proof`, checked offline by `agritrace verify-proof`.
public struct SavedInclusionProof: Codable, Sendable, Equatable {
    public var format = "agritrace-inclusion-proof/v1"
    public var recordID: String
    public var leafIndex: UInt64
    /// The canonical log entry (hex): what the leaf hash covers.
    public var entry: String
    /// The audit path, leaf to root (hex).
    public var proof: [String]
    /// The signed tree head the proof is against.
    public var treeHead: SavedTreeHead

    public init(recordID: RecordID, leafIndex: UInt64, entry: [UInt8], proof: [Digest32], treeHead: Signed<BlockHeader>)
    {
        self.recordID = recordID.hex
        self.leafIndex = leafIndex
        self.entry = entry.hexString
        self.proof = proof.map(\.hex)
        self.treeHead = SavedTreeHead(treeHead)
    }

    /// The proof of a record's leaf.
    public init(recordID: RecordID, leaf: SavedLeafProof) {
        self.recordID = recordID.hex
        leafIndex = leaf.leafIndex
        entry = leaf.entry
        proof = leaf.proof
        treeHead = leaf.treeHead
    }

    /// Checks the proof offline: the tree head's signature under `authority`, that the
    /// entry is the record named, and the audit path from the entry's leaf hash to the
    /// signed log root at the signed log size. If `trustedTreeHead` is given the proof
    /// must be against exactly that tree head.
    /// - Returns: the record and the verified tree head.
    @discardableResult
    public func verify(authority: Curve25519.Signing.PublicKey, trustedTreeHead: SavedTreeHead? = nil) throws -> (
        Record, BlockHeader
    ) {
        guard format == "agritrace-inclusion-proof/v1" else { throw ProofCheckError.format(format) }
        let header = try treeHead.verified(authority: authority)
        if let trustedTreeHead {
            let trusted = try trustedTreeHead.verified(authority: authority)
            guard trusted == header else {
                throw ProofCheckError.differentTreeHead(
                    proofSize: header.value.logSize, savedSize: trusted.value.logSize)
            }
        }
        guard let id = RecordID(hex: recordID) else {
            throw ProofCheckError.malformed("record id \(recordID) is not 32 hex characters")
        }
        guard let entryBytes = [UInt8](hexString: entry),
            let logEntry = try? Canonical.decode(LogEntry.self, from: entryBytes)
        else {
            throw ProofCheckError.malformed("the entry is not a canonical log entry")
        }
        guard case .record(let record) = logEntry, record.id == id else { throw ProofCheckError.entryMismatch }
        try Self.verifyPath(entry: entryBytes, index: leafIndex, proof: proof, header: header.value)
        return (record, header.value)
    }

    /// Checks the audit path (hex) from the entry's leaf hash to the log root of `header`.
    static func verifyPath(entry: [UInt8], index: UInt64, proof: [String], header: BlockHeader) throws {
        var path: [Digest32] = []
        path.reserveCapacity(proof.count)
        for hex in proof {
            guard let digest = Digest32(hex: hex) else {
                throw ProofCheckError.malformed("proof hash \(hex) is not 64 hex characters")
            }
            path.append(digest)
        }
        do {
            try MerkleTree.verifyInclusion(
                leafHash: MerkleTree.leafHash(entry), index: index, treeSize: header.logSize, proof: path,
                root: header.logRoot)
        } catch let error as MerkleTree.ProofError {
            throw ProofCheckError.path(error)
        }
    }
}

/// Any log leaf with its canonical entry and its inclusion proof against a signed tree head
/// (`GET /v1/leaves/{leaf}/entry`): what a remote party (the owner's `transfer serve --api`)
/// takes a transaction from, so the API serving it need not be trusted for integrity.
public struct SavedLeafProof: Codable, Sendable, Equatable {
    public var format = "agritrace-leaf-proof/v1"
    public var leafIndex: UInt64
    /// The canonical log entry (hex): what the leaf hash covers.
    public var entry: String
    /// The audit path, leaf to root (hex).
    public var proof: [String]
    /// The signed tree head the proof is against.
    public var treeHead: SavedTreeHead

    public init(leafIndex: UInt64, entry: [UInt8], proof: [Digest32], treeHead: Signed<BlockHeader>) {
        self.leafIndex = leafIndex
        self.entry = entry.hexString
        self.proof = proof.map(\.hex)
        self.treeHead = SavedTreeHead(treeHead)
    }

    /// Checks the tree head's signature under `authority` and the audit path from the entry's
    /// leaf hash to the signed log root; returns the entry.
    public func verify(authority: Curve25519.Signing.PublicKey) throws -> LogEntry {
        guard format == "agritrace-leaf-proof/v1" else { throw ProofCheckError.format(format) }
        let header = try treeHead.verified(authority: authority)
        guard let entryBytes = [UInt8](hexString: entry),
            let logEntry = try? Canonical.decode(LogEntry.self, from: entryBytes)
        else { throw ProofCheckError.malformed("the entry is not a canonical log entry") }
        try SavedInclusionProof.verifyPath(entry: entryBytes, index: leafIndex, proof: proof, header: header.value)
        return logEntry
    }
}

/// Why a saved proof was refused.
public enum ProofCheckError: Error, Equatable, CustomStringConvertible {
    case format(String)
    case malformed(String)
    case treeHeadSignature
    case differentTreeHead(proofSize: UInt64, savedSize: UInt64)
    case entryMismatch
    case path(MerkleTree.ProofError)
    case consistency(MerkleTree.ProofError)

    public var description: String {
        switch self {
        case .format(let f): "unknown format \(f)"
        case .malformed(let why): "malformed: \(why)"
        case .treeHeadSignature: "the tree head is not signed by the authority key"
        case .differentTreeHead(let p, let s):
            "the proof is against tree size \(p) but the saved tree head has size \(s): ask for `agritrace proof <id> --tree-size \(s)`"
        case .entryMismatch: "the entry is not the record the proof names"
        case .path(let error): "the inclusion proof fails: \(error)"
        case .consistency(let error): "the consistency proof fails: \(error)"
        }
    }
}

/// A consistency proof between two log sizes (RFC 9162 §2.1.4).
public struct ConsistencyAnswer: Codable, Sendable {
    public var oldSize: UInt64
    public var newSize: UInt64
    public var oldRoot: String
    public var newRoot: String
    public var proof: [String]
    /// Whether the proof was checked against the roots (always true when produced by the CLI).
    public var verified: Bool

    public init(oldSize: UInt64, newSize: UInt64, oldRoot: String, newRoot: String, proof: [String], verified: Bool) {
        self.oldSize = oldSize
        self.newSize = newSize
        self.oldRoot = oldRoot
        self.newRoot = newRoot
        self.proof = proof
        self.verified = verified
    }
}
