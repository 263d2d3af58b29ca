import AgriTraceCore
import LedgerCore

/// What became of one provenance event (``ProvenanceRow/status``): the redemption's, the
/// transfer's, the read's or the revocation's outcome. The raw value is what the CLI and the
/// API print.
///
/// Open: a read's outcome is the requester's own word (`recordRead` carries it as a string),
/// so a spelling this build does not know is kept as ``other(_:)``.
public enum ProvenanceStatus: RawRepresentable, Hashable, Sendable, Codable {
    /// A redemption the contract accepted (it waits for the owner's transfer).
    case accepted
    /// A redemption the contract refused, or a transfer the owner refused.
    case refused
    /// A transfer the owner delivered.
    case delivered
    /// A transfer the contract refused (`refused by contract`).
    case refusedByContract
    /// A read whose every value verified (``ReadOutcome/verified``).
    case verified
    /// A read that found a value that did not verify (``ReadOutcome/mismatch``).
    case mismatch
    /// The owner revoked the grant.
    case revoked
    /// A status this build does not know, as it was spelled.
    case other(String)

    /// The statuses this build knows (every case but ``other(_:)``).
    public static let known: [ProvenanceStatus] = [
        .accepted, .refused, .delivered, .refusedByContract, .verified, .mismatch, .revoked,
    ]

    /// The status spelled `rawValue`: a known case, or ``other(_:)``. Never fails. Statuses
    /// compare by their spelling (`.other("revoked")` is `.revoked`).
    public init(rawValue: String) {
        self = Self.known.first { $0.rawValue == rawValue } ?? .other(rawValue)
    }

    /// The spelling the provenance query selects and the CLI and API print.
    public var rawValue: String {
        switch self {
        case .accepted: EventOutcome.accepted.rawValue
        case .refused: TransferStatus.refused.rawValue
        case .delivered: TransferStatus.delivered.rawValue
        case .refusedByContract: "refused by contract"
        case .verified: ReadOutcome.verified.rawValue
        case .mismatch: ReadOutcome.mismatch.rawValue
        case .revoked: "revoked"
        case .other(let spelling): spelling
        }
    }
}
