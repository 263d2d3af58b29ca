import AgriTraceCore

/// The status of a blob reference on the ledger (stored as the raw value).
public enum BlobStatus: String, Sendable, Hashable, CaseIterable {
    case stored
    case refused
}

/// What the blob-reference contract reads of the world state.
public protocol BlobReferenceStateView {
    /// The device that uploaded the record `recordID`, or nil when it is not on the ledger.
    func recordDevice(_ recordID: RecordID) throws -> RegistryState.DeviceKey?
    /// The id of the stored blob of `recordID` at `level`, or nil.
    func storedBlob(_ recordID: RecordID, level: PrivacyLevel) throws -> Digest32?
}

/// The blob-reference contract: a device says where the sealed private values of one of its
/// records are. Stored when the record is on the ledger, is the device's own and has no blob
/// at this level yet; refused (and recorded as refused) otherwise.
public enum BlobReferences {
    /// The `blobs` row: the reference and the contract's verdict.
    public struct Outcome: Sendable, Hashable {
        public var reference: BlobReference
        public var status: BlobStatus
        /// Why it was refused (nil when stored).
        public var reason: String?
    }

    public static func apply(_ reference: BlobReference, view: some BlobReferenceStateView) throws -> Outcome {
        func refused(_ reason: String) -> Outcome { Outcome(reference: reference, status: .refused, reason: reason) }
        guard let device = try view.recordDevice(reference.recordID) else {
            return refused("record \(reference.recordID) is not on the ledger")
        }
        guard device.enterprise == reference.enterprise, device.device == reference.device else {
            return refused("record \(reference.recordID) belongs to another device")
        }
        if let stored = try view.storedBlob(reference.recordID, level: reference.level) {
            return refused(
                stored == reference.blobID
                    ? "duplicate: blob \(reference.blobID) is already stored"
                    : "record \(reference.recordID) already has a \(reference.level.rawValue) blob")
        }
        return Outcome(reference: reference, status: .stored, reason: nil)
    }
}
