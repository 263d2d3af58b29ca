import AgriTraceCore
import Crypto

/// A `Signed<RecordBatch>` parsed from its canonical bytes, keeping the byte ranges of the
/// signed value and of each record, so the signature is checked and the log entries are
/// built from the received bytes without encoding anything again.
struct BatchPayload {
    var enterprise: String
    var device: String
    var sentAt: Timestamp
    var records: [Record]
    /// The canonical bytes of each record (slices of the payload).
    var recordBytes: [ArraySlice<UInt8>]
    var signature: [UInt8]
    /// The canonical bytes of the signed `RecordBatch` value.
    var signedValue: ArraySlice<UInt8>

    /// Parses exactly the bytes `Canonical.decode(Signed<RecordBatch>.self, from:)` accepts.
    init(_ payload: [UInt8]) throws {
        var reader = CanonicalReader(payload)
        func offset() -> Int { payload.count - reader.remaining }
        enterprise = try reader.readString("enterprise")
        device = try reader.readString("device")
        sentAt = try reader.read(Timestamp.self)
        let count = Int(try reader.readUInt32("records"))
        if count > reader.remaining { throw Canonical.DecodingError.lengthTooLarge(count, context: "records") }
        records = []
        recordBytes = []
        records.reserveCapacity(count)
        recordBytes.reserveCapacity(count)
        for _ in 0..<count {
            let start = offset()
            records.append(try reader.read(Record.self))
            recordBytes.append(payload[start..<offset()])
        }
        signedValue = payload[0..<offset()]
        signature = try reader.readBytes("signature")
        guard signature.count == 64 else {
            throw Canonical.DecodingError.nonCanonical("signature of \(signature.count) bytes")
        }
        try reader.finish()
    }

    /// Whether the batch signature verifies under `key` (domain `record-batch`).
    func isValid(key: Curve25519.Signing.PublicKey) -> Bool {
        var message = CanonicalWriter(capacity: signedValue.count + 40)
        message.write(SignatureDomain.recordBatch.rawValue)
        message.writeRaw(signedValue)
        return key.isValidSignature(signature, for: message.bytes)
    }

    /// The prefix of a record's log entry: the entry domain and tag 1.
    static let recordEntryPrefix: [UInt8] = {
        var writer = CanonicalWriter()
        writer.write("agritrace/v1/log-entry")
        writer.write(UInt8(1))
        return writer.bytes
    }()

    /// The canonical bytes of `LogEntry.record(records[index])`.
    func entryBytes(_ index: Int) -> [UInt8] {
        var bytes = Self.recordEntryPrefix
        bytes.append(contentsOf: recordBytes[index])
        return bytes
    }
}
