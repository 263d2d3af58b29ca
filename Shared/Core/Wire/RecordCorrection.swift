/// `correctRecord`: an enterprise declares that one of its records on the ledger supersedes an
/// earlier one of the same lot (docs/governance.md, "Corrections"). Both records stay on the
/// ledger; the superseded one is marked in `trace` and the exports.
///
/// The correcting record is an ordinary record, signed by its device in a batch; this
/// transaction, signed by the enterprise's principal, links the two. Record bytes (the hot
/// path) are unchanged.
public struct RecordCorrection: Hashable, Sendable, CanonicalCodable {
    /// The record being corrected (it stays on the ledger, marked superseded).
    public var superseded: RecordID
    /// The record that replaces it: same lot, same enterprise, later on the ledger.
    public var correction: RecordID
    /// Why (1 to 512 printable bytes), e.g. "temperature probe miscalibrated".
    public var reason: String

    public init(superseded: RecordID, correction: RecordID, reason: String) {
        self.superseded = superseded
        self.correction = correction
        self.reason = reason
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(superseded, correction, reason)
    }

    public init(from reader: inout CanonicalReader) throws {
        superseded = try reader.read(RecordID.self)
        correction = try reader.read(RecordID.self)
        reason = try reader.readString("reason")
    }
}
