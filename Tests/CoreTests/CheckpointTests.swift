import AgriTraceCore
import Crypto
import PropertyBased
import Testing

/// C2SP signed notes, verifier keys, checkpoints and k-of-n cosignatures, against the Go
/// `golang.org/x/mod/sumdb/note` reference vector and by mutation.
@Suite struct CheckpointTests {
    /// The reference key and note of Go's note package (its documentation and tests).
    static let goVerifierKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    static let goSeed = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    static let goText =
        "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
    static let goNote =
        goText
        + "\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"

    @Test func theGoReferenceKeyAndNoteAgree() throws {
        let key = try NoteVerifierKey(vkey: Self.goVerifierKey)
        #expect(key.name == "PeterNeumann")
        #expect(key.keyID == 0xc74f_20a3)
        #expect(key.vkey == Self.goVerifierKey)
        let seed = try #require(Base64.decode(Self.goSeed))
        let signer = try NoteSigner(
            name: "PeterNeumann", type: .ed25519, key: Curve25519.Signing.PrivateKey(rawRepresentation: seed[1...]))
        #expect(signer.verifierKey == key)
        let signed = SignedNote(text: Self.goText, signatures: [try signer.sign(Self.goText)])
        #expect(signed.formatted == Self.goNote)
        let parsed = try SignedNote(parsing: Self.goNote)
        #expect(parsed == signed)
    }

    @Test func aVerifierKeyWithAnotherKeyIDOrNameIsRefused() {
        #expect(throws: NoteVerifierKey.Error.self) {
            try NoteVerifierKey(vkey: "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
        }
        #expect(throws: NoteVerifierKey.Error.self) {
            try NoteVerifierKey(vkey: "PeterNeumanN+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
        }
        #expect(throws: NoteVerifierKey.Error.self) { try NoteVerifierKey(vkey: "PeterNeumann+c74f20a3") }
    }

    @Test func base64RoundTripsAndRefusesNonCanonicalText() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...80), Gen.int(in: 0...1000)) { length, seed in
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: ($0 &+ 1) &* (seed &+ 7) &* 31) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(Base64.decode("QQ==") == [0x41])
        #expect(Base64.decode("QR==") == nil)
        #expect(Base64.decode("Q===") == nil)
        #expect(Base64.decode("QQ=A") == nil)
        #expect(Base64.decode("QQ") == nil)
    }

    static func members(_ count: Int) throws -> [NoteSigner] {
        try (0..<count).map { index in
            let seed = [UInt8](repeating: UInt8(index + 1), count: 32)
            return try NoteSigner(
                name: "node-\(index).agritrace.example", type: .cosignature,
                key: Curve25519.Signing.PrivateKey(rawRepresentation: seed))
        }
    }

    @Test func aCheckpointIsFinalWithKOfNMemberCosignaturesOnly() throws {
        let signers = try Self.members(3)
        let verifier = try CheckpointVerifier(
            origin: "agritrace.example/log", members: signers.map(\.verifierKey), threshold: 2)
        // A threshold outside 1...n or a member listed twice is refused as configuration.
        let keys = signers.map(\.verifierKey)
        #expect(throws: CheckpointVerifier.ConfigurationError.threshold(0, members: 3)) {
            try CheckpointVerifier(origin: "o", members: keys, threshold: 0)
        }
        #expect(throws: CheckpointVerifier.ConfigurationError.threshold(4, members: 3)) {
            try CheckpointVerifier(origin: "o", members: keys, threshold: 4)
        }
        #expect(throws: CheckpointVerifier.ConfigurationError.duplicateMember(keys[1].name)) {
            try CheckpointVerifier(origin: "o", members: keys + [keys[1]], threshold: 2)
        }
        let checkpoint = Checkpoint(
            origin: "agritrace.example/log", size: 20_852_163, rootHash: Digest32.sha256(Array("root".utf8)))
        #expect(try Checkpoint(text: checkpoint.text) == checkpoint)
        let text = checkpoint.text
        let one = SignedNote(text: text, signatures: [try signers[0].sign(text, time: 1_679_315_147)])
        #expect(throws: Checkpoint.Error.notFinal(verified: ["node-0.agritrace.example"], threshold: 2)) {
            try verifier.verify(SignedNote(parsing: one.formatted))
        }
        // The same member twice is one cosigner.
        var twice = one
        twice.signatures.append(try signers[0].sign(text, time: 1_679_315_148))
        #expect(throws: Checkpoint.Error.self) { try verifier.verify(twice) }
        // An outsider's signature is ignored; two members make it final.
        let outsider = try NoteSigner(
            name: "outsider.example", type: .cosignature, key: Curve25519.Signing.PrivateKey())
        let two = SignedNote(
            text: text,
            signatures: [
                try outsider.sign(text), try signers[2].sign(text, time: 5), try signers[1].sign(text, time: 6),
            ])
        let (accepted, cosigners) = try verifier.verify(SignedNote(parsing: two.formatted))
        #expect(accepted == checkpoint)
        #expect(cosigners == ["node-2.agritrace.example", "node-1.agritrace.example"])
        #expect(Cosignature.time(of: two.signatures[1]) == 5)
    }

    @Test func anAlteredCheckpointOrSignatureIsRefused() throws {
        let signers = try Self.members(3)
        let verifier = try CheckpointVerifier(
            origin: "agritrace.example/log", members: signers.map(\.verifierKey), threshold: 2)
        let text = Checkpoint(origin: "agritrace.example/log", size: 7, rootHash: .zero).text
        let note = SignedNote(text: text, signatures: try signers.map { try $0.sign(text, time: 9) })
        #expect(try verifier.verify(note).cosigners.count == 3)
        // Another size under the same signatures.
        var resized = note
        resized.text = Checkpoint(origin: "agritrace.example/log", size: 8, rootHash: .zero).text
        #expect(throws: Checkpoint.Error.invalidSignature("node-0.agritrace.example")) { try verifier.verify(resized) }
        // Another time than the one signed.
        var retimed = note
        retimed.signatures[1].signature[7] ^= 1
        #expect(throws: Checkpoint.Error.invalidSignature("node-1.agritrace.example")) { try verifier.verify(retimed) }
        // Another log's origin.
        let otherText = Checkpoint(origin: "other.example/log", size: 7, rootHash: .zero).text
        let other = SignedNote(text: otherText, signatures: try signers.map { try $0.sign(otherText, time: 9) })
        #expect(throws: Checkpoint.Error.self) { try verifier.verify(other) }
    }

    @Test func malformedNotesAndCheckpointsAreRefused() {
        for bad in ["no signatures\n", "text\n\nnot a signature\n", "text\n\n\u{2014} name !!!!\n", "text\u{7}\n\n"] {
            #expect(throws: SignedNote.Error.self) { try SignedNote(parsing: bad) }
        }
        for bad in [
            "origin\n7\n", "origin\n07\nAAAA\n", "origin\n7\nAAAA\n",
            "origin\n7\n\(Base64.encode([UInt8](repeating: 0, count: 32)))\n\nx\n",
        ] {
            #expect(throws: Checkpoint.Error.self) { try Checkpoint(text: bad) }
        }
    }
}
