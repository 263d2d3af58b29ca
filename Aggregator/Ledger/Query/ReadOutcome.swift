/// What a requester's fetch found, as `agritrace fetch` records it on the ledger
/// (`recordRead`). The raw value is the spelling in the wire record and the state table.
///
/// Closed: only the CLI produces it. What the ledger holds is read back as the open
/// ``ProvenanceStatus`` (a read record carries its outcome as the requester's string).
public enum ReadOutcome: String, Sendable, Hashable, CaseIterable, Codable {
    /// Every value verified against the ledger.
    case verified
    /// A value did not verify.
    case mismatch
}
