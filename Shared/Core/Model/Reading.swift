#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One reading as a device or a program on the edge box reports it, before classification.
///
/// The JSON-lines format is documented in `docs/reading-format.md`.
public struct Reading: Hashable, Sendable {
    /// The supply-chain stage the reading belongs to.
    public var stage: Stage
    /// The lot (batch) id the reading is about, e.g. `PL-2026-0001`.
    public var lot: String
    /// The product, e.g. `fresh corn`.
    public var product: String
    /// The sensor or program that produced the reading, if it is not the box itself.
    public var device: String?
    /// When the reading was observed.
    public var time: Timestamp
    /// The lots this lot was made from or carries (processing consumes planting lots, ...).
    public var inputLots: [String]
    /// Field values keyed by the catalog's full key (`planting.cost_price`).
    public var fields: [String: FieldValue]

    public init(
        stage: Stage,
        lot: String,
        product: String,
        device: String? = nil,
        time: Timestamp,
        inputLots: [String] = [],
        fields: [String: FieldValue]
    ) {
        self.stage = stage
        self.lot = lot
        self.product = product
        self.device = device
        self.time = time
        self.inputLots = inputLots
        self.fields = fields
    }
}

/// Why a reading was refused: names the field, the stage and the fix.
public struct ReadingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of problem (stored and printed as the raw value).
    public enum Kind: String, Sendable, Hashable, Codable {
        case malformedJSON = "malformed-json"
        case missingField = "missing-field"
        case unknownStage = "unknown-stage"
        case unknownField = "unknown-field"
        case wrongType = "wrong-type"
        case invalidValue = "invalid-value"
        case oversize = "oversize"
    }

    public var kind: Kind
    /// The offending field (`lot`, `fields.cost_price`, ...), if one is to blame.
    public var field: String?
    /// The stage of the reading, when it could be read.
    public var stage: String?
    /// What is wrong.
    public var reason: String
    /// What to do about it.
    public var fix: String

    public init(kind: Kind, field: String?, stage: String?, reason: String, fix: String) {
        self.kind = kind
        self.field = field
        self.stage = stage
        self.reason = reason
        self.fix = fix
    }

    public var description: String {
        var parts: [String] = []
        if let field { parts.append("field \"\(field)\"") }
        if let stage { parts.append("stage \(stage)") }
        let subject = parts.isEmpty ? "reading" : parts.joined(separator: ", ")
        return "\(subject): \(reason); fix: \(fix)"
    }
}

/// A JSON value as parsed from a reading line (numbers as `Double`).
public enum JSONValue: Hashable, Sendable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let array = try? container.decode([JSONValue].self) {
            self = .array(array)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// A short name of the JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

extension Reading {
    /// The longest lot, product or device id accepted.
    public static let maximumIdentifierLength = 128

    /// Parses and validates one JSON line against a catalog.
    /// - Parameters:
    ///   - line: the UTF-8 bytes of one JSON object.
    ///   - catalog: the field catalog (standard plus site fields).
    /// - Throws: ``ReadingError`` naming the field, the stage and the fix.
    public static func parse(jsonLine line: some Collection<UInt8>, catalog: FieldCatalog = .standard)
        throws(ReadingError) -> Reading
    {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(line))
        } catch {
            throw ReadingError(
                kind: .malformedJSON, field: nil, stage: nil,
                reason: "the line is not valid JSON",
                fix:
                    "write one JSON object per line, e.g. {\"stage\":\"planting\",\"lot\":\"PL-1\",\"product\":\"fresh corn\",\"time\":\"2026-05-01T08:00:00Z\",\"fields\":{}}"
            )
        }
        return try parse(json: value, catalog: catalog)
    }

    /// Validates a parsed JSON object against a catalog.
    public static func parse(json: JSONValue, catalog: FieldCatalog = .standard) throws(ReadingError) -> Reading {
        guard case .object(let object) = json else {
            throw ReadingError(
                kind: .malformedJSON, field: nil, stage: nil, reason: "the line is \(json.typeName), not an object",
                fix: "write one JSON object per line")
        }
        let stage = try parseStage(object["stage"])
        let stageText = stage.rawValue
        let lot = try identifier("lot", in: object, required: true, stage: stageText)!
        let product = try identifier("product", in: object, required: true, stage: stageText)!
        let device = try identifier("device", in: object, required: false, stage: stageText)
        guard let timeValue = object["time"] else {
            throw ReadingError(
                kind: .missingField, field: "time", stage: stageText, reason: "the reading has no time",
                fix: "add \"time\": \(FieldKind.time.expectation)")
        }
        let time = try parseTime(timeValue, field: "time", stage: stageText)
        let inputLots = try parseInputs(object["inputs"], stage: stageText)
        try checkAttributes(of: object, stage: stageText)
        let fields = try parseFields(object["fields"], catalog: catalog, stage: stage)
        return Reading(
            stage: stage, lot: lot, product: product, device: device, time: time, inputLots: inputLots, fields: fields)
    }

    /// The reading's `stage`, present and one of the stages.
    static func parseStage(_ stageValue: JSONValue?) throws(ReadingError) -> Stage {
        guard let stageValue else {
            throw ReadingError(
                kind: .missingField, field: "stage", stage: nil, reason: "the reading has no stage",
                fix: "add \"stage\": one of \(Stage.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard case .string(let stageName) = stageValue, let stage = Stage(name: stageName) else {
            throw ReadingError(
                kind: .unknownStage, field: "stage", stage: nil, reason: "\(stageValue.displayForError) is not a stage",
                fix: "use one of \(Stage.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return stage
    }

    /// The identifier attribute `name` (`lot`, `product`, `device`): nil only when absent and not required.
    static func identifier(_ name: String, in object: [String: JSONValue], required: Bool, stage: String)
        throws(ReadingError) -> String?
    {
        guard let raw = object[name] else {
            if !required { return nil }
            throw ReadingError(
                kind: .missingField, field: name, stage: stage, reason: "the reading has no \(name) id",
                fix: "add \"\(name)\": a non-empty string of at most \(maximumIdentifierLength) characters")
        }
        guard case .string(let text) = raw else {
            throw ReadingError(
                kind: .wrongType, field: name, stage: stage, reason: "\(name) is \(raw.typeName)",
                fix: "give \(name) as a JSON string")
        }
        try checkIdentifier(text, field: name, stage: stage)
        return text
    }

    /// The input lots of a transformation (`inputs`, optional): an array of lot ids.
    static func parseInputs(_ inputs: JSONValue?, stage: String) throws(ReadingError) -> [String] {
        guard let inputs else { return [] }
        guard case .array(let items) = inputs else {
            throw ReadingError(
                kind: .wrongType, field: "inputs", stage: stage, reason: "inputs is \(inputs.typeName)",
                fix: "give inputs as an array of lot ids, e.g. [\"PL-1\"]")
        }
        var inputLots: [String] = []
        for (index, item) in items.enumerated() {
            guard case .string(let text) = item else {
                throw ReadingError(
                    kind: .wrongType, field: "inputs[\(index)]", stage: stage,
                    reason: "input lot is \(item.typeName)", fix: "give each input lot id as a string")
            }
            try checkIdentifier(text, field: "inputs[\(index)]", stage: stage)
            inputLots.append(text)
        }
        return inputLots
    }

    /// Refuses a top-level attribute that is not one of the reading's.
    static func checkAttributes(of object: [String: JSONValue], stage: String) throws(ReadingError) {
        let known: Set<String> = ["stage", "lot", "product", "device", "time", "inputs", "fields"]
        if let extra = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw ReadingError(
                kind: .unknownField, field: extra, stage: stage, reason: "\(extra) is not a reading attribute",
                fix:
                    "put catalog fields inside \"fields\"; top-level attributes are \(known.sorted().joined(separator: ", "))"
            )
        }
    }

    /// The catalog fields of `stage` (`fields`, optional), each checked against its definition.
    static func parseFields(_ fieldsValue: JSONValue?, catalog: FieldCatalog, stage: Stage) throws(ReadingError)
        -> [String: FieldValue]
    {
        guard let fieldsValue else { return [:] }
        let stageText = stage.rawValue
        guard case .object(let fieldObject) = fieldsValue else {
            throw ReadingError(
                kind: .wrongType, field: "fields", stage: stageText, reason: "fields is \(fieldsValue.typeName)",
                fix: "give fields as an object of catalog field names to values")
        }
        var fields: [String: FieldValue] = [:]
        for name in fieldObject.keys.sorted() {
            let raw = fieldObject[name]!
            guard let definition = catalog.field(name, in: stage) else {
                let names = catalog.fields(of: stage).map(\.name)
                let suggestion = names.min { editDistance($0, name) < editDistance($1, name) }
                let hint = suggestion.map { " (did you mean \"\($0)\"?)" } ?? ""
                throw ReadingError(
                    kind: .unknownField, field: "fields.\(name)", stage: stageText,
                    reason: "\(name) is not a \(stageText) field in the catalog\(hint)",
                    fix:
                        "use a catalog field of stage \(stageText) (agritrace-agent catalog --stage \(stageText)), or declare a site field with its privacy level in the agent configuration"
                )
            }
            fields[definition.key] = try parseValue(raw, definition: definition, stage: stageText)
        }
        return fields
    }

    static func checkIdentifier(_ text: String, field: String, stage: String) throws(ReadingError) {
        if text.isEmpty || text.utf8.count > maximumIdentifierLength
            || text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        {
            throw ReadingError(
                kind: .invalidValue, field: field, stage: stage,
                reason: "\(field) must be 1 to \(maximumIdentifierLength) bytes with no control characters",
                fix: "give a short printable id such as \"PL-2026-0001\"")
        }
    }

    static func parseTime(_ value: JSONValue, field: String, stage: String) throws(ReadingError) -> Timestamp {
        switch value {
        case .string(let text):
            if let time = Timestamp(iso8601: text) { return time }
            throw ReadingError(
                kind: .invalidValue, field: field, stage: stage, reason: "\"\(text)\" is not an ISO 8601 date-time",
                fix: "give \(FieldKind.time.expectation)")
        case .number(let number) where number == number.rounded() && abs(number) < 9e15:
            return Timestamp(milliseconds: Int64(number))
        default:
            throw ReadingError(
                kind: .wrongType, field: field, stage: stage, reason: "\(field) is \(value.typeName)",
                fix: "give \(FieldKind.time.expectation)")
        }
    }

    static func parseValue(_ raw: JSONValue, definition: FieldDefinition, stage: String) throws(ReadingError)
        -> FieldValue
    {
        let field = "fields.\(definition.name)"
        switch (definition.kind, raw) {
        case (.text, .string(let text)):
            return .text(text)
        case (.number, .number(let number)):
            return .number(number)
        case (.bool, .bool(let flag)):
            return .bool(flag)
        case (.time, _):
            return .time(try parseTime(raw, field: field, stage: stage))
        case (.series, .array(let items)):
            return .series(try parseSeries(items, definition: definition, stage: stage))
        case (.track, .array(let items)):
            return .track(try parseTrack(items, definition: definition, stage: stage))
        default:
            throw ReadingError(
                kind: .wrongType, field: field, stage: stage,
                reason: "\(definition.name) is \(raw.typeName), but it holds \(definition.kind.rawValue)",
                fix: "give \(definition.kind.expectation)")
        }
    }
}

extension Reading {
    /// A `series` field's samples, each normalised to its CBV type and unit.
    static func parseSeries(_ items: [JSONValue], definition: FieldDefinition, stage: String) throws(ReadingError)
        -> [SensorSample]
    {
        let field = "fields.\(definition.name)"
        var samples: [SensorSample] = []
        samples.reserveCapacity(items.count)
        var normaliser = SensorMeasurement.SeriesNormaliser()
        for (index, item) in items.enumerated() {
            guard case .object(let sample) = item,
                let timeValue = sample["time"], case .string(let type)? = sample["type"],
                case .number(let value)? = sample["value"], case .string(let unit)? = sample["unit"]
            else {
                throw malformedElement(
                    "sample \(index)", of: definition, shape: #"{"time", "type", "value", "unit"}"#, stage: stage)
            }
            let given = SensorSample(
                time: try parseTime(timeValue, field: "\(field)[\(index)].time", stage: stage), type: type,
                value: value, unit: unit)
            guard let normalised = normaliser.normalised(given) else {
                throw SensorMeasurement.error(given, field: "\(field)[\(index)]", stage: stage)
            }
            samples.append(normalised)
        }
        return samples
    }

    /// The error for an element of a series or track that is not an object of the expected keys.
    static func malformedElement(_ element: String, of definition: FieldDefinition, shape: String, stage: String)
        -> ReadingError
    {
        ReadingError(
            kind: .wrongType, field: "fields.\(definition.name)", stage: stage,
            reason: "\(element) of \(definition.name) is not \(shape)", fix: "give \(definition.kind.expectation)")
    }

    /// A `track` field's positions, each on the globe.
    static func parseTrack(_ items: [JSONValue], definition: FieldDefinition, stage: String) throws(ReadingError)
        -> [GeoSample]
    {
        let field = "fields.\(definition.name)"
        var fixes: [GeoSample] = []
        fixes.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            guard case .object(let fix) = item, let timeValue = fix["time"],
                case .number(let latitude)? = fix["lat"], case .number(let longitude)? = fix["lon"]
            else {
                throw malformedElement(
                    "position \(index)", of: definition, shape: #"{"time", "lat", "lon"}"#, stage: stage)
            }
            guard (-90...90).contains(latitude), (-180...180).contains(longitude) else {
                throw ReadingError(
                    kind: .invalidValue, field: "\(field)[\(index)]", stage: stage,
                    reason: "position (\(latitude), \(longitude)) is off the globe",
                    fix: "give latitude in -90...90 and longitude in -180...180 degrees")
            }
            fixes.append(
                GeoSample(
                    time: try parseTime(timeValue, field: "\(field)[\(index)].time", stage: stage),
                    latitude: latitude, longitude: longitude))
        }
        return fixes
    }
}

extension JSONValue {
    var displayForError: String {
        switch self {
        case .string(let text): "\"\(text)\""
        default: typeName
        }
    }
}

/// Levenshtein distance, for "did you mean" hints.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.utf8), b = Array(b.utf8)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
