import AgriTraceCore
import Crypto
import Testing

/// The genesis file: canonical text, its id, the invariants with errors naming the field, and the
/// checkpoint verifier made from it.
@Suite struct ConsortiumGenesisTests {
    static let origin = "agritrace.example/consortium"

    static func nodes(_ count: Int, from first: Int = 0) throws -> [NoteSigner] {
        try (first..<(first + count)).map { index in
            try NoteSigner(
                name: "node-\(index).agritrace.example", type: .cosignature,
                key: Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: UInt8(index + 1), count: 32)))
        }
    }

    @Test func theGenesisTextIsCanonicalAndItsHashIsTheID() throws {
        let keys = try Self.nodes(3).map(\.verifierKey)
        let genesis = try ConsortiumGenesis(
            origin: Self.origin, time: 1_796_677_200, threshold: 2, members: keys.reversed())
        #expect(genesis.membership.members == keys)  // sorted by name whatever the order given
        #expect(
            genesis.text.hasPrefix(
                "agritrace-consortium/v1\norigin \(Self.origin)\ntime 1796677200\nthreshold 2\nmember "))
        #expect(genesis.id == Digest32.sha256(Array(genesis.text.utf8)))
        let parsed = try ConsortiumGenesis(text: genesis.text)
        #expect(parsed == genesis)
        #expect(parsed.membership.sequence == 0)
        // The same members in another order are the same consortium; another time is another.
        let again = try ConsortiumGenesis(origin: Self.origin, time: 1_796_677_200, threshold: 2, members: keys)
        #expect(again.id == genesis.id)
        let later = try ConsortiumGenesis(origin: Self.origin, time: 1_796_677_201, threshold: 2, members: keys)
        #expect(later.id != genesis.id)
        // Members out of order, a missing final newline or an extra line are not canonical.
        let lines = genesis.text.split(separator: "\n").map(String.init)
        let swapped = (lines[0..<4] + [lines[5], lines[4], lines[6]]).map { $0 + "\n" }.joined()
        #expect(throws: ConsortiumError.self) { try ConsortiumGenesis(text: swapped) }
        #expect(throws: ConsortiumError.self) { try ConsortiumGenesis(text: String(genesis.text.dropLast())) }
        #expect(throws: ConsortiumError.self) { try ConsortiumGenesis(text: genesis.text + "\n") }
    }

    @Test func badInputIsRefusedNamingTheFieldAndTheFix() throws {
        let keys = try Self.nodes(3).map(\.verifierKey)
        func error(_ make: () throws(ConsortiumError) -> ConsortiumGenesis) -> String {
            do { _ = try make() } catch { return error.description }
            return "accepted"
        }
        let tooMany = error { () throws(ConsortiumError) in
            try ConsortiumGenesis(origin: Self.origin, time: 1, threshold: 4, members: keys)
        }
        #expect(
            tooMany.hasPrefix("threshold: k = 4 of n = 3 is not a majority") && tooMany.contains("fix: set k to 2...3"))
        let minority = error { () throws(ConsortiumError) in
            try ConsortiumGenesis(origin: Self.origin, time: 1, threshold: 1, members: keys)
        }
        #expect(minority.hasPrefix("threshold: k = 1 of n = 3"))
        let twice = error { () throws(ConsortiumError) in
            try ConsortiumGenesis(origin: Self.origin, time: 1, threshold: 2, members: keys + [keys[0]])
        }
        #expect(twice == "member: node-0.agritrace.example is listed twice; fix: give each member one verifier key")
        let sameKey = try NoteVerifierKey(
            name: "alias.agritrace.example", type: .cosignature, publicKey: keys[1].publicKey)
        let shared = error { () throws(ConsortiumError) in
            try ConsortiumGenesis(origin: Self.origin, time: 1, threshold: 2, members: keys + [sameKey])
        }
        #expect(shared.contains("public key is another member's too"))
        let logKey = try NoteVerifierKey(name: "log.agritrace.example", type: .ed25519, publicKey: keys[1].publicKey)
        let wrongType = error { () throws(ConsortiumError) in
            try ConsortiumGenesis(origin: Self.origin, time: 1, threshold: 1, members: [logKey])
        }
        #expect(wrongType.contains("is not a cosignature key"))
        let none = error { () throws(ConsortiumError) in
            try ConsortiumGenesis(origin: Self.origin, time: 1, threshold: 1, members: [])
        }
        #expect(none.hasPrefix("members: a consortium needs at least one member"))
        let origin = error { () throws(ConsortiumError) in
            try ConsortiumGenesis(origin: "a\nb", time: 1, threshold: 2, members: keys)
        }
        #expect(origin.hasPrefix("origin:"))
        let genesis = try ConsortiumGenesis(origin: Self.origin, time: 1, threshold: 2, members: keys)
        let malformed = genesis.text.replacingOccurrences(of: "+", with: "-")
        #expect(error { () throws(ConsortiumError) in try ConsortiumGenesis(text: malformed) }.hasPrefix("member: "))
        let noThreshold = genesis.text.replacingOccurrences(of: "threshold 2", with: "threshold two")
        #expect(
            error { () throws(ConsortiumError) in try ConsortiumGenesis(text: noThreshold) }.hasPrefix(
                "threshold: \"two\""))
    }

    @Test func theCheckpointVerifierTakesTheConsortiumsKOfN() throws {
        let nodes = try Self.nodes(3)
        let genesis = try ConsortiumGenesis(
            origin: Self.origin, time: 1, threshold: 2, members: nodes.map(\.verifierKey))
        let verifier = genesis.membership.checkpointVerifier
        let text = Checkpoint(origin: Self.origin, size: 10, rootHash: .zero).text
        let one = SignedNote(text: text, signatures: [try nodes[0].sign(text, time: 1)])
        #expect(throws: Checkpoint.Error.notFinal(verified: [nodes[0].verifierKey.name], threshold: 2)) {
            try verifier.verify(one)
        }
        let outsider = try Self.nodes(1, from: 7)[0]
        var withOutsider = one
        withOutsider.signatures.append(try outsider.sign(text, time: 1))
        #expect(throws: Checkpoint.Error.self) { try verifier.verify(withOutsider) }
        var two = one
        two.signatures.append(try nodes[2].sign(text, time: 2))
        #expect(try verifier.verify(two).cosigners.count == 2)
    }
}
