import AgriTraceCore
import Testing

/// The table of domain reference §1, copied row by row: every field with its stage and level.
private let domainTable: [(Stage, PrivacyLevel, String)] = {
    let rows: [(Stage, String, String, String)] = [
        (
            .breeding,
            "variety, breeding enterprise, breeding number, growth cycle, disease resistance, quality traits, suitable region, patent information",
            "gene sequence, genetic traits, seed resources, R&D records, trait data, breeding strategy",
            "field-trial data, growth records, breeder personnel information, seed cost"
        ),
        (
            .planting,
            "variety, planting origin, planting number, planting qualification, sowing time, harvest time, farmland geographic information",
            "planted quantity, temperature and humidity, biological pest control, pesticide and fertilizer use, irrigation records, weather conditions, weeding records, growth cycle, mould content, soil test report, pesticide-residue test",
            "planting cost price, farmer / planting personnel information"
        ),
        (
            .processing,
            "variety, processing enterprise, processing number, processing qualification, processing time, processing method, quality-check result, packaging information, shelf life",
            "raw-material intake inspection report, processed quantity, processing technique, packaging materials, sterilization test results, vacuum-packaging test results, product quality-check results",
            "processing-equipment condition monitoring, processing personnel information, processing cost, order price"
        ),
        (
            .warehousing,
            "variety, warehousing enterprise, warehouse number, warehousing qualification, storage method, storage location, in/out times",
            "inventory status, in/out records, warehouse temperature and humidity, ventilation requirements, mycotoxin content, quality test results",
            "warehouse cost, inventory turnover rate, cargo-damage records, warehouse surveillance, warehouse manager personnel information"
        ),
        (
            .transport,
            "variety, transport enterprise, transport number, transport qualification, route, transport time, transport mode",
            "transported quantity, toxic/harmful-substance detection in the vehicle, satellite positioning track, truck temperature and humidity, hand-over records",
            "inbound/outbound transport cost, transport contract, transport personnel information"
        ),
        (
            .sales,
            "variety, sales channel, sales number, sales qualification, stock-in time, sale time",
            "sold quantity, sales location, shelving time, order information",
            "work surveillance, sales personnel information, purchase price"
        ),
    ]
    var table: [(Stage, PrivacyLevel, String)] = []
    for (stage, publicFields, level2, level1) in rows {
        for (level, cell) in [(PrivacyLevel.public, publicFields), (.level2, level2), (.level1, level1)] {
            for label in cell.split(separator: ", ") { table.append((stage, level, String(label))) }
        }
    }
    return table
}()

@Suite struct FieldCatalogTests {
    @Test(arguments: Stage.allCases)
    func everyDomainFieldIsInTheCatalogWithItsLevel(stage: Stage) {
        let catalog = FieldCatalog.standard
        let expected = domainTable.filter { $0.0 == stage }
        for (_, level, label) in expected {
            let matches = catalog.fields(of: stage).filter { $0.label.lowercased() == label.lowercased() }
            #expect(matches.count == 1, "\(stage.rawValue): field \"\(label)\" missing from the catalog")
            #expect(matches.first?.level == level, "\(stage.rawValue): \"\(label)\" should be \(level.rawValue)")
        }
        // Nothing extra: the standard catalog is exactly the domain table.
        #expect(catalog.fields(of: stage).count == expected.count)
    }

    @Test func keysAreStableStageScopedAndUnique() {
        let definitions = FieldCatalog.standard.definitions
        #expect(Set(definitions.map(\.key)).count == definitions.count)
        for definition in definitions {
            #expect(definition.key == "\(definition.stage.rawValue).\(definition.name)")
        }
        #expect(FieldCatalog.standard.field(key: "planting.cost_price")?.level == .level1)
        #expect(FieldCatalog.standard.field(key: "planting.planted_quantity")?.level == .level2)
        #expect(FieldCatalog.standard.field(key: "transport.positioning_track")?.kind == .track)
    }

    @Test func siteFieldsExtendTheCatalogWithExplicitLevels() throws {
        let site = FieldDefinition(
            stage: .planting, name: "drone_survey", label: "Drone survey", level: .level2, kind: .text)
        let catalog = try FieldCatalog.standard.extended(with: [site])
        #expect(catalog.field("drone_survey", in: .planting)?.level == .level2)
        #expect(FieldCatalog.standard.field("drone_survey", in: .planting) == nil)

        let clash = FieldDefinition(stage: .planting, name: "cost_price", label: "Cost", level: .public, kind: .number)
        #expect(throws: FieldCatalog.ExtensionError.redefinesField(key: "planting.cost_price")) {
            try FieldCatalog.standard.extended(with: [clash])
        }
        let badName = FieldDefinition(stage: .sales, name: "Bad Name", label: "x", level: .public, kind: .text)
        #expect(throws: FieldCatalog.ExtensionError.invalidName("Bad Name")) {
            try FieldCatalog.standard.extended(with: [badName])
        }
    }

    @Test func rolesCoverEveryStageTwice() {
        for stage in Stage.allCases { #expect(ABAC.Role.roles(of: stage).count == 2) }
    }
}
