#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// GS1 EPCIS 2.0 JSON-LD mapping of records, for exports to systems that speak EPCIS.
///
/// A processing record becomes a `TransformationEvent` (its input lots in
/// `inputQuantityList`, its lot in `outputQuantityList`); every other stage an `ObjectEvent`
/// on its lot. The stage sets the CBV 2.0 `bizStep` and `disposition` (``mapping(of:)``), the
/// device is the `readPoint` and the enterprise the `bizLocation`, each named by
/// ``GS1Identifiers``. Only public fields leave: they travel under the `agritrace:`
/// namespace with the level commitments and the record's ledger anchor, so a receiver can
/// ask for an inclusion proof. Sensor series appear in `sensorElementList` only when their
/// values are given (the owner's own export, or a verified disclosure).
public enum EPCIS {
    /// The JSON-LD context of EPCIS 2.0.
    public static let contextURL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
    /// The namespace of AgriTrace's extension fields (prefix `agritrace:`).
    public static let namespace = "https://agritrace.example/voc/"
    /// The value of the `GS1-EPCIS-Version` header and of `schemaVersion`.
    public static let version = "2.0"

    /// How one stage appears in EPCIS.
    public struct StageMapping: Sendable, Hashable {
        /// `ObjectEvent` or `TransformationEvent`.
        public var eventType: String
        /// `ADD` or `OBSERVE` for object events; nil for transformations.
        public var action: String?
        /// The CBV 2.0 business step (bare word, as the EPCIS 2.0 JSON-LD context allows).
        public var bizStep: String
        /// The CBV 2.0 disposition.
        public var disposition: String
    }

    /// The event type, action, CBV business step and disposition of a stage.
    public static func mapping(of stage: Stage) -> StageMapping {
        switch stage {
        case .breeding, .planting:
            StageMapping(eventType: "ObjectEvent", action: "ADD", bizStep: "commissioning", disposition: "active")
        case .processing:
            StageMapping(eventType: "TransformationEvent", action: nil, bizStep: "commissioning", disposition: "active")
        case .warehousing:
            StageMapping(
                eventType: "ObjectEvent", action: "OBSERVE", bizStep: "storing", disposition: "sellable_not_accessible")
        case .transport:
            StageMapping(eventType: "ObjectEvent", action: "OBSERVE", bizStep: "shipping", disposition: "in_transit")
        case .sales:
            StageMapping(
                eventType: "ObjectEvent", action: "OBSERVE", bizStep: "retail_selling", disposition: "retail_sold")
        }
    }

    /// Where a record is on the ledger: enough to ask for and check its inclusion proof.
    public struct Anchor: Sendable, Hashable {
        public var leafIndex: UInt64
        /// The block holding the record, and that block's signed tree head (size and root).
        public var blockHeight: UInt64
        public var treeSize: UInt64
        public var rootHash: Digest32

        public init(leafIndex: UInt64, blockHeight: UInt64, treeSize: UInt64, rootHash: Digest32) {
            self.leafIndex = leafIndex
            self.blockHeight = blockHeight
            self.treeSize = treeSize
            self.rootHash = rootHash
        }
    }

    /// Who made a lot and of what product: names input lots of other enterprises.
    public struct LotOrigin: Sendable, Hashable {
        public var enterprise: String
        public var product: String

        public init(enterprise: String, product: String) {
            self.enterprise = enterprise
            self.product = product
        }
    }

    /// The stable `eventID` of a record's event: its record id, which the device derives from
    /// its enterprise, its id and its sequence number (``RecordID/derive(enterprise:device:sequence:)``).
    public static func eventID(of id: RecordID) -> String { "urn:agritrace:event:\(id.hex)" }

    /// The record id in an `eventID`, if it is one of ours.
    public static func recordID(ofEvent eventID: String) -> RecordID? {
        let prefix = "urn:agritrace:event:"
        guard eventID.hasPrefix(prefix) else { return nil }
        return RecordID(hex: String(eventID.dropFirst(prefix.count)))
    }

    /// A correction on the ledger (`correctRecord`, docs/governance.md): the superseded
    /// record's event carries an EPCIS `errorDeclaration` (`incorrect_data`) whose
    /// `correctiveEventIDs` name the correcting event; the correcting event names what it
    /// corrects in `agritrace:correction`.
    public struct Correction: Sendable, Hashable {
        /// When the correction was ordered (its block time).
        public var declarationTime: Timestamp
        public var reason: String
        /// The record that supersedes this one, if it is superseded.
        public var supersededBy: RecordID?
        /// The record this one corrects, if it is a correction.
        public var supersedes: RecordID?

        public init(declarationTime: Timestamp, reason: String, supersededBy: RecordID?, supersedes: RecordID?) {
            self.declarationTime = declarationTime
            self.reason = reason
            self.supersededBy = supersededBy
            self.supersedes = supersedes
        }
    }

    /// What an event is built from.
    public struct Source: Sendable {
        public var record: Record
        public var anchor: Anchor?
        /// Private values the exporter holds and may export (e.g. a series), from its own vault.
        public var disclosed: [FieldEntry]
        /// The record's correction on the ledger, if any.
        public var correction: Correction?

        public init(record: Record, anchor: Anchor?, disclosed: [FieldEntry] = [], correction: Correction? = nil) {
            self.record = record
            self.anchor = anchor
            self.disclosed = disclosed
            self.correction = correction
        }
    }

    /// One EPCIS event as a JSON object.
    /// - Parameters:
    ///   - source: the record, its ledger anchor and any disclosed values.
    ///   - identifiers: how lots, locations and read points are named.
    ///   - origins: who made each input lot (an input lot without an origin is named as the record's enterprise's).
    /// - Throws: ``ExportError`` when GS1 identifiers are required and one is not configured.
    public static func event(
        _ source: Source, identifiers: GS1Identifiers = GS1Identifiers(), origins: [String: LotOrigin] = [:]
    ) throws(ExportError) -> JSONOutput {
        let record = source.record
        let mapping = mapping(of: record.stage)
        var event: [String: JSONOutput] = [
            "type": .string(mapping.eventType),
            "eventTime": .string(record.time.iso8601), "eventTimeZoneOffset": .string("+00:00"),
            "recordTime": .string(record.recordedAt.iso8601), "eventID": .string(eventID(of: record.id)),
            "bizStep": .string(mapping.bizStep), "disposition": .string(mapping.disposition),
            "readPoint": .object([
                "id": .string(try identifiers.readPoint(record.device, enterprise: record.enterprise))
            ]),
            "bizLocation": .object(["id": .string(try identifiers.location(record.enterprise))]),
        ]
        let output = JSONOutput.object([
            "epcClass": .string(try identifiers.lot(record.lot, product: record.product, enterprise: record.enterprise))
        ])
        var inputs: [JSONOutput] = []
        for lot in record.inputLots {
            let origin = origins[lot] ?? LotOrigin(enterprise: record.enterprise, product: record.product)
            inputs.append(
                .object([
                    "epcClass": .string(
                        try identifiers.lot(lot, product: origin.product, enterprise: origin.enterprise))
                ]))
        }
        if let action = mapping.action {
            event["action"] = .string(action)
            event["quantityList"] = .array([output])
            if !inputs.isEmpty { event["agritrace:inputLots"] = .array(inputs.map { $0.member("epcClass") }) }
        } else {
            event["transformationID"] = .string("urn:agritrace:transformation:\(record.id.hex)")
            if !inputs.isEmpty { event["inputQuantityList"] = .array(inputs) }
            event["outputQuantityList"] = .array([output])
        }
        for (key, value) in extensions(of: source) { event[key] = value }
        if let correction = source.correction {
            for (key, value) in members(of: correction) { event[key] = value }
        }
        let sensors = try sensorElements(source, identifiers: identifiers)
        if !sensors.isEmpty { event["sensorElementList"] = .array(sensors) }
        return .object(event)
    }

    /// A correction's members: `errorDeclaration` on a superseded event, and
    /// `agritrace:correction` (the reason, and the event it supersedes or is superseded by).
    static func members(of correction: Correction) -> [String: JSONOutput] {
        var members: [String: JSONOutput] = [:]
        var detail: [String: JSONOutput] = ["reason": .string(correction.reason)]
        if let by = correction.supersededBy {
            members["errorDeclaration"] = .object([
                "declarationTime": .string(correction.declarationTime.iso8601), "reason": .string("incorrect_data"),
                "correctiveEventIDs": .array([.string(eventID(of: by))]),
            ])
            detail["supersededBy"] = .string(eventID(of: by))
        }
        if let old = correction.supersedes { detail["supersedes"] = .string(eventID(of: old)) }
        members["agritrace:correction"] = .object(detail)
        return members
    }

    /// The `agritrace:` members: stage, lot, product, public fields, commitments, ledger anchor.
    static func extensions(of source: Source) -> [String: JSONOutput] {
        let record = source.record
        var fields: [String: JSONOutput] = [:]
        for entry in record.publicFields { fields[entry.key] = JSONOutput(entry.value) }
        var commitments: [String: JSONOutput] = [:]
        for (name, level) in [("level-2", record.level2), ("level-1", record.level1)] {
            guard let level else { continue }
            commitments[name] = .object(["root": .string(level.root.hex), "fields": .number(Double(level.fieldCount))])
        }
        var result: [String: JSONOutput] = [
            "agritrace:stage": .string(record.stage.rawValue), "agritrace:lot": .string(record.lot),
            "agritrace:product": .string(record.product), "agritrace:enterprise": .string(record.enterprise),
            "agritrace:publicFields": .object(fields), "agritrace:commitments": .object(commitments),
            "agritrace:clockTrusted": .bool(record.clockTrusted),
        ]
        var ledger: [String: JSONOutput] = ["recordID": .string(record.id.hex)]
        if let anchor = source.anchor {
            ledger["leafIndex"] = .number(Double(anchor.leafIndex))
            ledger["blockHeight"] = .number(Double(anchor.blockHeight))
            ledger["treeSize"] = .number(Double(anchor.treeSize))
            ledger["rootHash"] = .string(anchor.rootHash.hex)
        }
        result["agritrace:ledger"] = .object(ledger)
        return result
    }

    /// The disclosed series as sensor elements, with CBV types and UN/CEFACT units.
    static func sensorElements(_ source: Source, identifiers: GS1Identifiers) throws(ExportError) -> [JSONOutput] {
        let record = source.record
        var elements: [JSONOutput] = []
        for entry in source.disclosed.canonicallySorted() {
            guard case .series(let samples) = entry.value, !samples.isEmpty else { continue }
            var reports: [JSONOutput] = []
            for sample in samples {
                guard let normal = SensorMeasurement.normalised(sample) else {
                    throw ExportError(
                        value: "\(entry.key) of record \(record.id.hex): \"\(sample.type)\" in \"\(sample.unit)\"",
                        problem: "is not a CBV measurement type with a UN/CEFACT unit",
                        fix: "re-record the reading with a known type and unit (docs/reading-format.md)")
                }
                reports.append(
                    .object([
                        "type": .string(normal.type), "value": .number(normal.value), "uom": .string(normal.unit),
                        "time": .string(normal.time.iso8601),
                    ]))
            }
            let device = try identifiers.readPoint(record.source ?? record.device, enterprise: record.enterprise)
            elements.append(
                .object([
                    "sensorMetadata": .object([
                        "deviceID": .string(device),
                        "startTime": .string(samples.map(\.time).min()!.iso8601),
                        "endTime": .string(samples.map(\.time).max()!.iso8601),
                        "agritrace:field": .string(entry.key),
                    ]),
                    "sensorReport": .array(reports),
                ]))
        }
        return elements
    }

    /// An `EPCISDocument` holding `events` (from ``event(_:identifiers:origins:)``).
    public static func document(events: [JSONOutput], createdAt: Timestamp) -> JSONOutput {
        .object([
            "@context": context,
            "type": .string("EPCISDocument"),
            "schemaVersion": .string(version),
            "creationDate": .string(createdAt.iso8601),
            "epcisBody": .object(["eventList": .array(events)]),
        ])
    }

    /// The standard context plus the `agritrace:` prefix.
    public static var context: JSONOutput {
        .array([.string(contextURL), .object(["agritrace": .string(namespace)])])
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

    /// The member `key` of an object (`.null` otherwise).
    public func member(_ key: String) -> JSONOutput {
        guard case .object(let members) = self else { return .null }
        return members[key] ?? .null
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
