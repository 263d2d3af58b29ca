/// An AND-gate access policy over subject, object, environment and action attributes
/// (domain reference §2), written by a data owner.
///
/// Every attribute is either a required value or the wildcard `*`. Policies only grant:
/// access is denied unless some policy permits it, and a blacklist entry overrides any permit
/// (see ``PolicyDecision``).
public struct AccessPolicy: Hashable, Sendable {
    /// One attribute condition: a required value, or any value.
    public enum Condition<Value: Hashable & Sendable>: Hashable, Sendable {
        case any
        case equals(Value)

        /// Whether `value` satisfies the condition.
        public func matches(_ value: Value) -> Bool {
            switch self {
            case .any: true
            case .equals(let required): required == value
            }
        }
    }

    /// The policy's id, unique per owner.
    public var id: String
    public var subjectEnterprise: Condition<String>
    public var subjectRole: Condition<ABAC.Role>
    public var subjectStage: Condition<Stage>
    public var subjectCategory: Condition<String>
    public var objectProduct: Condition<String>
    public var objectLot: Condition<String>
    public var objectStage: Condition<Stage>
    public var objectLevel: Condition<ABAC.Sensitivity>
    /// The request source: matched against the request's region or its address.
    public var source: Condition<String>
    /// The daily time window, or nil for any time.
    public var window: TimeWindow?
    /// The actions granted.
    public var actions: Set<ABAC.Action>

    public init(
        id: String,
        subjectEnterprise: Condition<String>, subjectRole: Condition<ABAC.Role>, subjectStage: Condition<Stage>,
        subjectCategory: Condition<String>, objectProduct: Condition<String>, objectLot: Condition<String>,
        objectStage: Condition<Stage>, objectLevel: Condition<ABAC.Sensitivity>, source: Condition<String>,
        window: TimeWindow?, actions: Set<ABAC.Action>
    ) {
        self.id = id
        self.subjectEnterprise = subjectEnterprise
        self.subjectRole = subjectRole
        self.subjectStage = subjectStage
        self.subjectCategory = subjectCategory
        self.objectProduct = objectProduct
        self.objectLot = objectLot
        self.objectStage = objectStage
        self.objectLevel = objectLevel
        self.source = source
        self.window = window
        self.actions = actions
    }

    /// Whether the policy grants `request` (ignoring any blacklist).
    public func permits(_ request: ABAC.Request) -> Bool {
        subjectEnterprise.matches(request.subject.enterprise)
            && subjectRole.matches(request.subject.role)
            && subjectStage.matches(request.subject.stage)
            && subjectCategory.matches(request.subject.productCategory)
            && objectProduct.matches(request.object.productType)
            && objectLot.matches(request.object.lot)
            && objectStage.matches(request.object.stage)
            && objectLevel.matches(request.object.sensitivity)
            && (source.matches(request.region) || source.matches(request.sourceAddress))
            && (window?.contains(request.time) ?? true)
            && actions.contains(request.action)
    }
}

/// A daily time window in a fixed UTC offset, e.g. 08:00-12:00 at +08:00 (Beijing).
public struct TimeWindow: Hashable, Sendable, CustomStringConvertible {
    /// Start, inclusive.
    public var start: ABAC.TimeOfDay
    /// End, exclusive. A window whose end is before its start wraps past midnight.
    public var end: ABAC.TimeOfDay
    /// The offset from UTC in minutes of the zone the times are in.
    public var utcOffsetMinutes: Int

    public init(start: ABAC.TimeOfDay, end: ABAC.TimeOfDay, utcOffsetMinutes: Int = 0) {
        self.start = start
        self.end = end
        self.utcOffsetMinutes = utcOffsetMinutes
    }

    /// The local time of day of `time` in this window's zone.
    public func timeOfDay(_ time: Timestamp) -> ABAC.TimeOfDay {
        let minutesPerDay: Int64 = 24 * 60
        let local = time.milliseconds.floorDivided(by: 60_000) + Int64(utcOffsetMinutes)
        let minute = Int(((local % minutesPerDay) + minutesPerDay) % minutesPerDay)
        return ABAC.TimeOfDay(hour: minute / 60, minute: minute % 60)
    }

    /// Whether `time` falls in the window.
    public func contains(_ time: Timestamp) -> Bool {
        let now = timeOfDay(time)
        if start <= end { return start <= now && now < end }
        return now >= start || now < end
    }

    public var description: String {
        let sign = utcOffsetMinutes < 0 ? "-" : "+"
        let offset = abs(utcOffsetMinutes)
        let hours = offset / 60, minutes = offset % 60
        return "\(start)-\(end) UTC\(sign)\(hours < 10 ? "0" : "")\(hours):\(minutes < 10 ? "0" : "")\(minutes)"
    }
}

extension Int64 {
    /// Division rounding toward negative infinity.
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
