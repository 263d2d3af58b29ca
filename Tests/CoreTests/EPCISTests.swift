import AgriTraceCore
import Foundation
import Testing

@Suite struct EPCISTests {
    func object(_ output: JSONOutput) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(output.jsonBytes())) as? [String: Any])
    }

    @Test func publicRecordBecomesAnObjectEventWithoutPrivateValues() throws {
        let record = Fixtures.classifiedPlanting().record
        let event = try object(EPCIS.event(for: record))
        #expect(event["type"] as? String == "ObjectEvent")
        #expect(event["bizStep"] as? String == "commissioning")
        #expect(event["action"] as? String == "ADD")
        #expect(event["eventTime"] as? String == "2026-05-01T08:30:00.000Z")
        let quantities = try #require(event["quantityList"] as? [[String: Any]])
        #expect(quantities.first?["epcClass"] as? String == "urn:agritrace:lot:FARM1:PL-2026-0001")
        let fields = try #require(event["agritrace:publicFields"] as? [String: Any])
        #expect(fields["planting.variety"] as? String == "Jingke 968")
        #expect(fields["planting.cost_price"] == nil)
        #expect(event["agritrace:level1Commitment"] as? String == record.level1?.root.hex)
        #expect(event["sensorElementList"] == nil)
        let text = EPCIS.event(for: record).jsonString()
        #expect(!text.contains("Li Wei"))
        #expect(!text.contains("1830"))
    }

    @Test func disclosedSeriesBecomeSensorElements() throws {
        let classified = Fixtures.classifiedPlanting()
        let series = classified.level2!.entries.filter { $0.key == "planting.temperature_humidity" }
        let event = try object(EPCIS.event(for: classified.record, disclosed: series))
        let elements = try #require(event["sensorElementList"] as? [[String: Any]])
        let reports = try #require(elements.first?["sensorReport"] as? [[String: Any]])
        #expect(reports.count == 2)
        #expect(reports.first?["type"] as? String == "gs1:Temperature")
        #expect(reports.first?["uom"] as? String == "CEL")
        #expect((reports.first?["value"] as? NSNumber)?.doubleValue == 18.25)
    }

    @Test func recordWithInputsBecomesATransformationEvent() throws {
        var record = Fixtures.classifiedPlanting().record
        record.stage = .processing
        record.inputLots = ["PL-1", "PL-2"]
        let event = try object(EPCIS.event(for: record))
        #expect(event["type"] as? String == "TransformationEvent")
        #expect(event["bizStep"] as? String == "transforming")
        #expect((event["inputQuantityList"] as? [[String: Any]])?.count == 2)
        let document = try object(EPCIS.document(for: [record], createdAt: Timestamp(milliseconds: 0)))
        #expect(document["type"] as? String == "EPCISDocument")
        #expect(document["schemaVersion"] as? String == "2.0")
    }
}
