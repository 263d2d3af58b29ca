import AgriTraceCore
import Crypto
import PropertyBased
import Testing

/// The non-generic hashing and decoding paths of the hot code (``SaltKey``, `sha256([UInt8])`,
/// `leafHash([UInt8])`, the reader's integer loads and its ASCII string path) against
/// swift-crypto, RFC 4231 and the standard library's validating decoder.
@Suite struct HashingPathTests {
    static func hex(_ digest: Digest32) -> String { digest.hex }

    @Test func saltKeyGivesTheRFC4231Codes() {
        let cases: [(key: [UInt8], data: String, mac: String)] = [
            (
                [UInt8](repeating: 0x0b, count: 20), "Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
            ),
            (
                Array("Jefe".utf8), "what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
            ),
            (
                [UInt8](repeating: 0xaa, count: 131), "Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
            ),
        ]
        for test in cases {
            #expect(SaltKey(key: test.key).authenticationCode(for: Array(test.data.utf8)).hex == test.mac)
        }
    }

    @Test func saltKeyAgreesWithSwiftCryptoAndIsReusable() async {
        await propertyCheck(
            count: 200, input: Gen.uint8().array(of: 0...130), Gen.uint8().array(of: 0...300),
            Gen.uint8().array(of: 0...40)
        ) { key, first, second in
            let salt = SaltKey(key: key)
            for message in [first, second, first] {
                let expected = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))
                #expect(salt.authenticationCode(for: message).bytes == Array(expected))
            }
        }
    }

    @Test func byteArrayHashesEqualTheGenericOnes() async {
        await propertyCheck(count: 200, input: Gen.uint8().array(of: 0...200)) { bytes in
            #expect(Digest32.sha256(bytes) == Digest32(SHA256.hash(data: bytes)))
            #expect(MerkleTree.leafHash(bytes) == MerkleTree.leafHash(bytes[...]))
            #expect(MerkleTree.leafHash(bytes) == Digest32(SHA256.hash(data: [0] + bytes)))
        }
    }

    @Test func readerIntegersAreBigEndianAndRefuseShortInput() throws {
        var writer = CanonicalWriter()
        writer.write(UInt16.max - 1)
        writer.write(UInt32(0x0102_0304))
        writer.write(UInt64(0x0102_0304_0506_0708))
        writer.write(UInt8(0xfe))
        #expect(writer.bytes == [0xff, 0xfe, 1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8, 0xfe])
        var reader = CanonicalReader(writer.bytes)
        #expect(try reader.readUInt16() == UInt16.max - 1)
        #expect(try reader.readUInt32() == 0x0102_0304)
        #expect(try reader.readUInt64() == 0x0102_0304_0506_0708)
        #expect(try reader.readUInt8() == 0xfe)
        try reader.finish()
        var short = CanonicalReader([1, 2, 3, 4, 5, 6, 7])
        #expect(throws: Canonical.DecodingError.truncated(context: "sequence")) { try short.readUInt64("sequence") }
        // A failed read consumes nothing.
        #expect(try short.readUInt32() == 0x0102_0304)
    }

    @Test func stringsDecodeAsciiAndUnicodeAndRefuseInvalidUTF8() throws {
        for text in ["", "PLANT1", "Café ✓ 玉米", "nul\u{0}inside", "🌽"] {
            var reader = CanonicalReader(Canonical.encode(text))
            #expect(try reader.readString() == text)
        }
        for invalid: [UInt8] in [[0xc3, 0x28], [0x80], [0xc0, 0x80], [0x41, 0xed, 0xa0, 0x80], [0x41, 0xff]] {
            var reader = CanonicalReader(Canonical.encode(UInt32(invalid.count)) + invalid)
            #expect(throws: Canonical.DecodingError.invalidUTF8(context: "lot")) { try reader.readString("lot") }
        }
    }
}

/// Level salts and nonces drawn from the pool: fresh bytes across several 4 KiB blocks, and two
/// records of the same reading never share a salt.
@Suite struct RandomPoolTests {
    @Test func saltsAreThirtyTwoFreshBytesAcrossBlocks() {
        let salts = (0..<1_000).map { _ in
            PrivateFields(level: .level2, entries: [FieldEntry(key: "k", value: .text("v"))]).salt
        }
        #expect(salts.allSatisfy { $0.count == 32 })
        #expect(Set(salts).count == salts.count)
        let draws = (0..<1_000).map { _ in RandomPool.bytes(12) }
        #expect(draws.allSatisfy { $0.count == 12 } && Set(draws).count == draws.count)
        #expect(RandomPool.bytes(RandomPool.blockSize).count == RandomPool.blockSize)
    }
}
