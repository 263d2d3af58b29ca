/// A proposed change of a consortium's membership: add a member, remove one, or only set the
/// threshold; every change states the threshold after it. Its canonical text is what members
/// cosign (a C2SP signed note with `cosignature/v1` lines of the current members' keys):
///
///     agritrace-membership-change/v1
///     consortium <consortium id, 64 hex digits>
///     sequence <the membership's sequence + 1>
///     add <vkey>            (or: remove <name>; or no line: only the threshold changes)
///     threshold <k after the change>
///
/// The consortium id and the sequence make a signed change good for one consortium and one
/// step: it cannot be replayed later or elsewhere. The text never parses as a checkpoint (its
/// second line is not a tree size), so a cosignature of one is never taken for the other.
public struct MembershipChange: Sendable, Hashable {
    /// The first line of a change.
    public static let header = "agritrace-membership-change/v1"

    /// What the change does to the member list.
    public enum Action: Sendable, Hashable {
        case add(NoteVerifierKey)
        case remove(name: String)
        /// The members stay; only the threshold changes.
        case setThreshold
    }

    public let consortium: Digest32
    public let sequence: UInt64
    public let action: Action
    /// The threshold after the change.
    public let threshold: Int

}

// The initializers that make a change live in an extension, so that the struct keeps its
// synthesized memberwise initializer (internal: tests reach it with `@testable import`).
extension MembershipChange {
    /// The next change of `membership`: its id and the following sequence number.
    public init(next membership: ConsortiumMembership, action: Action, threshold: Int) {
        self.init(
            consortium: membership.consortium, sequence: membership.sequence + 1, action: action, threshold: threshold)
    }

    /// The canonical text (what each member cosigns).
    public var text: String {
        var lines = [Self.header, "consortium \(consortium.hex)", "sequence \(sequence)"]
        switch action {
        case .add(let key): lines.append("add \(key.vkey)")
        case .remove(let name): lines.append("remove \(name)")
        case .setThreshold: break
        }
        lines.append("threshold \(threshold)")
        return lines.map { $0 + "\n" }.joined()
    }

    /// Parses a change's text; only the canonical text is accepted.
    /// - Throws: ``ConsortiumError`` naming the line and the fix.
    public init(text: String) throws(ConsortiumError) {
        var lines = try ConsortiumGenesis.lines(of: text, after: Self.header, madeBy: "agritrace consortium propose")
        let idText = try ConsortiumGenesis.value(of: "consortium", in: &lines)
        guard let consortium = Digest32(hex: idText), consortium.hex == idText else {
            throw .field(
                "consortium", "\"\(idText)\" is not 64 lower-case hex digits",
                fix: "give the id `agritrace consortium show` prints")
        }
        let sequence = try ConsortiumGenesis.number(of: "sequence", in: &lines)
        var action = Action.setThreshold
        if lines.count == 2, lines[0].hasPrefix("add ") {
            let vkey = try ConsortiumGenesis.value(of: "add", in: &lines)
            do { action = .add(try NoteVerifierKey(vkey: vkey)) } catch {
                throw .field("add", "\(vkey): \(error)", fix: "give the new member's vkey file")
            }
        } else if lines.count == 2 {
            action = .remove(name: try ConsortiumGenesis.value(of: "remove", in: &lines))
        }
        let threshold = try ConsortiumGenesis.number(of: "threshold", in: &lines)
        guard lines.isEmpty else {
            throw .field("text", "lines after the threshold", fix: "end the change with its threshold line")
        }
        self.init(consortium: consortium, sequence: UInt64(sequence), action: action, threshold: threshold)
    }
}
