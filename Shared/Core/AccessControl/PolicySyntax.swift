/// The readable text syntax of access policies.
///
/// ```
/// # A planting enterprise shares level-2 data of one lot with a processor in Beijing
/// policy corn-processing-read
///   subject.enterprise = ZS123
///   subject.role       = processing-administrator
///   subject.stage      = processing
///   subject.category   = fresh corn
///   object.product     = fresh corn
///   object.lot         = 20240203A001
///   object.stage       = planting
///   object.level       = level-2
///   environment.source = Beijing
///   environment.time   = 08:00-12:00 +08:00
///   action             = read
/// ```
///
/// Every attribute must be written; `*` means any value. `environment.time` is `*` or
/// `HH:MM-HH:MM` with an optional UTC offset (`+08:00`, default `+00:00`). `action` is a
/// comma-separated list. A file may hold several policies; `#` starts a comment.
public enum PolicySyntax {
    /// A syntax or validation error, with the line, the attribute and the fix.
    public struct Error: Swift.Error, Hashable, Sendable, CustomStringConvertible {
        public var line: Int
        public var attribute: String?
        public var reason: String
        public var fix: String

        public var description: String {
            "line \(line)\(attribute.map { ", \($0)" } ?? ""): \(reason); fix: \(fix)"
        }
    }

    /// Every attribute a policy must state, in the order they are written.
    public static let attributes = [
        "subject.enterprise", "subject.role", "subject.stage", "subject.category",
        "object.product", "object.lot", "object.stage", "object.level",
        "environment.source", "environment.time", "action",
    ]

    /// Parses and validates policies.
    /// - Throws: ``Error`` naming the line, the attribute and the fix.
    public static func parse(_ text: String) throws(Error) -> [AccessPolicy] {
        var policies: [AccessPolicy] = []
        var current: (id: String, line: Int, values: [String: (String, Int)])?
        var seenIDs: Set<String> = []

        func finish() throws(Error) {
            guard let block = current else { return }
            policies.append(try build(id: block.id, line: block.line, values: block.values))
            current = nil
        }

        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.trimmingWhitespace()
            if trimmed.isEmpty { continue }
            if trimmed.hasPrefix("policy ") || trimmed == "policy" {
                try finish()
                let id = try policyID(trimmed, line: number)
                guard seenIDs.insert(id).inserted else {
                    throw Error(
                        line: number, attribute: nil, reason: "policy id \(id) is used twice",
                        fix: "give each policy its own id")
                }
                current = (id, number, [:])
                continue
            }
            guard current != nil else {
                throw Error(
                    line: number, attribute: nil, reason: "an attribute before any policy line",
                    fix: "start each policy with a line `policy <id>`")
            }
            let (name, value) = try attribute(trimmed, line: number)
            guard current!.values[name] == nil else {
                throw Error(
                    line: number, attribute: name, reason: "\(name) is given twice",
                    fix: "policies are AND-gates of single values: write one policy per alternative")
            }
            current!.values[name] = (value, number)
        }
        try finish()
        return policies
    }

    /// The id of a `policy <id>` line: letters, digits, `-`, `_` and `.`.
    static func policyID(_ trimmed: String, line number: Int) throws(Error) -> String {
        let id = trimmed.dropFirst("policy".count).trimmingWhitespace()
        guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw Error(
                line: number, attribute: nil, reason: "policy id \"\(id)\" is empty or has spaces or symbols",
                fix: "name the policy with letters, digits, '-', '_' or '.', e.g. policy corn-processing-read")
        }
        return id
    }

    /// The name and value of an `attribute = value` line, the name one of ``attributes``.
    static func attribute(_ trimmed: String, line number: Int) throws(Error) -> (name: String, value: String) {
        guard let equals = trimmed.firstIndex(of: "=") else {
            throw Error(
                line: number, attribute: nil, reason: "\"\(trimmed)\" is not `attribute = value`",
                fix: "write one `attribute = value` per line")
        }
        let name = trimmed[..<equals].trimmingWhitespace()
        let value = trimmed[trimmed.index(after: equals)...].trimmingWhitespace()
        guard attributes.contains(name) else {
            let suggestion = attributes.min { editDistance($0, name) < editDistance($1, name) } ?? ""
            throw Error(
                line: number, attribute: name, reason: "\(name) is not a policy attribute",
                fix: "use one of \(attributes.joined(separator: ", ")) (did you mean \(suggestion)?)")
        }
        guard !value.isEmpty else {
            throw Error(line: number, attribute: name, reason: "no value", fix: "give a value, or * for any")
        }
        return (name, value)
    }

    static func build(id: String, line: Int, values: [String: (String, Int)]) throws(Error) -> AccessPolicy {
        if let missing = attributes.first(where: { values[$0] == nil }) {
            throw Error(
                line: line, attribute: missing, reason: "policy \(id) does not state \(missing)",
                fix: "add `\(missing) = <value>`, or `\(missing) = *` to allow any value")
        }
        func text(_ name: String) -> AccessPolicy.Condition<String> {
            let value = values[name]!.0
            return value == "*" ? .any : .equals(value)
        }
        func parsed<T>(_ name: String, _ options: String, _ parse: (String) -> T?) throws(Error)
            -> AccessPolicy.Condition<T>
        {
            let (value, number) = values[name]!
            if value == "*" { return .any }
            guard let result = parse(value) else {
                throw Error(
                    line: number, attribute: name, reason: "\"\(value)\" is not valid here",
                    fix: "use one of \(options), or *")
            }
            return .equals(result)
        }
        let stages = Stage.allCases.map(\.rawValue).joined(separator: ", ")
        let roles = ABAC.Role.allCases.map(\.rawValue).joined(separator: ", ")
        let subjectRole = try parsed("subject.role", roles) { ABAC.Role(rawValue: $0) }
        let subjectStage = try parsed("subject.stage", stages) { Stage(name: $0) }
        if case .equals(let role) = subjectRole, case .equals(let stage) = subjectStage, role.stage != stage {
            throw Error(
                line: values["subject.role"]!.1, attribute: "subject.role",
                reason: "role \(role.rawValue) works in stage \(role.stage.rawValue), not \(stage.rawValue)",
                fix:
                    "use a role of stage \(stage.rawValue): \(ABAC.Role.roles(of: stage).map(\.rawValue).joined(separator: ", "))"
            )
        }
        let window = try window(values["environment.time"]!)
        let actions = try actions(values["action"]!)
        return AccessPolicy(
            id: id,
            subjectEnterprise: text("subject.enterprise"), subjectRole: subjectRole, subjectStage: subjectStage,
            subjectCategory: text("subject.category"), objectProduct: text("object.product"),
            objectLot: text("object.lot"),
            objectStage: try parsed("object.stage", stages) { Stage(name: $0) },
            objectLevel: try parsed("object.level", "level-2, level-1") {
                ABAC.Sensitivity(rawValue: $0)
                    ?? (PrivacyLevel(name: $0) == .level2 ? .level2 : PrivacyLevel(name: $0) == .level1 ? .level1 : nil)
            },
            source: text("environment.source"), window: window, actions: actions)
    }

    /// The `environment.time` value: `*` (nil) or a time window.
    static func window(_ given: (text: String, line: Int)) throws(Error) -> TimeWindow? {
        if given.text == "*" { return nil }
        guard let window = parseWindow(given.text) else {
            throw Error(
                line: given.line, attribute: "environment.time", reason: "\"\(given.text)\" is not a time window",
                fix: "write HH:MM-HH:MM with an optional UTC offset, e.g. 08:00-12:00 +08:00, or *")
        }
        return window
    }

    /// The `action` value: `*` (every action) or a comma-separated list.
    static func actions(_ given: (text: String, line: Int)) throws(Error) -> Set<ABAC.Action> {
        if given.text == "*" { return Set(ABAC.Action.allCases) }
        var actions: Set<ABAC.Action> = []
        for item in given.text.split(separator: ",") {
            let name = item.trimmingWhitespace()
            guard let action = ABAC.Action(rawValue: name) else {
                throw Error(
                    line: given.line, attribute: "action", reason: "\"\(name)\" is not an action",
                    fix: "use read, write, edit, copy, delete (comma-separated), or *")
            }
            actions.insert(action)
        }
        return actions
    }

    /// Parses `HH:MM-HH:MM [±HH:MM]`.
    static func parseWindow(_ text: String) -> TimeWindow? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 1 || parts.count == 2 else { return nil }
        let range = parts[0].split(separator: "-")
        guard range.count == 2, let start = parseTime(range[0]), let end = parseTime(range[1]), start != end else {
            return nil
        }
        var offset = 0
        if parts.count == 2 {
            let zone = parts[1]
            guard let sign = zone.first, sign == "+" || sign == "-", let time = parseTime(zone.dropFirst()) else {
                return nil
            }
            offset = (sign == "-" ? -1 : 1) * time.minutes
            guard abs(offset) <= 14 * 60 else { return nil }
        }
        return TimeWindow(start: start, end: end, utcOffsetMinutes: offset)
    }

    static func parseTime(_ text: Substring) -> ABAC.TimeOfDay? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
            let hour = Int(parts[0]), let minute = Int(parts[1]), (0..<24).contains(hour), (0..<60).contains(minute)
        else { return nil }
        return ABAC.TimeOfDay(hour: hour, minute: minute)
    }

    /// Writes policies back in the text syntax (parsing the output gives the same policies).
    public static func format(_ policies: [AccessPolicy]) -> String {
        policies.map { policy in
            func show<T>(_ condition: AccessPolicy.Condition<T>, _ render: (T) -> String) -> String {
                switch condition {
                case .any: "*"
                case .equals(let value): render(value)
                }
            }
            let window =
                policy.window.map { window -> String in
                    let sign = window.utcOffsetMinutes < 0 ? "-" : "+"
                    let offset = ABAC.TimeOfDay(
                        hour: abs(window.utcOffsetMinutes) / 60, minute: abs(window.utcOffsetMinutes) % 60)
                    return "\(window.start)-\(window.end) \(sign)\(offset)"
                } ?? "*"
            let actions =
                policy.actions.count == ABAC.Action.allCases.count
                ? "*" : ABAC.Action.allCases.filter(policy.actions.contains).map(\.rawValue).joined(separator: ", ")
            return """
                policy \(policy.id)
                  subject.enterprise = \(show(policy.subjectEnterprise) { $0 })
                  subject.role       = \(show(policy.subjectRole) { $0.rawValue })
                  subject.stage      = \(show(policy.subjectStage) { $0.rawValue })
                  subject.category   = \(show(policy.subjectCategory) { $0 })
                  object.product     = \(show(policy.objectProduct) { $0 })
                  object.lot         = \(show(policy.objectLot) { $0 })
                  object.stage       = \(show(policy.objectStage) { $0.rawValue })
                  object.level       = \(show(policy.objectLevel) { $0.rawValue })
                  environment.source = \(show(policy.source) { $0 })
                  environment.time   = \(window)
                  action             = \(actions)

                """
        }.joined(separator: "\n")
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(
            drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed().drop(while: {
                $0 == " " || $0 == "\t" || $0 == "\r"
            }).reversed())
    }
}
