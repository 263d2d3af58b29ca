import BLS12381
import Testing

@testable import AccessCrypto

enum CPFixture {
    static let setup = CPABE.setup()
    static let policy = ["enterprise:ZS123", "role:processing-administrator", "stage:processing"]
    static let message = Array("token: lot 20240203A001 level-2 read".utf8)
    static let ciphertext = try! CPABE.encrypt(message, policy: policy, publicParameters: setup.0)
    static let key = CPABE.keyGen(master: setup.1, attributes: policy + ["category:fresh corn"])
}

@Suite("CP-ABE (FAME, AND-gates)")
struct CPABETests {
    @Test func decryptsWithSatisfyingAttributes() throws {
        #expect(try CPABE.decrypt(CPFixture.ciphertext, secretKey: CPFixture.key) == CPFixture.message)
    }

    @Test func singleAttributePolicy() throws {
        let ct = try CPABE.encrypt([7, 7], policy: ["role:driver"], publicParameters: CPFixture.setup.0)
        let ok = CPABE.keyGen(master: CPFixture.setup.1, attributes: ["role:driver", "x"])
        #expect(try CPABE.decrypt(ct, secretKey: ok) == [7, 7])
        #expect(throws: AccessCryptoError.policyNotSatisfied) { try CPABE.decrypt(ct, secretKey: CPFixture.key) }
    }

    @Test func failsWithAMissingAttribute() throws {
        let key = CPABE.keyGen(master: CPFixture.setup.1, attributes: Array(CPFixture.policy.dropLast()))
        #expect(throws: AccessCryptoError.policyNotSatisfied) {
            try CPABE.decrypt(CPFixture.ciphertext, secretKey: key)
        }
    }

    @Test func relabelledKeyComponentDoesNotDecrypt() throws {
        // A key for {policy[0], policy[1], other} that renames "other" to policy[2].
        let key = CPABE.keyGen(master: CPFixture.setup.1, attributes: Array(CPFixture.policy.prefix(2)) + ["zz-other"])
        let i = key.attributes.firstIndex(of: "zz-other")!
        var attrs = key.attributes
        attrs[i] = CPFixture.policy[2]
        let forged = CPABE.SecretKey(attributes: attrs, k0: key.k0, ky: key.ky, kPrime: key.kPrime)
        #expect(throws: AccessCryptoError.authenticationFailed) {
            try CPABE.decrypt(CPFixture.ciphertext, secretKey: forged)
        }
    }

    @Test func colludingKeysDoNotDecrypt() throws {
        // Two users each missing one attribute; splicing their attribute components fails
        // because each key is bound to its own r₁, r₂.
        let a = CPABE.keyGen(master: CPFixture.setup.1, attributes: Array(CPFixture.policy.prefix(2)))
        let b = CPABE.keyGen(master: CPFixture.setup.1, attributes: Array(CPFixture.policy.suffix(1)))
        let spliced = CPABE.SecretKey(
            attributes: (a.attributes + b.attributes).sorted(), k0: a.k0,
            ky: zip(a.attributes + b.attributes, a.ky + b.ky).sorted { $0.0 < $1.0 }.map(\.1), kPrime: a.kPrime)
        #expect(throws: AccessCryptoError.authenticationFailed) {
            try CPABE.decrypt(CPFixture.ciphertext, secretKey: spliced)
        }
    }

    @Test func keyFromAnotherSetupFails() throws {
        let other = CPABE.setup()
        let key = CPABE.keyGen(master: other.1, attributes: CPFixture.policy)
        #expect(throws: AccessCryptoError.authenticationFailed) {
            try CPABE.decrypt(CPFixture.ciphertext, secretKey: key)
        }
    }

    @Test func tamperedCiphertextIsRejected() throws {
        let bytes = CPFixture.ciphertext.serialized
        // Flip a bit in the sealed message, and swap a row point for another valid point.
        var b1 = bytes
        b1[b1.count - 20] ^= 0x01
        let t1 = try CPABE.Ciphertext(serialized: b1)
        #expect(throws: AccessCryptoError.authenticationFailed) { try CPABE.decrypt(t1, secretKey: CPFixture.key) }
        let ct = CPFixture.ciphertext
        var rows = ct.rows
        rows[0][0] = rows[0][0] + .generator
        let t2 = CPABE.Ciphertext(policy: ct.policy, c0: ct.c0, rows: rows, sealed: ct.sealed)
        #expect(throws: AccessCryptoError.authenticationFailed) { try CPABE.decrypt(t2, secretKey: CPFixture.key) }
        // Changing the stated policy (dropping an attribute) is also detected.
        let t3 = CPABE.Ciphertext(
            policy: Array(ct.policy.prefix(2)), c0: ct.c0, rows: Array(ct.rows.prefix(2)),
            sealed: ct.sealed)
        #expect(throws: AccessCryptoError.authenticationFailed) { try CPABE.decrypt(t3, secretKey: CPFixture.key) }
    }

    @Test func serializationRoundTrips() throws {
        let (pp, mk) = CPFixture.setup
        #expect(try CPABE.PublicParameters(serialized: pp.serialized) == pp)
        #expect(try CPABE.MasterKey(serialized: mk.serialized) == mk)
        let sk = try CPABE.SecretKey(serialized: CPFixture.key.serialized)
        #expect(sk == CPFixture.key)
        let ct = try CPABE.Ciphertext(serialized: CPFixture.ciphertext.serialized)
        #expect(ct == CPFixture.ciphertext)
        #expect(try CPABE.decrypt(ct, secretKey: sk) == CPFixture.message)
        // Sizes: 3 policy attributes → 3 G2 + 9 G1.
        let header = 2 + CPFixture.policy.reduce(0) { $0 + 4 + $1.utf8.count } + 3 * 96 + 9 * 48
        #expect(ct.serialized.count == 9 + header + 4 + 12 + CPFixture.message.count + 16)
    }

    @Test func invalidEncodingsAreRejected() throws {
        let bytes = CPFixture.ciphertext.serialized
        #expect(throws: AccessCryptoError.invalidLength) { try CPABE.Ciphertext(serialized: bytes.dropLast()) }
        #expect(throws: AccessCryptoError.invalidMagic) { try CPABE.Ciphertext(serialized: Array(bytes.dropFirst())) }
        // Replace the first row point (after magic, header strings and ct₀) with a point outside G1.
        let offset = 9 + 2 + CPFixture.policy.reduce(0) { $0 + 4 + $1.utf8.count } + 3 * 96
        var bad = bytes
        bad.replaceSubrange(offset..<offset + 48, with: nonSubgroupG1)
        #expect(throws: AccessCryptoError.invalidElement(.notInSubgroup)) { try CPABE.Ciphertext(serialized: bad) }
        var badKey = CPFixture.key.serialized
        badKey[9 + 5] ^= 0x20  // inside sk₀[0]'s x coordinate
        #expect(throws: AccessCryptoError.self) { try CPABE.SecretKey(serialized: badKey) }
        #expect(throws: AccessCryptoError.wrongAttributeCount(expected: 1, got: 2)) {
            try CPABE.encrypt([1], policy: ["a", "a"], publicParameters: CPFixture.setup.0)
        }
    }
}
