import AgriTraceCore
import Crypto
import Testing

@Suite struct SignatureTests {
    let key = Curve25519.Signing.PrivateKey()

    func batch() -> RecordBatch {
        RecordBatch(
            enterprise: "FARM1", device: "farm-box-01", sentAt: Timestamp(milliseconds: 1_777_624_300_000),
            records: [Fixtures.classifiedPlanting().record])
    }

    @Test func roundTripVerifies() throws {
        let signed = try Signed(batch(), domain: .recordBatch, key: key)
        try signed.verify(domain: .recordBatch, key: key.publicKey)
        let decoded = try Canonical.decode(Signed<RecordBatch>.self, from: Canonical.encode(signed))
        #expect(decoded == signed)
        try decoded.verify(domain: .recordBatch, key: key.publicKey)
    }

    @Test func everyFlippedBitOfTheRecordFails() throws {
        let signed = try Signed(batch(), domain: .recordBatch, key: key)
        let bytes = Canonical.encode(signed)
        let valueLength = bytes.count - 4 - 64
        // Flip one bit in each byte of the signed value (sampled every 7 bytes) and in the signature.
        var checked = 0
        for index in stride(from: 0, to: bytes.count, by: 7) {
            var tampered = bytes
            tampered[index] ^= 0x01
            if let decoded = try? Canonical.decode(Signed<RecordBatch>.self, from: tampered) {
                #expect(
                    !decoded.isValid(domain: .recordBatch, key: key.publicKey),
                    "bit flip at \(index) of \(bytes.count) (value is \(valueLength) bytes) still verifies")
                checked += 1
            }
        }
        #expect(checked > 50)
        var badSignature = signed
        badSignature.signature[63] ^= 0x40
        #expect(throws: SignatureError.invalidSignature(domain: SignatureDomain.recordBatch.rawValue)) {
            try badSignature.verify(domain: .recordBatch, key: key.publicKey)
        }
    }

    @Test func signatureIsBoundToItsDomainAndKey() throws {
        let signed = try Signed(batch(), domain: .recordBatch, key: key)
        #expect(!signed.isValid(domain: .transaction, key: key.publicKey))
        #expect(!signed.isValid(domain: .recordBatch, key: Curve25519.Signing.PrivateKey().publicKey))
    }
}
