/// Who cosigns a consortium's checkpoints now: the members' verifier keys (sorted by name), the
/// threshold k, and how many membership changes made it from the genesis (`sequence`). Changed
/// only by ``MembershipContract/apply(_:to:)``.
///
/// The invariants, checked by the genesis and by every change: at least one member; names and
/// public keys distinct; every key a cosignature key (C2SP `cosignature/v1`); and a **majority**
/// threshold, n/2 < k ≤ n, so any two sets of k members share one: two conflicting checkpoints
/// cannot both be final unless a member signed both.
public struct ConsortiumMembership: Sendable, Hashable {
    /// The consortium id (SHA-256 of the genesis text).
    public let consortium: Digest32
    /// The checkpoints' origin line.
    public let origin: String
    /// The members, sorted by name.
    public let members: [NoteVerifierKey]
    /// Cosignatures a checkpoint (or a membership change) needs.
    public let threshold: Int
    /// The number of membership changes applied since the genesis.
    public let sequence: UInt64

    init(consortium: Digest32, origin: String, members: [NoteVerifierKey], threshold: Int, sequence: UInt64) {
        self.consortium = consortium
        self.origin = origin
        self.members = members
        self.threshold = threshold
        self.sequence = sequence
    }

    /// The member named `name`, if any.
    public func member(named name: String) -> NoteVerifierKey? { members.first { $0.name == name } }

    /// A verifier that takes a checkpoint of this consortium only with `threshold` of `members`.
    public var checkpointVerifier: CheckpointVerifier {
        // The invariants hold (checked on every change), so the verifier's checks pass.
        try! CheckpointVerifier(origin: origin, members: members, threshold: threshold)
    }

    /// The membership after a change: `members` (sorted here) and `threshold`, one sequence later.
    func changed(members: [NoteVerifierKey], threshold: Int) -> ConsortiumMembership {
        ConsortiumMembership(
            consortium: consortium, origin: origin,
            members: members.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }, threshold: threshold,
            sequence: sequence + 1)
    }

    /// The smallest majority threshold of `count` members.
    public static func majority(of count: Int) -> Int { count / 2 + 1 }

    /// Checks the invariants of a membership.
    /// - Throws: ``ConsortiumError`` naming the field and the fix.
    public static func validate(members: [NoteVerifierKey], threshold: Int) throws(ConsortiumError) {
        guard !members.isEmpty else {
            throw .field("members", "a consortium needs at least one member", fix: "name each member's vkey file")
        }
        var names: Set<String> = []
        var keys: Set<[UInt8]> = []
        for member in members {
            guard member.type == .cosignature else {
                throw .field(
                    "member", "\(member.name)'s key is not a cosignature key (type 0x04)",
                    fix: "use the vkey `agritrace node keygen` wrote")
            }
            guard names.insert(member.name).inserted else {
                throw .field("member", "\(member.name) is listed twice", fix: "give each member one verifier key")
            }
            guard keys.insert(member.publicKey).inserted else {
                throw .field(
                    "member", "\(member.name)'s public key is another member's too", fix: "give each node its own key")
            }
        }
        guard threshold >= majority(of: members.count), threshold <= members.count else {
            throw .field(
                "threshold", "k = \(threshold) of n = \(members.count) is not a majority (n/2 < k ≤ n)",
                fix: "set k to \(majority(of: members.count))...\(members.count)")
        }
    }
}
