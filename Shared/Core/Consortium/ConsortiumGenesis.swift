/// The genesis file of a consortium (issue #16): the log's origin (the first line of every
/// checkpoint), the time it was made, the cosigning threshold k and the n members' verifier keys
/// (C2SP `vkey`, cosignature type). Its text is canonical, so its SHA-256 is the consortium id:
///
///     agritrace-consortium/v1
///     origin agritrace.example/consortium
///     time 1796677200
///     threshold 2
///     member operator.agritrace.example+1a2b3c4d+BA…
///     member regulator.agritrace.example+5e6f7081+BA…
///
/// Lines in this order, each ending in a newline; members sorted by name (byte order), at least one.
public struct ConsortiumGenesis: Sendable, Hashable {
    /// The first line of a genesis file.
    public static let header = "agritrace-consortium/v1"

    /// The origin line of the consortium's checkpoints.
    public let origin: String
    /// When the consortium was founded, seconds since the epoch.
    public let time: UInt64
    /// The founding members and threshold.
    public let membership: ConsortiumMembership
    /// The canonical text (what the id hashes).
    public let text: String

    /// The consortium id: SHA-256 of the genesis text.
    public var id: Digest32 { membership.consortium }

    /// A genesis of `members` (any order: they are sorted by name) needing `threshold` cosignatures.
    /// - Throws: ``ConsortiumError`` naming the field and the fix.
    public init(origin: String, time: UInt64, threshold: Int, members: [NoteVerifierKey]) throws(ConsortiumError) {
        guard Checkpoint.isValidOrigin(origin), origin != Self.header, origin != MembershipChange.header else {
            throw .field(
                "origin", "\"\(origin)\" is empty, holds a control character or is a reserved header line",
                fix: "give the log's name, like agritrace.example/consortium")
        }
        let sorted = members.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        try ConsortiumMembership.validate(members: sorted, threshold: threshold)
        self.origin = origin
        self.time = time
        text = Self.render(origin: origin, time: time, threshold: threshold, members: sorted)
        membership = ConsortiumMembership(
            consortium: Digest32.sha256(Array(text.utf8)), origin: origin, members: sorted, threshold: threshold,
            sequence: 0)
    }

    /// Parses a genesis file; only its canonical text is accepted.
    /// - Throws: ``ConsortiumError`` naming the line and the fix.
    public init(text: String) throws(ConsortiumError) {
        var lines = try Self.lines(of: text, after: Self.header, madeBy: "agritrace consortium genesis")
        let origin = try Self.value(of: "origin", in: &lines)
        let timeText = try Self.value(of: "time", in: &lines)
        guard let time = UInt64(timeText), String(time) == timeText else {
            throw .field(
                "time", "\"\(timeText)\" is not a decimal number of seconds", fix: "write seconds since the epoch")
        }
        let threshold = try Self.number(of: "threshold", in: &lines)
        var members: [NoteVerifierKey] = []
        while !lines.isEmpty {
            let vkey = try Self.value(of: "member", in: &lines)
            do { members.append(try NoteVerifierKey(vkey: vkey)) } catch {
                throw .field("member", "\(vkey): \(error)", fix: "give the vkey `agritrace node keygen` wrote")
            }
        }
        try self.init(origin: origin, time: time, threshold: threshold, members: members)
        guard self.text == text else {
            throw .field(
                "members", "the members are not sorted by name",
                fix: "rewrite the file with `agritrace consortium genesis`")
        }
    }

    static func render(origin: String, time: UInt64, threshold: Int, members: [NoteVerifierKey]) -> String {
        ([header, "origin \(origin)", "time \(time)", "threshold \(threshold)"] + members.map { "member \($0.vkey)" })
            .map { $0 + "\n" }.joined()
    }

    /// The lines of `text` after its first, which must be `header`; `text` must end in a
    /// newline and hold no empty line. The error names the command `madeBy` that writes such text.
    static func lines(of text: String, after header: String, madeBy: String) throws(ConsortiumError) -> [String] {
        var lines = try lines(of: text)
        guard lines.first == header else {
            throw .field("header", "the first line is not \(header)", fix: "make the file with `\(madeBy)`")
        }
        lines.removeFirst()
        return lines
    }

    /// The lines of `text`, which must end in a newline and hold no empty line.
    static func lines(of text: String) throws(ConsortiumError) -> [String] {
        guard text.hasSuffix("\n") else {
            throw .field(
                "text", "it does not end in a newline", fix: "end every line, the last one too, with a newline")
        }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.allSatisfy({ !$0.isEmpty }) else {
            throw .field("text", "it holds an empty line", fix: "remove the empty line")
        }
        return lines
    }

    /// The value of the next line, which must be `<key> <value>`.
    static func value(of key: String, in lines: inout [String]) throws(ConsortiumError) -> String {
        guard let line = lines.first, line.hasPrefix(key + " "), line.count > key.count + 1 else {
            throw .field(
                key, "line \"\(lines.first ?? "")\" is not `\(key) <value>`",
                fix: "write the \(key) line where the format puts it")
        }
        lines.removeFirst()
        return String(line.dropFirst(key.count + 1))
    }

    /// The decimal value of the next line `<key> <number>`.
    static func number(of key: String, in lines: inout [String]) throws(ConsortiumError) -> Int {
        let text = try value(of: key, in: &lines)
        guard let number = Int(text), number >= 0, String(number) == text else {
            throw .field(
                key, "\"\(text)\" is not a decimal number", fix: "write a number without sign or leading zeros")
        }
        return number
    }
}

/// Why a genesis file or a membership cannot be made: the field, what is wrong and the fix.
public enum ConsortiumError: Swift.Error, Hashable, Sendable, CustomStringConvertible {
    case field(String, String, fix: String)

    public var description: String {
        switch self {
        case .field(let field, let problem, let fix): "\(field): \(problem); fix: \(fix)"
        }
    }
}
