import AgriTraceCore
import Crypto
import Testing

@Suite struct SealingTests {
    let classified = Fixtures.classifiedPlanting()
    let owner = Curve25519.KeyAgreement.PrivateKey()
    let requester = Curve25519.KeyAgreement.PrivateKey()

    @Test func sealWrapUnwrapOpenVerifies() throws {
        let level2 = try #require(classified.level2)
        let (sealed, key) = try SealedPrivateFields.seal(level2, recordID: classified.record.id)
        let wrapped = try WrappedDataKey.wrap(
            key, recordID: classified.record.id, level: .level2, for: requester.publicKey)
        let travelled = try Canonical.decode(WrappedDataKey.self, from: Canonical.encode(wrapped))
        let opened = try sealed.open(
            dataKey: travelled.unwrap(with: requester), record: classified.record, expectedBlobID: sealed.blobID)
        #expect(opened == level2)
        // The ciphertext holds no plaintext value.
        #expect(!sealed.blob.hexString.contains(Array("Li Wei".utf8).hexString))
    }

    @Test func anotherRecipientCannotUnwrap() throws {
        let (_, key) = try SealedPrivateFields.seal(classified.level1!, recordID: classified.record.id)
        let wrapped = try WrappedDataKey.wrap(key, recordID: classified.record.id, level: .level1, for: owner.publicKey)
        #expect(throws: Sealing.Error.decryptionFailed) { try wrapped.unwrap(with: requester) }
        // A wrapped key re-labelled for another level or record does not open either.
        var relabelled = wrapped
        relabelled.level = .level2
        #expect(throws: Sealing.Error.decryptionFailed) { try relabelled.unwrap(with: owner) }
    }

    @Test func tamperedBlobOrSwappedBlobIsDetected() throws {
        let (sealed, key) = try SealedPrivateFields.seal(classified.level2!, recordID: classified.record.id)
        var tampered = sealed
        tampered.blob[20] ^= 1
        #expect(throws: Sealing.Error.blobMismatch(expected: sealed.blobID, actual: tampered.blobID)) {
            try tampered.open(dataKey: key, record: classified.record, expectedBlobID: sealed.blobID)
        }
        #expect(throws: Sealing.Error.decryptionFailed) { try tampered.open(dataKey: key, record: classified.record) }
        // The level-1 blob presented as level-2.
        let (sealed1, key1) = try SealedPrivateFields.seal(classified.level1!, recordID: classified.record.id)
        var swapped = sealed1
        swapped.level = .level2
        #expect(throws: Sealing.Error.decryptionFailed) { try swapped.open(dataKey: key1, record: classified.record) }
    }

    @Test func valuesThatDoNotMatchTheLedgerAreRefused() throws {
        // An owner (or anyone with a data key) sealing altered values: decrypts, but fails the commitment.
        var altered = try #require(classified.level2)
        altered.entries[1].value = .number(999)
        let (sealed, key) = try SealedPrivateFields.seal(altered, recordID: classified.record.id)
        #expect(throws: Sealing.Error.commitment(.rootMismatch(level: .level2))) {
            try sealed.open(dataKey: key, record: classified.record)
        }
    }
}
