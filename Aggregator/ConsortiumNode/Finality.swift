import AgriTraceCore

/// What the nodes' checkpoint notes for one height say (docs/consortium.md, "Finality"):
/// the notes are grouped by checkpoint text, and a text whose member cosignatures verify k of
/// n is final. Pure: the notes as read from etcd and the consortium's verifier.
public struct Finality: Sendable {
    /// The final checkpoint as a signed note with every valid member cosignature found, or nil.
    public var finalNote: SignedNote?
    /// The members that published a checkpoint for the height other than the final one.
    public var dissenters: [String]

    /// Decides from the notes (`name`: the node whose key holds it, `note`: its text).
    public init(notes: [(node: String, note: String)], verifier: CheckpointVerifier) {
        var byText: [String: [SignedNote.Signature]] = [:]
        var authors: [String: [String]] = [:]
        for (node, text) in notes {
            guard let note = try? SignedNote(parsing: text) else { continue }
            // Only the author's own cosignature, and only if it verifies: a forged line in one
            // note cannot spoil the others'.
            let own = note.signatures.filter { $0.name == node && Self.verifies($0, text: note.text, verifier) }
            byText[note.text, default: []] += own
            authors[note.text, default: []].append(node)
        }
        finalNote = nil
        dissenters = []
        for (text, signatures) in byText.sorted(by: { $0.key < $1.key }) {
            let note = SignedNote(text: text, signatures: signatures)
            if (try? verifier.verify(note)) != nil {
                finalNote = note
                dissenters = authors.filter { $0.key != text }.flatMap(\.value).sorted()
                return
            }
        }
    }

    /// Whether `signature` is a member's valid cosignature over `text`.
    static func verifies(_ signature: SignedNote.Signature, text: String, _ verifier: CheckpointVerifier) -> Bool {
        guard let member = verifier.members.first(where: { $0.name == signature.name }),
            let single = try? CheckpointVerifier(origin: verifier.origin, members: [member], threshold: 1)
        else { return false }
        return (try? single.verify(SignedNote(text: text, signatures: [signature]))) != nil
    }
}
