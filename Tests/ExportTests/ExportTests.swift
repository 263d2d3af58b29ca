import AgriTraceCore
import Exports
import Foundation
import Ledger
import TestSupport
import Testing

/// `agritrace export epcis` of the example chain: the built CLI over a real ledger store,
/// the document checked against the official GS1 EPCIS 2.0 JSON Schema and the ledger.
@Suite("EPCIS 2.0 export", .serialized, .timeLimit(.minutes(3)))
struct EPCISExportTests {
    static var digitalLink: Regex<Substring> { #/^https://id\.gs1\.org/01/\d{14}/10/[A-Za-z0-9\-._~%]+$/# }
    static var glnLink: Regex<Substring> { #/^https://id\.gs1\.org/414/\d{13}$/# }

    func export(_ chain: ExampleChain, _ arguments: [String], file: String) throws -> [String: Any] {
        let output = chain.directory.file(file)
        try runCommand(
            try builtProduct(named: "agritrace"),
            ["export", "epcis"] + arguments + ["--store", chain.path, "--output", output])
        let data = try Data(contentsOf: URL(fileURLWithPath: output))
        return try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func events(_ document: [String: Any]) throws -> [[String: Any]] {
        let body = try #require(document["epcisBody"] as? [String: Any])
        return try #require(body["eventList"] as? [[String: Any]])
    }

    @Test func exampleChainWithGS1KeysValidatesAndCarriesCBVAndAnchors() throws {
        let chain = try ExampleChain()
        let site = try ExampleChain.siteFile(in: chain.directory)
        let document = try export(
            chain, ["SA-2026-5521", "--backward", "--gs1-site", site, "--require-gs1"], file: "chain.json")
        let verdict = try SchemaValidator.validate(chain.directory.file("chain.json"))
        #expect(verdict.valid, "\(verdict.report)")
        #expect(document["type"] as? String == "EPCISDocument" && document["schemaVersion"] as? String == "2.0")
        let context = try #require(document["@context"] as? [Any])
        #expect(context.first as? String == "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld")

        let events = try Self.events(document)
        let stages = events.compactMap { $0["agritrace:stage"] as? String }
        #expect(stages == Stage.allCases.map(\.rawValue))
        let expected: [String: (String, String, String)] = [
            "breeding": ("ObjectEvent", "commissioning", "active"),
            "planting": ("ObjectEvent", "commissioning", "active"),
            "processing": ("TransformationEvent", "commissioning", "active"),
            "warehousing": ("ObjectEvent", "storing", "sellable_not_accessible"),
            "transport": ("ObjectEvent", "shipping", "in_transit"),
            "sales": ("ObjectEvent", "retail_selling", "retail_sold"),
        ]
        for event in events {
            let stage = event["agritrace:stage"] as? String ?? ""
            let want = try #require(expected[stage])
            #expect(event["type"] as? String == want.0 && event["bizStep"] as? String == want.1)
            #expect(event["disposition"] as? String == want.2, "\(stage)")
            let location = (event["bizLocation"] as? [String: Any])?["id"] as? String ?? ""
            let readPoint = (event["readPoint"] as? [String: Any])?["id"] as? String ?? ""
            #expect(location.wholeMatch(of: Self.glnLink) != nil && readPoint.wholeMatch(of: Self.glnLink) != nil)
        }
        try checkTransformation(events, chain: chain)
        try checkAnchors(events, chain: chain)
        let text = try String(contentsOfFile: chain.directory.file("chain.json"), encoding: .utf8)
        for secret in ["Li Wei", "1830.5", "Zhang Lei", "SL-2026-112", "Chaoyang store", "1150"] {
            #expect(!text.contains(secret), "private value \(secret) left the ledger")
        }
    }

    /// Processing is a TransformationEvent from the planting lot (FARM1's GTIN) to its own lot (ZS123's).
    func checkTransformation(_ events: [[String: Any]], chain: ExampleChain) throws {
        let processing = try #require(events.first { $0["agritrace:stage"] as? String == "processing" })
        let inputs = try #require(processing["inputQuantityList"] as? [[String: Any]])
        let outputs = try #require(processing["outputQuantityList"] as? [[String: Any]])
        let farmGTIN = ExampleChain.key("0614142", item: 7, digits: 14)
        let plantGTIN = ExampleChain.key("0614143", item: 7, digits: 14)
        #expect(
            inputs.compactMap { $0["epcClass"] as? String } == ["https://id.gs1.org/01/\(farmGTIN)/10/PL-2026-0417"])
        #expect(
            outputs.compactMap { $0["epcClass"] as? String } == ["https://id.gs1.org/01/\(plantGTIN)/10/PR-2026-0042"])
        let planting = try #require(events.first { $0["agritrace:stage"] as? String == "planting" })
        let harvested = try #require((planting["quantityList"] as? [[String: Any]])?.first?["epcClass"] as? String)
        #expect(harvested == (inputs.first?["epcClass"] as? String), "the input is the lot the planting event made")
        for event in events {
            let lists = ["quantityList", "inputQuantityList", "outputQuantityList"].compactMap {
                event[$0] as? [[String: Any]]
            }
            for epc in lists.joined().compactMap({ $0["epcClass"] as? String }) {
                #expect(epc.wholeMatch(of: Self.digitalLink) != nil, "\(epc)")
            }
        }
    }

    /// Each event names its record, leaf and the tree head of its block, as the ledger has them.
    func checkAnchors(_ events: [[String: Any]], chain: ExampleChain) throws {
        let traced = try LedgerQueries(store: chain.ledger.store).trace(lot: "SA-2026-5521", direction: .backward)
        #expect(traced.count == events.count)
        for (item, event) in zip(traced, events) {
            let anchor = try #require(event["agritrace:ledger"] as? [String: Any])
            #expect(anchor["recordID"] as? String == item.record.id.hex)
            #expect(event["eventID"] as? String == "urn:agritrace:event:\(item.record.id.hex)")
            #expect((anchor["leafIndex"] as? NSNumber)?.uint64Value == item.leafIndex)
            let head = try #require(try chain.ledger.store.block(height: item.height)).header.value
            #expect(anchor["rootHash"] as? String == head.logRoot.hex)
            #expect((anchor["treeSize"] as? NSNumber)?.uint64Value == head.logSize)
            let commitments = try #require(event["agritrace:commitments"] as? [String: Any])
            #expect((commitments["level-2"] as? [String: Any])?["root"] as? String == item.record.level2?.root.hex)
        }
    }

    @Test func urnIdentifiersWindowsAndStableEventIDs() throws {
        let chain = try ExampleChain()
        let first = try export(chain, ["PR-2026-0042", "--forward"], file: "forward.json")
        let verdict = try SchemaValidator.validate(chain.directory.file("forward.json"))
        #expect(verdict.valid, "\(verdict.report)")
        let events = try Self.events(first)
        #expect(
            events.compactMap { $0["agritrace:lot"] as? String } == [
                "PR-2026-0042", "WH-2026-0311", "TR-2026-0908", "SA-2026-5521",
            ])
        let lot = (events[0]["outputQuantityList"] as? [[String: Any]])?.first?["epcClass"] as? String
        #expect(lot == "urn:agritrace:lot:ZS123:PR-2026-0042")
        // The same records export the same event ids, whatever the selection.
        let window = try export(
            chain, ["--since", "2026-07-29T00:00:00Z", "--until", "2026-08-02T00:00:00Z"], file: "window.json")
        #expect(
            try Self.events(window).compactMap { $0["eventID"] as? String }
                == events.compactMap { $0["eventID"] as? String })
        #expect(try SchemaValidator.validate(chain.directory.file("window.json")).valid)

        // The validator is not a rubber stamp: a document missing a required member fails.
        var broken = events[1]
        broken["eventTimeZoneOffset"] = nil
        var document = window
        document["epcisBody"] = ["eventList": [broken]]
        try JSONSerialization.data(withJSONObject: document).write(
            to: URL(fileURLWithPath: chain.directory.file("broken.json")))
        #expect(try !SchemaValidator.validate(chain.directory.file("broken.json")).valid)
    }

    @Test func disclosedSeriesBecomeSensorElementsWithCBVTypesAndUnits() throws {
        let chain = try ExampleChain()
        let planting = chain.classified[1]
        let series = try #require(planting.level2?.entries.filter { $0.key == "planting.temperature_humidity" })
        let exporter = EPCISExporter(store: chain.ledger.store)
        let anchored = try #require(try exporter.record(planting.record.id))
        let event = try EPCIS.event(EPCIS.Source(record: anchored.record, anchor: nil, disclosed: series))
        let document = EPCIS.document(events: [event], createdAt: .now())
        let file = chain.directory.file("sensors.json")
        try Data(document.jsonBytes()).write(to: URL(fileURLWithPath: file))
        let verdict = try SchemaValidator.validate(file)
        #expect(verdict.valid, "\(verdict.report)")
        let text = document.jsonString()
        #expect(text.contains(#""type":"Temperature""#) && text.contains(#""uom":"CEL""#))
        #expect(text.contains(#""type":"RelativeHumidity""#) && text.contains(#""uom":"P1""#))
    }

    @Test func theCLIExportsTheSeriesAnExporterHolds() throws {
        let chain = try ExampleChain()
        let planting = chain.classified[1]
        let series = try #require(planting.level2?.entries.first { $0.key == "planting.temperature_humidity" })
        guard case .series(let samples) = series.value else {
            Issue.record("the example planting has no temperature series")
            return
        }
        let held: [[String: Any]] = [
            [
                "record": planting.record.id.hex, "level": "level-2",
                "fields": [
                    series.key: samples.map {
                        ["time": $0.time.iso8601, "type": $0.type, "value": $0.value, "unit": $0.unit] as [String: Any]
                    }
                ],
            ]
        ]
        let file = chain.directory.file("held-series.json")
        try JSONSerialization.data(withJSONObject: held).write(to: URL(fileURLWithPath: file))
        let document = try export(chain, ["PL-2026-0417", "--disclosed", file], file: "series.json")
        let verdict = try SchemaValidator.validate(chain.directory.file("series.json"))
        #expect(verdict.valid, "\(verdict.report)")
        let event = try #require(try Self.events(document).first)
        let elements = try #require(event["sensorElementList"] as? [[String: Any]])
        let reports = try #require(elements.first?["sensorReport"] as? [[String: Any]])
        #expect(reports.count == samples.count)
        #expect(Set(reports.compactMap { $0["type"] as? String }) == Set(samples.map(\.type)))
        #expect(reports.compactMap { $0["value"] as? Double } == samples.map(\.value))
        let plain = try export(chain, ["PL-2026-0417"], file: "plain.json")
        #expect(try Self.events(plain).allSatisfy { $0["sensorElementList"] == nil }, "no values held, no series")
    }

    @Test func badInputNamesTheValueAndTheFix() throws {
        let chain = try ExampleChain()
        let cli = try builtProduct(named: "agritrace")
        func refusal(_ arguments: [String]) throws -> String {
            do {
                try runCommand(cli, ["export", "epcis"] + arguments + ["--store", chain.path])
            } catch let error as CommandError {
                return error.standardError
            }
            Issue.record("export \(arguments) should have been refused")
            return ""
        }
        var message = try refusal(["NO-SUCH-LOT"])
        #expect(
            message.contains("lot \"NO-SUCH-LOT\" has no records") && message.contains("check the lot id"), "\(message)"
        )
        message = try refusal(["--since", "2026-08-02T00:00:00Z", "--until", "2026-07-01T00:00:00Z"])
        #expect(
            message.contains("is empty or inverted") && message.contains("--since earlier than --until"), "\(message)")
        let partial = try ExampleChain.siteFile(in: chain.directory, leaving: "ZS123")
        message = try refusal(["SA-2026-5521", "--backward", "--gs1-site", partial, "--require-gs1"])
        #expect(message.contains("product \"fresh corn\" of enterprise \"ZS123\""), "\(message)")
        #expect(message.contains("under enterprises.ZS123.products"), "\(message)")
        let wrong = chain.directory.file("wrong.json")
        try #"{"enterprises": {"FARM1": {"companyPrefix": "0614142", "gln": "0614142000012"}}}"#.write(
            toFile: wrong, atomically: true, encoding: .utf8)
        message = try refusal(["PL-2026-0417", "--gs1-site", wrong])
        #expect(message.contains("enterprises.FARM1.gln \"0614142000012\" has a wrong check digit"), "\(message)")
    }
}

/// Sensor types and units are normalised at the edge; unknown ones are refused with the fix.
@Suite struct SensorNormalisationTests {
    func reading(type: String, unit: String) throws(ReadingError) -> Reading {
        let line =
            #"{"stage":"warehousing","lot":"WH-1","product":"corn","time":"2026-05-01T08:00:00Z","fields":{"temperature_humidity":[{"time":"2026-05-01T08:00:00Z","type":"\#(type)","value":3.5,"unit":"\#(unit)"}]}}"#
        return try Reading.parse(jsonLine: Array(line.utf8))
    }

    @Test func simulatorSpellingsBecomeCBVAndUNCEFACT() throws {
        for (type, unit, cbv, code) in [
            ("temperature", "Cel", "Temperature", "CEL"), ("relative_humidity", "%RH", "RelativeHumidity", "P1"),
            ("Temperature", "CEL", "Temperature", "CEL"), ("temperature", "K", "Temperature", "KEL"),
        ] {
            let value = try reading(type: type, unit: unit).fields["warehousing.temperature_humidity"]
            guard case .series(let samples)? = value else {
                Issue.record("no series for \(type)")
                continue
            }
            #expect(samples.first?.type == cbv && samples.first?.unit == code, "\(type) \(unit)")
        }
    }

    @Test func unknownUnitsAndTypesAreRefusedNamingTheField() {
        #expect {
            _ = try reading(type: "temperature", unit: "furlongs")
        } throws: { error in
            let text = "\(error)"
            return text.contains("fields.temperature_humidity[0].unit") && text.contains("CEL, KEL, FAH")
        }
        #expect {
            _ = try reading(type: "smell", unit: "Cel")
        } throws: { error in
            "\(error)".contains("fields.temperature_humidity[0].type") && "\(error)".contains("Temperature")
        }
    }
}
