import AgriTraceCore

/// What a queued submission holds: the kind of signed transaction its body is. The queue
/// stores it beside the body, so `serve` decodes each body once, as its kind, instead of
/// trying one decoder after another.
public enum SubmissionKind: Int64, Sendable, CaseIterable {
    /// `Signed<RegistryTransaction>` (devices and principals).
    case registry = 1
    /// `Signed<AccessTransaction>` (the access-control and transfer contracts).
    case access = 2
    /// `Signed<BlobReference>` (a device's sealed upload, queued by the blob service).
    case blob = 3

    /// The kind of a body queued before the queue recorded kinds (migration 5): the one
    /// place that still tells the kinds apart by decoding. Nil when no kind decodes.
    static func ofLegacyBody(_ body: [UInt8]) -> SubmissionKind? {
        if (try? Canonical.decode(Signed<AccessTransaction>.self, from: body)) != nil { return .access }
        if (try? Canonical.decode(Signed<BlobReference>.self, from: body)) != nil { return .blob }
        if (try? Canonical.decode(Signed<RegistryTransaction>.self, from: body)) != nil { return .registry }
        return nil
    }
}

/// Where a submission is: waiting for `serve`, in a block, or refused by admission.
/// The raw values are the queue's column and the API's and CLI's spelling.
public enum SubmissionStatus: String, Sendable, Codable, CaseIterable {
    case pending
    case applied
    case refused
}

/// A transaction that may be queued for `serve`, and the kind it is queued as.
public protocol SubmittableTransaction: CanonicalCodable, Sendable {
    static var submissionKind: SubmissionKind { get }
}

extension AccessTransaction: SubmittableTransaction {
    public static var submissionKind: SubmissionKind { .access }
}

extension RegistryTransaction: SubmittableTransaction {
    public static var submissionKind: SubmissionKind { .registry }
}

extension BlobReference: SubmittableTransaction {
    public static var submissionKind: SubmissionKind { .blob }
}
