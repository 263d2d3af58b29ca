import AgriTraceCore
import Testing

/// Rejection codes are typed and keep the spelling (and the wire bytes) they had as strings.
@Suite struct RejectionCodeTests {
    /// The spellings rejections carried before the codes were typed (docs/aggregator.md).
    static let spellings = [
        "unknown-device", "revoked-device", "bad-record-id", "wrong-stage", "bad-signature", "invalid-name",
        "bad-key", "device-exists", "unknown-principal", "revoked-principal", "principal-exists", "not-permitted",
        "malformed", "topic-mismatch", "record-mismatch", "conflicting-duplicate", "internal",
    ]

    @Test func everyKnownCodeKeepsItsSpelling() {
        #expect(RejectionCode.known.map(\.rawValue) == Self.spellings)
        for spelling in Self.spellings {
            let code = RejectionCode(rawValue: spelling)
            #expect(code.rawValue == spelling && "\(code)" == spelling)
            #expect(RejectionCode.known.contains(code), "\(spelling) decodes as a known case")
        }
        #expect(RejectionCode(rawValue: "bad-signature") == .badSignature)
        #expect(RejectionCode.other("malformed") == .malformed)
    }

    /// A rejection is the same bytes as with a string code, and an unknown code survives
    /// decode and encode unchanged (an older agent facing a newer aggregator).
    @Test func rejectionBytesAreTheStringsBytes() throws {
        for code in ["bad-signature", "a-code-from-the-future"] {
            var writer = CanonicalWriter()
            writer.write(Optional<RecordID>.none)
            writer.write(code)
            writer.write("why")
            let rejection = try Canonical.decode(Rejection.self, from: writer.bytes)
            #expect(rejection.code.rawValue == code)
            #expect(Canonical.encode(rejection) == writer.bytes)
        }
        let future = try Canonical.decode(
            Rejection.self, from: Canonical.encode(Rejection(recordID: nil, code: .other("later"), reason: "")))
        #expect(future.code == .other("later"))
    }
}
