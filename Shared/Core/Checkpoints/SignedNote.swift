/// A note (C2SP `signed-note`): text ending in a newline, a blank line, then signature lines
/// `— <key name> base64(key id || signature)`. The text means nothing until a trusted key's
/// signature over it has verified (``CheckpointVerifier``).
public struct SignedNote: Sendable, Hashable {
    /// One signature line.
    public struct Signature: Sendable, Hashable {
        public var name: String
        /// The signer's key id (``NoteVerifierKey/keyID``).
        public var keyID: UInt32
        /// The signature bytes after the key id (for a cosignature, the timestamp and the signature).
        public var signature: [UInt8]

        /// A key id as its four big-endian bytes.
        static func keyIDBytes(_ keyID: UInt32) -> [UInt8] {
            var writer = CanonicalWriter(capacity: 4)
            writer.write(keyID)
            return writer.bytes
        }

        /// The line as written in the note, newline included.
        public var line: String {
            "\u{2014} \(name) \(Base64.encode(Self.keyIDBytes(keyID) + signature))\n"
        }
    }

    /// Why a note is refused.
    public enum Error: Swift.Error, Hashable, Sendable, CustomStringConvertible {
        case malformed(String)

        public var description: String {
            switch self {
            case .malformed(let reason): "the signed note is malformed: \(reason)"
            }
        }
    }

    /// Signature lines read at the most (the spec asks for at least 16).
    public static let maximumSignatures = 100

    /// The note text, final newline included.
    public var text: String
    public var signatures: [Signature]

    public init(text: String, signatures: [Signature]) {
        self.text = text
        self.signatures = signatures
    }

    /// Parses a signed note: UTF-8, no control characters but newlines, the text separated from
    /// at least one signature line by the note's last blank line.
    public init(parsing note: String) throws(Error) {
        guard note.hasSuffix("\n") else { throw .malformed("it does not end in a newline") }
        if note.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" }) {
            throw .malformed("it holds a control character")
        }
        let bytes = Array(note.utf8)
        guard let split = Self.lastBlankLine(bytes) else { throw .malformed("no blank line before the signatures") }
        text = String(decoding: bytes[..<(split + 1)], as: UTF8.self)
        let lines = bytes[(split + 2)...].split(separator: 0x0A)
        guard !lines.isEmpty else { throw .malformed("no signature line") }
        guard lines.count <= Self.maximumSignatures else {
            throw .malformed("more than \(Self.maximumSignatures) signature lines")
        }
        signatures = []
        for line in lines { signatures.append(try Self.signature(String(decoding: line, as: UTF8.self))) }
    }

    /// The note as text: the text, a blank line, the signature lines.
    public var formatted: String { text + "\n" + signatures.map(\.line).joined() }

    /// The index of the newline that ends the text (the one before the last blank line).
    static func lastBlankLine(_ bytes: [UInt8]) -> Int? {
        var index = bytes.count - 2
        while index >= 1 {
            if bytes[index] == 0x0A, bytes[index - 1] == 0x0A { return index - 1 }
            index -= 1
        }
        return nil
    }

    static func signature(_ line: String) throws(Error) -> Signature {
        guard line.hasPrefix("\u{2014} ") else {
            throw .malformed("signature line \"\(line)\" does not start with an em dash")
        }
        let parts = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, NoteVerifierKey.isValidName(String(parts[0])) else {
            throw .malformed("signature line \"\(line)\" is not \u{2014} <name> <signature>")
        }
        guard let bytes = Base64.decode(parts[1]), bytes.count > 4 else {
            throw .malformed("the signature of \(parts[0]) is not base64 of a key id and a signature")
        }
        let keyID = bytes.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
        return Signature(name: String(parts[0]), keyID: keyID, signature: Array(bytes[4...]))
    }
}
