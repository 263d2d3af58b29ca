import AgriTraceCore
import Testing

/// A typed status travels on the wire as its raw value, as it did as a string.
@Suite struct RawValueWireTests {
    /// A transfer's status is written as its raw value; a spelling the type does not know is
    /// not canonical.
    @Test func transferStatusIsItsRawValueOnTheWire() throws {
        var writer = CanonicalWriter()
        writer.write("delivered")
        var reader = CanonicalReader(writer.bytes)
        #expect(try reader.readRawValue(TransferStatus.self, "status") == .delivered)
        var unknown = CanonicalReader(Canonical.encode("lost"))
        #expect(throws: Canonical.DecodingError.nonCanonical("unknown status lost")) {
            try unknown.readRawValue(TransferStatus.self, "status")
        }
    }

    /// A transfer record is the same bytes as when its status was a string.
    @Test func transferRecordBytesAreUnchanged() throws {
        let record = TransferRecord(
            requestID: "r", redeemLeaf: 1, receiver: "x", lot: "L", level: .level2, recordCount: 2, blobDigest: .zero,
            source: "s", status: .refused, purpose: "p", reason: "why")
        var expected = CanonicalWriter()
        expected.write(
            "r", UInt64(1), "x", "L", ABAC.Sensitivity.level2.rawValue, UInt32(2), Digest32.zero, "s", "refused", "p",
            "why")
        #expect(Canonical.encode(record) == expected.bytes)
        #expect(try Canonical.decode(TransferRecord.self, from: expected.bytes) == record)
    }
}
