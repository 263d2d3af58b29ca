extension SharingEdge {
    /// What the contract made of an edge's transaction, spelled as in the contracts' state
    /// tables (the raw value is what the loader reads and the CLI and API print).
    ///
    /// Open: a read's outcome is the requester's own word (`recordRead` carries it as a
    /// string), so a spelling this build does not know is kept as ``other(_:)``.
    public enum Outcome: RawRepresentable, Hashable, Sendable, Codable {
        /// A request the contract took (it waits for the regulator's match).
        case submitted
        /// A request refused at once, or a match that denied it.
        case denied
        /// A match that granted the request.
        case granted
        /// A transfer the owner delivered.
        case delivered
        /// A transfer the owner refused.
        case refused
        /// A transfer the contract refused (`refused-by-contract`).
        case refusedByContract
        /// A read whose every value verified against the ledger.
        case verified
        /// A read that found a value that did not verify.
        case mismatch
        /// A grant the owner revoked.
        case revoked
        /// An outcome this build does not know, as it was spelled.
        case other(String)

        /// The outcomes this build knows (every case but ``other(_:)``).
        public static let known: [Outcome] = [
            .submitted, .denied, .granted, .delivered, .refused, .refusedByContract, .verified, .mismatch, .revoked,
        ]

        /// The outcome spelled `rawValue`: a known case, or ``other(_:)``. Never fails.
        /// Outcomes compare by their spelling (`.other("granted")` is `.granted`).
        public init(rawValue: String) {
            self = Self.known.first { $0.rawValue == rawValue } ?? .other(rawValue)
        }

        /// The spelling in the state tables and in output.
        public var rawValue: String {
            switch self {
            case .submitted: "submitted"
            case .denied: "denied"
            case .granted: "granted"
            case .delivered: "delivered"
            case .refused: "refused"
            case .refusedByContract: "refused-by-contract"
            case .verified: "verified"
            case .mismatch: "mismatch"
            case .revoked: "revoked"
            case .other(let spelling): spelling
            }
        }
    }
}
