/// Where a record's sealed upload for the owner stands in the agent store (`blob_uploads.status`,
/// stored and printed as the raw value).
public enum BlobUploadStatus: String, Sendable, Hashable, CaseIterable {
    /// Sealed and waiting for the aggregator's acknowledgement.
    case pending
    /// The aggregator stored it.
    case uploaded
    /// The aggregator refused it.
    case refused
    /// The record has no private values: nothing to upload.
    case none
}
