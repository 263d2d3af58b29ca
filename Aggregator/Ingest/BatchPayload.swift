import AgriTraceCore
import Crypto
import Ledger
import Synchronization

/// A `Signed<RecordBatch>` parsed from its canonical bytes, keeping the byte ranges of the
/// signed value and of each record, so the signature is checked and the log entries are
/// built from the received bytes without encoding anything again.
struct BatchPayload: Sendable {
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

    /// The canonical bytes of `LogEntry.record(records[index])`.
    func entryBytes(_ index: Int) -> [UInt8] {
        var bytes = BatchSignature.recordEntryPrefix
        bytes.append(contentsOf: recordBytes[index])
        return bytes
    }
}

/// A record batch from MQTT with the work done that needs no ledger state
/// (``init(topic:payload:keys:)``), ready for `Ledger.admit(_:keys:)`.
public struct CheckedBatch: Sendable {
    /// Stands for the payload of a message whose topic is not a device's record topic.
    struct NotChecked: Error {}

    let topic: String
    /// The enterprise and device named by the topic; `nil` if it is not a record topic.
    let sender: RegistryState.DeviceKey?
    let batch: Result<BatchPayload, any Error>
    /// The canonical bytes of each record's log entry.
    var entries: [[UInt8]] = []
    /// The leaf hash of each entry.
    var leafHashes: [Digest32] = []
    /// Positions of the records whose id is not the one derived from their sequence.
    var underivedIDs: [Int] = []
    /// The device key the batch signature verified under, if it was checked.
    var verifiedKey: Curve25519.Signing.PublicKey?

    init(topic: String, sender: RegistryState.DeviceKey?, batch: Result<BatchPayload, any Error>) {
        self.topic = topic
        self.sender = sender
        self.batch = batch
    }

    /// The work of admitting a batch that needs no ledger state: parsing the topic and the
    /// payload, the records' log entry bytes and leaf hashes, their ids, and the batch
    /// signature under the device key last seen in `keys`. Runs on any thread, so ingest
    /// does it for the next batch while the ledger admits this one (`Ledger.admit(_:keys:)`).
    public init(topic: String, payload: [UInt8], keys: DeviceKeys) {
        guard let (enterprise, device) = Wire.parseDeviceTopic(topic) else {
            self.init(topic: topic, sender: nil, batch: .failure(NotChecked()))
            return
        }
        let sender = RegistryState.DeviceKey(enterprise: enterprise, device: device)
        let batch: BatchPayload
        do {
            batch = try BatchPayload(payload)
        } catch {
            self.init(topic: topic, sender: sender, batch: .failure(error))
            return
        }
        self.init(topic: topic, sender: sender, batch: .success(batch))
        entries.reserveCapacity(batch.records.count)
        leafHashes.reserveCapacity(batch.records.count)
        for position in batch.records.indices {
            let bytes = batch.entryBytes(position)
            leafHashes.append(MerkleTree.leafHash(bytes))
            entries.append(bytes)
            let record = batch.records[position]
            if record.id
                != RecordID.derive(enterprise: record.enterprise, device: record.device, sequence: record.sequence)
            {
                underivedIDs.append(position)
            }
        }
        if batch.enterprise == enterprise, batch.device == device, let key = keys[sender], batch.isValid(key: key) {
            verifiedKey = key
        }
    }

    /// What the payload decoded to, or `nil` if it was refused as malformed: the batch as
    /// ingest parsed it from the received bytes (for the fuzz harness, which checks it against
    /// `Canonical.decode`).
    public var decodedBatch: Signed<RecordBatch>? {
        guard case .success(let payload) = batch else { return nil }
        return Signed(
            value: RecordBatch(
                enterprise: payload.enterprise, device: payload.device, sentAt: payload.sentAt,
                records: payload.records),
            signature: payload.signature)
    }

    /// The canonical bytes of each record's log entry, as ingest built them from the payload.
    public var logEntries: [[UInt8]] { entries }
    /// The leaf hash of each log entry.
    public var logLeafHashes: [Digest32] { leafHashes }
    /// Positions of the records whose id is not the one derived from their sequence.
    public var underivedRecordPositions: [Int] { underivedIDs }
    /// Whether the batch signature verified off the ledger's thread under the key in `keys`.
    public var signatureVerified: Bool { verifiedKey != nil }
}

/// The devices' public keys as the ledger last verified batches under them, readable from
/// any thread. Only a hint: the ledger compares the key with the registry before it trusts a
/// signature checked under it, and checks again if they differ.
public final class DeviceKeys: Sendable {
    private let keys = Mutex<[RegistryState.DeviceKey: Curve25519.Signing.PublicKey]>([:])

    public init() {}

    public subscript(device: RegistryState.DeviceKey) -> Curve25519.Signing.PublicKey? {
        get { keys.withLock { $0[device] } }
        set { keys.withLock { $0[device] = newValue } }
    }
}
