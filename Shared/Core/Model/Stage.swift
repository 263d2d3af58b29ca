/// The six supply-chain stages (domain reference §1).
public enum Stage: String, CaseIterable, Sendable, Codable, Comparable {
    case breeding
    case planting
    case processing
    case warehousing
    case transport
    case sales

    /// The order of the stage along the chain, from breeding (0) to sales (5).
    public var ordinal: UInt8 {
        switch self {
        case .breeding: 0
        case .planting: 1
        case .processing: 2
        case .warehousing: 3
        case .transport: 4
        case .sales: 5
        }
    }

    /// A human label.
    public var label: String {
        switch self {
        case .breeding: "Breeding"
        case .planting: "Planting"
        case .processing: "Processing"
        case .warehousing: "Warehousing"
        case .transport: "Transport (logistics)"
        case .sales: "Sales"
        }
    }

    public static func < (lhs: Stage, rhs: Stage) -> Bool { lhs.ordinal < rhs.ordinal }

    /// Parses a stage name, accepting `logistics` for `transport`.
    public init?(name: String) {
        let lowered = name.lowercased()
        if lowered == "logistics" {
            self = .transport
        } else if let stage = Stage(rawValue: lowered) {
            self = stage
        } else {
            return nil
        }
    }
}

extension Stage: CanonicalCodable {
    public func encode(to writer: inout CanonicalWriter) { writer.write(ordinal) }

    public init(from reader: inout CanonicalReader) throws {
        let tag = try reader.readUInt8("stage")
        guard let stage = Stage.allCases.first(where: { $0.ordinal == tag }) else {
            throw Canonical.DecodingError.invalidTag(tag, context: "stage")
        }
        self = stage
    }
}

/// How private a field is (domain reference §1).
public enum PrivacyLevel: String, CaseIterable, Sendable, Codable, Comparable {
    /// Used in the clear for day-to-day traceability; stored on the ledger as is.
    case `public`
    /// Business value shared for cooperation and supervision; only a commitment is on the ledger.
    case level2 = "level-2"
    /// Core secrets; only a commitment is on the ledger, visible to the owner and its grantees.
    case level1 = "level-1"

    /// 0 for public, 2 for level-2, 1 for level-1 (the number the domain uses).
    public var number: UInt8 {
        switch self {
        case .public: 0
        case .level2: 2
        case .level1: 1
        }
    }

    /// Sensitivity rank: public < level-2 < level-1.
    public var rank: Int {
        switch self {
        case .public: 0
        case .level2: 1
        case .level1: 2
        }
    }

    public static func < (lhs: PrivacyLevel, rhs: PrivacyLevel) -> Bool { lhs.rank < rhs.rank }

    /// Parses `public`, `level-2`/`level2`/`2`, `level-1`/`level1`/`1`.
    public init?(name: String) {
        switch name.lowercased() {
        case "public", "0": self = .public
        case "level-2", "level2", "l2", "2": self = .level2
        case "level-1", "level1", "l1", "1": self = .level1
        default: return nil
        }
    }
}

extension PrivacyLevel: CanonicalCodable {
    public func encode(to writer: inout CanonicalWriter) { writer.write(number) }

    public init(from reader: inout CanonicalReader) throws {
        switch try reader.readUInt8("privacy level") {
        case 0: self = .public
        case 1: self = .level1
        case 2: self = .level2
        case let tag: throw Canonical.DecodingError.invalidTag(tag, context: "privacy level")
        }
    }
}
