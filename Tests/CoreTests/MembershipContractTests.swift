import Crypto
import PropertyBased
import Testing

@testable import AgriTraceCore

/// The membership contract: changes signed by k current members, against a reference model.
@Suite struct MembershipContractTests {
    static let pool = try! ConsortiumGenesisTests.nodes(6)

    static func genesis(members: Int = 3, threshold: Int = 2) throws -> ConsortiumGenesis {
        try ConsortiumGenesis(
            origin: ConsortiumGenesisTests.origin, time: 1_796_677_200, threshold: threshold,
            members: pool.prefix(members).map(\.verifierKey))
    }

    static func signed(_ change: MembershipChange, by signers: [NoteSigner]) throws -> SignedNote {
        SignedNote(text: change.text, signatures: try signers.map { try $0.sign(change.text, time: 7) })
    }

    @Test func aChangeSignedByKMembersAppliesOnceAndOnlyToItsConsortium() throws {
        let genesis = try Self.genesis()
        let add = MembershipChange(next: genesis.membership, action: .add(Self.pool[3].verifierKey), threshold: 3)
        #expect(try MembershipChange(text: add.text) == add)
        let note = try Self.signed(add, by: [Self.pool[0], Self.pool[2]])
        guard
            case .applied(let four) = MembershipContract.apply(
                try SignedNote(parsing: note.formatted), to: genesis.membership)
        else { Issue.record("refused"); return }
        #expect(four.members.map(\.name) == Self.pool.prefix(4).map(\.verifierKey.name))
        #expect(four.threshold == 3 && four.sequence == 1 && four.consortium == genesis.id)
        // Replayed on the new membership: stale.
        #expect(MembershipContract.apply(note, to: four) == .refused(.staleSequence(expected: 2, got: 1)))
        // On another consortium with the same members: another id.
        let other = try ConsortiumGenesis(
            origin: "other.example/log", time: 1, threshold: 2, members: Self.pool.prefix(3).map(\.verifierKey))
        #expect(MembershipContract.apply(note, to: other.membership) == .refused(.otherConsortium(genesis.id)))
        // k-1 signatures, a non-member's, a member twice, a forged one.
        #expect(
            MembershipContract.apply(try Self.signed(add, by: [Self.pool[1]]), to: genesis.membership)
                == .refused(.notEnoughSignatures(signed: 1, threshold: 2)))
        #expect(
            MembershipContract.apply(try Self.signed(add, by: [Self.pool[0], Self.pool[4]]), to: genesis.membership)
                == .refused(.nonMemberSigner(Self.pool[4].verifierKey.name)))
        #expect(
            MembershipContract.apply(try Self.signed(add, by: [Self.pool[0], Self.pool[0]]), to: genesis.membership)
                == .refused(.duplicateSigner(Self.pool[0].verifierKey.name)))
        var forged = note
        forged.signatures[1].signature[20] ^= 1
        #expect(
            MembershipContract.apply(forged, to: genesis.membership)
                == .refused(.invalidSignature(Self.pool[2].verifierKey.name)))
        // A checkpoint cosigned by every member is no membership change.
        let checkpoint = Checkpoint(origin: ConsortiumGenesisTests.origin, size: 1, rootHash: .zero).text
        let cosigned = SignedNote(text: checkpoint, signatures: try Self.pool.prefix(3).map { try $0.sign(checkpoint) })
        #expect(MembershipContract.apply(cosigned, to: genesis.membership).refusal?.kind == "malformed")
        // Removing a member of 3 at k = 3 would leave k > n.
        let strict = try Self.genesis(threshold: 3)
        let remove = MembershipChange(
            next: strict.membership, action: .remove(name: Self.pool[1].verifierKey.name), threshold: 3)
        #expect(
            MembershipContract.apply(try Self.signed(remove, by: Array(Self.pool.prefix(3))), to: strict.membership)
                == .refused(.thresholdNotMajority(threshold: 3, members: 2)))
    }

    /// Random sequences of valid and invalid changes: the contract's decisions and memberships
    /// equal the reference model's.
    @Test func randomChangesDecideAsTheReferenceModel() async throws {
        await propertyCheck(count: 60, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            _ = Self.compareWithModel(seed: UInt64(seed))
        }
    }

    /// The random sequences reach every decision: applied changes and each kind of refusal.
    @Test func theRandomChangesCoverEveryDecision() {
        var decisions: [String: Int] = [:]
        for seed in 0..<40 {
            for decision in Self.compareWithModel(seed: UInt64(seed)) { decisions[decision, default: 0] += 1 }
        }
        let kinds = [
            "applied", "otherConsortium", "staleSequence", "nonMemberSigner", "duplicateSigner", "invalidSignature",
            "notEnoughSignatures", "alreadyMember", "unusableKey", "notMember", "thresholdNotMajority",
        ]
        for kind in kinds { #expect(decisions[kind, default: 0] > 0, "no \(kind) in \(decisions)") }
    }

    /// Folds 25 random changes through the contract and the model from one genesis, expecting
    /// the same decision and membership at each step; the decisions, named.
    static func compareWithModel(seed: UInt64) -> [String] {
        var random = SeededGenerator(seed: seed)
        let genesis = try! Self.genesis()
        var membership = genesis.membership
        var model = ReferenceMembership(genesis.membership)
        var decisions: [String] = []
        for _ in 0..<25 {
            let (note, step) = Self.randomChange(of: membership, random: &random)
            let expected = model.apply(step)
            let outcome = MembershipContract.apply(note, to: membership)
            #expect(outcome.refusal == expected, "seed \(seed)")
            if case .applied(let next) = outcome { membership = next }
            #expect(model.matches(membership), "seed \(seed)")
            decisions.append(outcome.refusal.map(\.kind) ?? "applied")
        }
        return decisions
    }

    /// A change of `membership`, mostly well-formed and signed by members, sometimes not.
    static func randomChange(
        of membership: ConsortiumMembership, random: inout SeededGenerator
    ) -> (SignedNote, ReferenceMembership.Step) {
        let target = pool[Int.random(in: 0..<pool.count, using: &random)]
        var action: MembershipChange.Action
        switch Int.random(in: 0..<7, using: &random) {
        case 0, 1, 2: action = .add(target.verifierKey)
        case 3, 4: action = .remove(name: target.verifierKey.name)
        case 5: action = .setThreshold
        default:  // another name for a key some node holds
            action = .add(
                try! NoteVerifierKey(name: "alias.example", type: .cosignature, publicKey: target.verifierKey.publicKey)
            )
        }
        let members = membership.members.count
        let threshold = Int.random(in: max(0, members / 2)...(members + 1), using: &random)
        var sequence = membership.sequence + 1
        if Int.random(in: 0..<12, using: &random) == 0 { sequence = membership.sequence }
        let consortium = Int.random(in: 0..<15, using: &random) == 0 ? Digest32.zero : membership.consortium
        let change = MembershipChange(consortium: consortium, sequence: sequence, action: action, threshold: threshold)
        var signers = pool.filter { membership.member(named: $0.verifierKey.name) != nil }.shuffled(using: &random)
        signers = Array(
            signers.prefix(Int.random(in: max(0, membership.threshold - 1)...signers.count, using: &random)))
        if Int.random(in: 0..<10, using: &random) == 0 {
            signers.append(pool[Int.random(in: 0..<pool.count, using: &random)])
        }
        var note = try! signed(change, by: signers)
        var forged: Int?
        if !note.signatures.isEmpty, Int.random(in: 0..<10, using: &random) == 0 {
            forged = Int.random(in: 0..<note.signatures.count, using: &random)
            note.signatures[forged!].signature[30] ^= 0x40
        }
        return (note, .init(change: change, signers: signers.map(\.verifierKey), forged: forged))
    }
}

extension MembershipContract.Refusal {
    /// The case's name (every refusal carries a value, so the mirror's one child is named after it).
    var kind: String { Mirror(reflecting: self).children.first?.label ?? "\(self)" }
}

extension MembershipContract.Outcome {
    var refusal: MembershipContract.Refusal? {
        if case .refused(let refusal) = self { return refusal }
        return nil
    }
}

/// The membership as plain sets, changed by the rules written out one by one: the model the
/// contract is checked against.
struct ReferenceMembership {
    struct Step {
        var change: MembershipChange
        var signers: [NoteVerifierKey]
        var forged: Int?
    }

    var id: Digest32
    var keys: [String: [UInt8]]
    var threshold: Int
    var sequence: UInt64

    init(_ membership: ConsortiumMembership) {
        id = membership.consortium
        keys = Dictionary(uniqueKeysWithValues: membership.members.map { ($0.name, $0.publicKey) })
        threshold = membership.threshold
        sequence = membership.sequence
    }

    /// The refusal of `step`, or nil after applying it.
    mutating func apply(_ step: Step) -> MembershipContract.Refusal? {
        let change = step.change
        if change.consortium != id { return .otherConsortium(change.consortium) }
        if change.sequence != sequence + 1 { return .staleSequence(expected: sequence + 1, got: change.sequence) }
        var seen: Set<String> = []
        for (index, signer) in step.signers.enumerated() {
            if keys[signer.name] != signer.publicKey { return .nonMemberSigner(signer.name) }
            if seen.contains(signer.name) { return .duplicateSigner(signer.name) }
            if step.forged == index { return .invalidSignature(signer.name) }
            seen.insert(signer.name)
        }
        if seen.count < threshold { return .notEnoughSignatures(signed: seen.count, threshold: threshold) }
        var after = keys
        switch change.action {
        case .add(let key):
            if keys[key.name] != nil { return .alreadyMember(key.name) }
            if keys.values.contains(key.publicKey) { return .unusableKey(key.name) }
            after[key.name] = key.publicKey
        case .remove(let name):
            if keys[name] == nil { return .notMember(name) }
            after[name] = nil
        case .setThreshold:
            break
        }
        if after.isEmpty || 2 * change.threshold <= after.count || change.threshold > after.count {
            return .thresholdNotMajority(threshold: change.threshold, members: after.count)
        }
        (keys, threshold, sequence) = (after, change.threshold, sequence + 1)
        return nil
    }

    func matches(_ membership: ConsortiumMembership) -> Bool {
        membership.consortium == id && membership.threshold == threshold && membership.sequence == sequence
            && membership.members.map(\.name) == keys.keys.sorted()
            && membership.members.allSatisfy { keys[$0.name] == $0.publicKey }
    }
}

/// SplitMix64: a seeded generator, so a failing property run can be repeated from its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E4B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
