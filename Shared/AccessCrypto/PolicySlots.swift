import AgriTraceCore

/// The fixed slot layout that maps an ``AgriTraceCore/AccessPolicy`` to the hidden vector of
/// ``ABSE``: its nine attribute conditions, in this order. The time window and the action
/// set are not equality conditions and stay with the policy-decision contract.
public enum PolicySlots {
    /// Slot names, in slot order.
    public static let names = [
        "subject.enterprise", "subject.role", "subject.stage", "subject.category",
        "object.product", "object.lot", "object.stage", "object.level", "environment.source",
    ]

    /// Number of slots (9).
    public static var count: Int { names.count }

    /// The policy's conditions in slot order, nil for a wildcard.
    public static func conditions(of policy: AccessPolicy) -> [String?] {
        func c<V>(_ x: AccessPolicy.Condition<V>, _ f: (V) -> String) -> String? {
            switch x {
            case .any: nil
            case .equals(let v): f(v)
            }
        }
        return [
            c(policy.subjectEnterprise) { $0 }, c(policy.subjectRole) { $0.rawValue },
            c(policy.subjectStage) { $0.rawValue }, c(policy.subjectCategory) { $0 },
            c(policy.objectProduct) { $0 }, c(policy.objectLot) { $0 },
            c(policy.objectStage) { $0.rawValue }, c(policy.objectLevel) { $0.rawValue },
            c(policy.source) { $0 },
        ]
    }

    /// A request's attribute values in slot order (the source slot takes the attested region).
    public static func attributes(of request: ABAC.Request) -> [String] {
        [
            request.subject.enterprise, request.subject.role.rawValue, request.subject.stage.rawValue,
            request.subject.productCategory, request.object.productType, request.object.lot,
            request.object.stage.rawValue, request.object.sensitivity.rawValue, request.region,
        ]
    }
}
