import AgriTraceCore
import Foundation
import Testing

@Suite struct EPCISTests {
    func object(_ output: JSONOutput) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(output.jsonBytes())) as? [String: Any])
    }

    @Test func publicRecordBecomesAnObjectEventWithoutPrivateValues() throws {
        let record = Fixtures.classifiedPlanting().record
        let event = try object(try EPCIS.event(EPCIS.Source(record: record, anchor: nil)))
        #expect(event["type"] as? String == "ObjectEvent")
        #expect(event["bizStep"] as? String == "commissioning")
        #expect(event["action"] as? String == "ADD")
        #expect(event["eventTime"] as? String == "2026-05-01T08:30:00.000Z")
        #expect(event["eventID"] as? String == "urn:agritrace:event:\(record.id.hex)")
        #expect(EPCIS.recordID(ofEvent: "urn:agritrace:event:\(record.id.hex)") == record.id)
        let quantities = try #require(event["quantityList"] as? [[String: Any]])
        #expect(quantities.first?["epcClass"] as? String == "urn:agritrace:lot:FARM1:PL-2026-0001")
        let fields = try #require(event["agritrace:publicFields"] as? [String: Any])
        #expect(fields["planting.variety"] as? String == "Jingke 968")
        #expect(fields["planting.cost_price"] == nil)
        let commitments = try #require(event["agritrace:commitments"] as? [String: Any])
        #expect((commitments["level-1"] as? [String: Any])?["root"] as? String == record.level1?.root.hex)
        #expect(event["sensorElementList"] == nil)
        let text = try EPCIS.event(EPCIS.Source(record: record, anchor: nil)).jsonString()
        #expect(!text.contains("Li Wei"))
        #expect(!text.contains("1830"))
    }

    @Test func disclosedSeriesBecomeSensorElements() throws {
        let classified = Fixtures.classifiedPlanting()
        let series = classified.level2!.entries.filter { $0.key == "planting.temperature_humidity" }
        let event = try object(
            try EPCIS.event(EPCIS.Source(record: classified.record, anchor: nil, disclosed: series)))
        let elements = try #require(event["sensorElementList"] as? [[String: Any]])
        let reports = try #require(elements.first?["sensorReport"] as? [[String: Any]])
        #expect(reports.count == 2)
        #expect(reports.first?["type"] as? String == "Temperature")
        #expect(reports.first?["uom"] as? String == "CEL")
        #expect((reports.first?["value"] as? NSNumber)?.doubleValue == 18.25)
    }

    @Test func processingBecomesATransformationEventNamingItsInputs() throws {
        var record = Fixtures.classifiedPlanting().record
        record.stage = .processing
        record.inputLots = ["PL-1", "PL-2"]
        let origins = ["PL-1": EPCIS.LotOrigin(enterprise: "FARM9", product: "corn")]
        let event = try object(try EPCIS.event(EPCIS.Source(record: record, anchor: nil), origins: origins))
        #expect(event["type"] as? String == "TransformationEvent")
        #expect(event["bizStep"] as? String == "commissioning")
        let inputs = (event["inputQuantityList"] as? [[String: Any]])?.compactMap { $0["epcClass"] as? String }
        #expect(inputs == ["urn:agritrace:lot:FARM9:PL-1", "urn:agritrace:lot:FARM1:PL-2"])
        let document = try object(EPCIS.document(events: [], createdAt: Timestamp(milliseconds: 0)))
        #expect(document["type"] as? String == "EPCISDocument")
        #expect(document["schemaVersion"] as? String == "2.0")
    }

    @Test func gs1KeysAreCheckedAndFormDigitalLinks() throws {
        #expect(GS1Identifiers.checkDigit(of: "400638133393") == "1")  // the EAN-13 4006381333931
        let gtin = "1061414100001" + String(GS1Identifiers.checkDigit(of: "1061414100001"))
        let gln = "061414100002" + String(GS1Identifiers.checkDigit(of: "061414100002"))
        let site = GS1Identifiers(
            enterprises: ["F": .init(companyPrefix: "0614141", gln: gln, products: ["corn": gtin])])
        try site.check(file: "site.json")
        #expect(try site.lot("L 1/2", product: "corn", enterprise: "F") == "https://id.gs1.org/01/\(gtin)/10/L%201%2F2")
        #expect(try site.location("F") == "https://id.gs1.org/414/\(gln)")
        var strict = site
        strict.requireGS1 = true
        #expect(throws: ExportError.self) { try strict.lot("L", product: "beans", enterprise: "F") }
        let wrong = GS1Identifiers(enterprises: ["F": .init(companyPrefix: "0614141", gln: "0614141000020")])
        #expect {
            try wrong.check(file: "site.json")
        } throws: { error in
            "\(error)".contains("enterprises.F.gln \"0614141000020\" has a wrong check digit")
        }
    }
}
