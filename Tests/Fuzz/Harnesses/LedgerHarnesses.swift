import AgriTraceCore
import Foundation
import Ingest
import Ledger
import LedgerCore

/// The aggregator's decoders of outside bytes: the batch decoder `serve` runs on every MQTT
/// payload, and the saved proofs and tree heads `agritrace verify-proof` reads.
extension FuzzHarnesses {
    static let batchTopic = Wire.recordTopic(enterprise: "FARM1", device: "box-1")
    static let deviceKeys: DeviceKeys = {
        let keys = DeviceKeys()
        keys[RegistryState.DeviceKey(enterprise: "FARM1", device: "box-1")] = FuzzFixtures.device.publicKey
        return keys
    }()

    /// `CheckedBatch(topic:payload:keys:)` as `serve` calls it on a payload of `FARM1/box-1`'s record topic, against
    /// `Canonical.decode(Signed<RecordBatch>)` (differential): the same bytes accepted, the
    /// same batch, the log entries and leaf hashes of the records' canonical bytes, the same
    /// underived ids, and the signature checked on the received slices as on the re-encoding.
    static func batch(_ bytes: [UInt8]) throws(Violation) -> Outcome {
        let checked = CheckedBatch(topic: batchTopic, payload: bytes, keys: deviceKeys)
        let reference = try? Canonical.decode(Signed<RecordBatch>.self, from: bytes)
        guard let decoded = checked.decodedBatch else {
            guard reference == nil else { throw Violation("ingest refused a batch Canonical.decode accepts") }
            return .refused
        }
        guard let reference else { throw Violation("ingest accepted a batch Canonical.decode refuses") }
        guard decoded == reference, Canonical.encode(decoded) == bytes else {
            throw Violation("ingest decoded another batch than Canonical.decode, or not from its encoding")
        }
        let records = decoded.value.records
        let entries = records.map { Canonical.encode(LogEntry.record($0)) }
        guard checked.logEntries == entries, checked.logLeafHashes == entries.map({ MerkleTree.leafHash($0) }) else {
            throw Violation("ingest's log entries are not the records' canonical entries")
        }
        let underived = records.indices.filter {
            records[$0].id
                != RecordID.derive(
                    enterprise: records[$0].enterprise, device: records[$0].device, sequence: records[$0].sequence)
        }
        guard checked.underivedRecordPositions == underived else { throw Violation("underived ids differ") }
        let fromDevice = decoded.value.enterprise == "FARM1" && decoded.value.device == "box-1"
        let valid = fromDevice && decoded.isValid(domain: .recordBatch, key: FuzzFixtures.device.publicKey)
        guard checked.signatureVerified == valid else {
            throw Violation("ingest's signature check (\(checked.signatureVerified)) is not Signed.isValid (\(valid))")
        }
        return .accepted
    }

    /// A saved inclusion proof as `verify-proof` reads it (JSON, then the readable fields
    /// against the signed ones, then the proof under the authority key). What decodes must
    /// survive encode and decode unchanged; a proof that verifies must be of a leaf the
    /// authority logged, against a tree head it signed, showing only signed values.
    static func proof(_ bytes: [UInt8]) throws(Violation) -> Outcome {
        guard let proof = try? JSONDecoder().decode(SavedInclusionProof.self, from: Data(bytes)) else {
            return .refused
        }
        try roundTrips(proof)
        guard proof.treeHead.unsignedFieldDisagreement() == nil,
            let verified = try? proof.verify(authority: FuzzFixtures.authority.publicKey)
        else { return .refused }
        let (record, header) = verified
        let index = Int(exactly: proof.leafIndex) ?? -1
        guard FuzzFixtures.entries.indices.contains(index),
            [UInt8](hexString: proof.entry) == FuzzFixtures.entries[index],
            record == FuzzFixtures.records[index], proof.leafIndex < header.logSize
        else { throw Violation("a proof verified for a leaf the authority never logged: \(proof)") }
        try checkSigned(proof.treeHead, shows: header)
        return .accepted
    }

    /// A saved tree head as `verify-proof --tree-head` and `consistency` read it: what decodes
    /// survives encode and decode; one that verifies is a head the authority signed, and shows
    /// only its signed values.
    static func treeHead(_ bytes: [UInt8]) throws(Violation) -> Outcome {
        guard let head = try? JSONDecoder().decode(SavedTreeHead.self, from: Data(bytes)) else { return .refused }
        try roundTrips(head)
        guard head.unsignedFieldDisagreement() == nil,
            let signed = try? head.verified(authority: FuzzFixtures.authority.publicKey)
        else { return .refused }
        try checkSigned(head, shows: signed.value)
        return .accepted
    }

    /// A verified tree head must be one the authority signed, its readable fields its signed ones.
    static func checkSigned(_ head: SavedTreeHead, shows header: BlockHeader) throws(Violation) {
        guard FuzzFixtures.signedHeaders.contains(Canonical.encode(header)) else {
            throw Violation("a tree head verified that the authority never signed: \(head.signedHeader)")
        }
        guard head.height == header.height, head.logSize == header.logSize, head.logRoot == header.logRoot.hex,
            head.time == header.time.iso8601
        else { throw Violation("a verified tree head shows unsigned values: \(head)") }
    }

    /// JSON that decodes must encode and decode to the same value.
    static func roundTrips<Value: Codable & Equatable>(_ value: Value) throws(Violation) {
        let again = (try? JSONEncoder().encode(value)).flatMap { try? JSONDecoder().decode(Value.self, from: $0) }
        guard again == value else { throw Violation("\(Value.self) does not survive encode and decode: \(value)") }
    }
}
