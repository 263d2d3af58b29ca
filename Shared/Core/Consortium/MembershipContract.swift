/// The membership contract: a signed ``MembershipChange`` applied to the current
/// ``ConsortiumMembership``. Pure: every node, every verifier and `replay` get the same answer.
public enum MembershipContract {
    /// Why a change is refused, in the order the contract checks.
    public enum Refusal: Sendable, Hashable, CustomStringConvertible {
        /// The note's text is not a membership change.
        case malformed(String)
        /// The change names another consortium.
        case otherConsortium(Digest32)
        /// The change's sequence is not the membership's next one (replayed, or out of order).
        case staleSequence(expected: UInt64, got: UInt64)
        /// A signature line names no current member (by name and key id).
        case nonMemberSigner(String)
        /// A member signed twice.
        case duplicateSigner(String)
        /// A member's signature does not verify over the change.
        case invalidSignature(String)
        /// Fewer current members signed than the current threshold.
        case notEnoughSignatures(signed: Int, threshold: Int)
        /// The added member's name is a member's already.
        case alreadyMember(String)
        /// The added key is not a cosignature key, or a member holds it already.
        case unusableKey(String)
        /// The removed name is no member.
        case notMember(String)
        /// The threshold after the change is not a majority of the members after it.
        case thresholdNotMajority(threshold: Int, members: Int)

        public var description: String {
            switch self {
            case .malformed(let reason): "the change is malformed: \(reason)"
            case .otherConsortium(let id): "the change is for consortium \(id.hex), not this one"
            case .staleSequence(let expected, let got):
                "the change has sequence \(got), the membership's next is \(expected); fix: propose it again against the current membership"
            case .nonMemberSigner(let name):
                "\(name) signed the change but is not a current member (or signed with another key)"
            case .duplicateSigner(let name): "\(name) signed the change twice"
            case .invalidSignature(let name): "the signature of \(name) does not verify over the change"
            case .notEnoughSignatures(let signed, let threshold):
                "\(signed) current member(s) signed the change, it needs \(threshold); fix: collect more members' signatures"
            case .alreadyMember(let name): "\(name) is a member already"
            case .unusableKey(let name):
                "the key added for \(name) is not a cosignature key or is a member's key already"
            case .notMember(let name): "\(name) is not a member"
            case .thresholdNotMajority(let threshold, let members):
                "k = \(threshold) of n = \(members) after the change is not a majority (n/2 < k ≤ n); fix: set k to \(ConsortiumMembership.majority(of: members))...\(members)"
            }
        }
    }

    /// What applying a change gives: the new membership, or the refusal.
    public enum Outcome: Sendable, Hashable {
        case applied(ConsortiumMembership)
        case refused(Refusal)
    }

    /// Applies the signed change `note` to `membership`.
    public static func apply(_ note: SignedNote, to membership: ConsortiumMembership) -> Outcome {
        let change: MembershipChange
        do { change = try MembershipChange(text: note.text) } catch { return .refused(.malformed(error.description)) }
        guard change.consortium == membership.consortium else { return .refused(.otherConsortium(change.consortium)) }
        guard change.sequence == membership.sequence + 1 else {
            return .refused(.staleSequence(expected: membership.sequence + 1, got: change.sequence))
        }
        if let refusal = checkSignatures(note, by: membership) { return .refused(refusal) }
        return result(of: change, on: membership)
    }

    /// The first refusal the signature lines earn, or nil when at least `threshold` distinct
    /// current members signed and every line verifies.
    static func checkSignatures(_ note: SignedNote, by membership: ConsortiumMembership) -> Refusal? {
        var signers: Set<String> = []
        for signature in note.signatures {
            guard let member = membership.member(named: signature.name), member.keyID == signature.keyID else {
                return .nonMemberSigner(signature.name)
            }
            guard signers.insert(member.name).inserted else { return .duplicateSigner(member.name) }
            guard CheckpointVerifier.verifies(signature, by: member, text: note.text) else {
                return .invalidSignature(member.name)
            }
        }
        guard signers.count >= membership.threshold else {
            return .notEnoughSignatures(signed: signers.count, threshold: membership.threshold)
        }
        return nil
    }

    /// The membership after `change`, or why the members after it would break an invariant.
    static func result(of change: MembershipChange, on membership: ConsortiumMembership) -> Outcome {
        var members = membership.members
        switch change.action {
        case .add(let key):
            guard membership.member(named: key.name) == nil else { return .refused(.alreadyMember(key.name)) }
            guard key.type == .cosignature, !members.contains(where: { $0.publicKey == key.publicKey }) else {
                return .refused(.unusableKey(key.name))
            }
            members.append(key)
        case .remove(let name):
            guard membership.member(named: name) != nil else { return .refused(.notMember(name)) }
            members.removeAll { $0.name == name }
        case .setThreshold:
            break
        }
        guard !members.isEmpty, change.threshold >= ConsortiumMembership.majority(of: members.count),
            change.threshold <= members.count
        else { return .refused(.thresholdNotMajority(threshold: change.threshold, members: members.count)) }
        return .applied(membership.changed(members: members, threshold: change.threshold))
    }
}
