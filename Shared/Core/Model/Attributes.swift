/// Attribute-based access control vocabulary (domain reference §2).
///
/// A policy reads: a subject with these attributes, under these environment conditions, may
/// perform this action on an object with these attributes. Policies are AND-gates.
public enum ABAC {
    /// The roles by stage.
    public enum Role: String, CaseIterable, Sendable, Codable {
        case breedingWorker = "breeding-worker"
        case breedingExpert = "breeding-expert"
        case planter
        case farmAdministrator = "farm-administrator"
        case processingWorker = "processing-worker"
        case processingAdministrator = "processing-administrator"
        case warehouseAdministrator = "warehouse-administrator"
        case storekeeper
        case driver
        case logisticsAdministrator = "logistics-administrator"
        case salesperson
        case supermarketAdministrator = "supermarket-administrator"

        /// The stage the role works in.
        public var stage: Stage {
            switch self {
            case .breedingWorker, .breedingExpert: .breeding
            case .planter, .farmAdministrator: .planting
            case .processingWorker, .processingAdministrator: .processing
            case .warehouseAdministrator, .storekeeper: .warehousing
            case .driver, .logisticsAdministrator: .transport
            case .salesperson, .supermarketAdministrator: .sales
            }
        }

        /// The roles of one stage.
        public static func roles(of stage: Stage) -> [Role] { allCases.filter { $0.stage == stage } }
    }

    /// What a subject wants to do.
    public enum Action: String, CaseIterable, Sendable, Codable {
        case read, write, edit, copy, delete
    }

    /// The private levels a policy can protect.
    public enum Sensitivity: String, CaseIterable, Sendable, Codable {
        case level2 = "level-2"
        case level1 = "level-1"

        public var privacyLevel: PrivacyLevel { self == .level2 ? .level2 : .level1 }
    }

    /// Who asks.
    public struct Subject: Hashable, Sendable, Codable {
        public var enterprise: String
        public var role: Role
        public var stage: Stage
        public var productCategory: String
    }

    /// What is asked for.
    public struct Object: Hashable, Sendable, Codable {
        public var productType: String
        public var lot: String
        public var stage: Stage
        public var sensitivity: Sensitivity
    }

    /// A time of day, minutes since midnight (in the policy's time zone).
    public struct TimeOfDay: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
        public var minutes: Int

        public init(hour: Int, minute: Int = 0) {
            precondition((0..<24).contains(hour) && (0..<60).contains(minute), "time of day out of range")
            minutes = hour * 60 + minute
        }

        public static func < (lhs: TimeOfDay, rhs: TimeOfDay) -> Bool { lhs.minutes < rhs.minutes }

        public var description: String {
            let hour = minutes / 60, minute = minutes % 60
            return (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
        }
    }

    /// One access request in standard (XACML-style) form.
    public struct Request: Hashable, Sendable, Codable {
        public var subject: Subject
        public var object: Object
        /// The network address the request came from (what the punishment contract blocks).
        public var sourceAddress: String
        /// The region the edge node attests for the request, e.g. `Beijing`.
        public var region: String
        /// When the request is made (block time on the ledger).
        public var time: Timestamp
        public var action: Action
    }
}
