/// A transparency-log checkpoint (C2SP `tlog-checkpoint`): the note text `<origin>\n<tree
/// size>\n<base64 root hash>\n` and optional extension lines.
public struct Checkpoint: Sendable, Hashable {
    /// Why a checkpoint is refused.
    public enum Error: Swift.Error, Hashable, Sendable, CustomStringConvertible {
        case malformed(String)
        /// Fewer than the threshold of members' cosignatures verified.
        case notFinal(verified: [String], threshold: Int)
        /// A member's signature line did not verify: the whole note is refused.
        case invalidSignature(String)

        public var description: String {
            switch self {
            case .malformed(let reason): "the checkpoint is malformed: \(reason)"
            case .notFinal(let verified, let threshold):
                "the checkpoint has \(verified.count) valid member cosignature(s) (\(verified.joined(separator: ", "))), it needs \(threshold)"
            case .invalidSignature(let name):
                "the signature of \(name) does not verify: the checkpoint was altered or is not theirs"
            }
        }
    }

    /// The log's identity, e.g. `agritrace.example/consortium`.
    public var origin: String
    /// The number of leaves.
    public var size: UInt64
    /// The RFC 6962/9162 root hash at `size`.
    public var rootHash: Digest32
    /// Opaque non-empty lines after the root hash.
    public var extensions: [String]

    public init(origin: String, size: UInt64, rootHash: Digest32, extensions: [String] = []) {
        self.origin = origin
        self.size = size
        self.rootHash = rootHash
        self.extensions = extensions
    }

    /// Whether `origin` can be a checkpoint's first line: non-empty, no control character.
    public static func isValidOrigin(_ origin: String) -> Bool {
        !origin.isEmpty && !origin.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }

    /// The note text.
    public var text: String {
        ([origin, String(size), Base64.encode(rootHash.bytes)] + extensions).map { $0 + "\n" }.joined()
    }

    /// Parses a checkpoint's note text.
    public init(text: String) throws(Error) {
        guard text.hasSuffix("\n") else { throw .malformed("the text does not end in a newline") }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 3, lines.allSatisfy({ !$0.isEmpty }) else {
            throw .malformed("it needs an origin, a tree size and a root hash, each on its own non-empty line")
        }
        guard let size = UInt64(lines[1]), lines[1] == String(size) else {
            throw .malformed("tree size \"\(lines[1])\" is not a decimal number without leading zeros")
        }
        guard let root = Base64.decode(lines[2]), let rootHash = Digest32(bytes: root) else {
            throw .malformed("root hash \"\(lines[2])\" is not base64 of 32 bytes")
        }
        self.init(origin: lines[0], size: size, rootHash: rootHash, extensions: Array(lines[3...]))
    }
}

/// Accepts a checkpoint only with cosignatures of at least `threshold` distinct members
/// (k of n): signatures of unknown keys are ignored (a key is known by name and key id both),
/// and a member's signature that does not verify refuses the whole note (C2SP signed-note).
public struct CheckpointVerifier: Sendable {
    public let origin: String
    public let members: [NoteVerifierKey]
    public let threshold: Int

    /// Why a consortium (from a genesis file or flags) cannot verify anything.
    public enum ConfigurationError: Swift.Error, Hashable, Sendable, CustomStringConvertible {
        case threshold(Int, members: Int)
        case duplicateMember(String)

        public var description: String {
            switch self {
            case .threshold(let threshold, let members):
                "threshold \(threshold) is not between 1 and the \(members) member(s); fix: set k to 1...\(members)"
            case .duplicateMember(let name):
                "member \(name) is listed twice; fix: give each member one verifier key"
            }
        }
    }

    /// A verifier for `origin` that needs `threshold` of `members`.
    /// - Throws: ``ConfigurationError`` when `threshold` is not 1 to the number of members or a
    ///   member name appears twice (configuration input, refused with the fix).
    public init(origin: String, members: [NoteVerifierKey], threshold: Int) throws(ConfigurationError) {
        guard threshold >= 1 && threshold <= members.count else {
            throw .threshold(threshold, members: members.count)
        }
        var names: Set<String> = []
        for member in members where !names.insert(member.name).inserted { throw .duplicateMember(member.name) }
        self.origin = origin
        self.members = members
        self.threshold = threshold
    }

    /// The checkpoint of `note` and the names of the members whose signatures verified.
    public func verify(_ note: SignedNote) throws(Checkpoint.Error) -> (checkpoint: Checkpoint, cosigners: [String]) {
        let checkpoint = try Checkpoint(text: note.text)
        guard checkpoint.origin == origin else {
            throw .malformed("origin \"\(checkpoint.origin)\" is not this log's (\(origin))")
        }
        var verified: [String] = []
        for signature in note.signatures {
            guard let member = members.first(where: { $0.name == signature.name && $0.keyID == signature.keyID })
            else { continue }
            guard Self.verifies(signature, by: member, text: note.text) else { throw .invalidSignature(member.name) }
            if !verified.contains(member.name) { verified.append(member.name) }
        }
        guard verified.count >= threshold else { throw .notFinal(verified: verified, threshold: threshold) }
        return (checkpoint, verified)
    }

    static func verifies(_ signature: SignedNote.Signature, by key: NoteVerifierKey, text: String) -> Bool {
        switch key.type {
        case .ed25519:
            return signature.signature.count == 64 && key.verifies(signature.signature[...], over: Array(text.utf8))
        case .cosignature:
            guard let time = Cosignature.time(of: signature) else { return false }
            return key.verifies(signature.signature[8...], over: Cosignature.message(text, time: time))
        }
    }
}
