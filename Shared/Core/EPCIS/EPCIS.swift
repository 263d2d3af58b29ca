#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// GS1 EPCIS 2.0 JSON(-LD) mapping of records, for exports to systems that speak EPCIS.
///
/// A record becomes an `ObjectEvent` (or a `TransformationEvent` when it consumes input lots):
/// the lot is a class-level identifier in `quantityList` / `outputQuantityList`, the stage sets
/// `bizStep` and `disposition`, the device is the `readPoint` and the enterprise the
/// `bizLocation`. Public fields and the level commitments travel under the `agritrace:`
/// namespace. Sensor series appear in `sensorElementList` only when their values are given
/// (the owner's own export, or a verified disclosure): a public export never holds private values.
public enum EPCIS {
    /// The JSON-LD context of EPCIS 2.0, plus the AgriTrace namespace.
    public static let contextURL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
    public static let namespace = "https://agritrace.example/voc/"

    /// How identifiers are formed.
    public struct Naming: Sendable, Hashable {
        /// Prefix of lot identifiers; the enterprise and lot follow, separated by `:`.
        public var lotPrefix: String
        /// Prefix of location (enterprise) identifiers.
        public var locationPrefix: String
        /// Prefix of device (read point) identifiers.
        public var devicePrefix: String

        public init(
            lotPrefix: String = "urn:agritrace:lot:", locationPrefix: String = "urn:agritrace:enterprise:",
            devicePrefix: String = "urn:agritrace:device:"
        ) {
            self.lotPrefix = lotPrefix
            self.locationPrefix = locationPrefix
            self.devicePrefix = devicePrefix
        }

        func lot(_ enterprise: String, _ lot: String) -> String { "\(lotPrefix)\(enterprise):\(lot)" }
    }

    /// The CBV business step of a stage.
    public static func bizStep(of stage: Stage) -> String {
        switch stage {
        case .breeding, .planting: "commissioning"
        case .processing: "transforming"
        case .warehousing: "storing"
        case .transport: "transporting"
        case .sales: "retail_selling"
        }
    }

    /// The CBV disposition of a stage.
    public static func disposition(of stage: Stage) -> String {
        switch stage {
        case .breeding, .planting, .processing: "active"
        case .warehousing: "in_progress"
        case .transport: "in_transit"
        case .sales: "retail_sold"
        }
    }

    /// One EPCIS event as a JSON object.
    /// - Parameters:
    ///   - record: the record.
    ///   - disclosed: private field values the caller holds and may export (e.g. a series).
    ///   - naming: identifier prefixes.
    public static func event(for record: Record, disclosed: [FieldEntry] = [], naming: Naming = Naming()) -> JSONOutput
    {
        var event: [String: JSONOutput] = [:]
        let time = JSONOutput.string(record.time.iso8601)
        event["eventTime"] = time
        event["eventTimeZoneOffset"] = .string("+00:00")
        event["recordTime"] = .string(record.recordedAt.iso8601)
        event["eventID"] = .string("urn:agritrace:record:\(record.id.hex)")
        event["bizStep"] = .string(bizStep(of: record.stage))
        event["disposition"] = .string(disposition(of: record.stage))
        event["readPoint"] = .object(["id": .string(naming.devicePrefix + record.enterprise + ":" + record.device)])
        event["bizLocation"] = .object(["id": .string(naming.locationPrefix + record.enterprise)])
        let lotClass = JSONOutput.object(["epcClass": .string(naming.lot(record.enterprise, record.lot))])
        if record.inputLots.isEmpty {
            event["type"] = .string("ObjectEvent")
            event["action"] = .string(record.stage <= .planting ? "ADD" : "OBSERVE")
            event["epcList"] = .array([])
            event["quantityList"] = .array([lotClass])
        } else {
            event["type"] = .string("TransformationEvent")
            event["transformationID"] = .string("urn:agritrace:transformation:\(record.id.hex)")
            event["inputQuantityList"] = .array(
                record.inputLots.map { .object(["epcClass": .string(naming.lot(record.enterprise, $0))]) })
            event["outputQuantityList"] = .array([lotClass])
        }

        var fields: [String: JSONOutput] = [:]
        for entry in record.publicFields { fields[entry.key] = JSONOutput(entry.value) }
        event["agritrace:stage"] = .string(record.stage.rawValue)
        event["agritrace:product"] = .string(record.product)
        event["agritrace:publicFields"] = .object(fields)
        event["agritrace:sequence"] = .number(Double(record.sequence))
        event["agritrace:clockTrusted"] = .bool(record.clockTrusted)
        if let level2 = record.level2 { event["agritrace:level2Commitment"] = .string(level2.root.hex) }
        if let level1 = record.level1 { event["agritrace:level1Commitment"] = .string(level1.root.hex) }

        var sensorElements: [JSONOutput] = []
        for entry in disclosed.canonicallySorted() {
            guard case .series(let samples) = entry.value, !samples.isEmpty else { continue }
            let reports: [JSONOutput] = samples.map { sample in
                .object([
                    "type": .string("gs1:\(sample.type)"), "value": .number(sample.value),
                    "uom": .string(sample.unit), "time": .string(sample.time.iso8601),
                ])
            }
            sensorElements.append(
                .object([
                    "sensorMetadata": .object([
                        "deviceID": .string(
                            naming.devicePrefix + record.enterprise + ":" + (record.source ?? record.device)),
                        "startTime": .string(samples.map(\.time).min()!.iso8601),
                        "endTime": .string(samples.map(\.time).max()!.iso8601),
                        "agritrace:field": .string(entry.key),
                    ]),
                    "sensorReport": .array(reports),
                ]))
        }
        if !sensorElements.isEmpty { event["sensorElementList"] = .array(sensorElements) }
        return .object(event)
    }

    /// An `EPCISDocument` holding events for `records`.
    public static func document(for records: [Record], createdAt: Timestamp, naming: Naming = Naming()) -> JSONOutput {
        .object([
            "@context": .array([.string(contextURL), .object(["agritrace": .string(namespace)])]),
            "type": .string("EPCISDocument"),
            "schemaVersion": .string("2.0"),
            "creationDate": .string(createdAt.iso8601),
            "epcisBody": .object(["eventList": .array(records.map { event(for: $0, naming: naming) })]),
        ])
    }
}

/// A JSON value for output, encoded with sorted keys so exports are reproducible.
public indirect enum JSONOutput: Hashable, Sendable, Encodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONOutput])
    case object([String: JSONOutput])

    /// The JSON form of a field value.
    public init(_ value: FieldValue) {
        switch value {
        case .text(let text): self = .string(text)
        case .number(let number): self = .number(number)
        case .time(let time): self = .string(time.iso8601)
        case .bool(let flag): self = .bool(flag)
        case .series(let samples):
            self = .array(
                samples.map {
                    .object([
                        "time": .string($0.time.iso8601), "type": .string($0.type), "value": .number($0.value),
                        "unit": .string($0.unit),
                    ])
                })
        case .track(let fixes):
            self = .array(
                fixes.map {
                    .object([
                        "time": .string($0.time.iso8601), "lat": .number($0.latitude), "lon": .number($0.longitude),
                    ])
                })
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let flag): try container.encode(flag)
        case .number(let number):
            if number == number.rounded(), abs(number) < 1e15 {
                try container.encode(Int64(number))
            } else {
                try container.encode(number)
            }
        case .string(let text): try container.encode(text)
        case .array(let items): try container.encode(items)
        case .object(let members): try container.encode(members)
        }
    }

    /// The UTF-8 JSON text, keys sorted.
    public func jsonBytes(pretty: Bool = false) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data("null".utf8))
    }

    /// The JSON text, keys sorted.
    public func jsonString(pretty: Bool = false) -> String {
        String(decoding: jsonBytes(pretty: pretty), as: UTF8.self)
    }
}
