/// The definition of one field a device or firm may record.
public struct FieldDefinition: Hashable, Sendable, Codable {
    /// The stage the field belongs to.
    public var stage: Stage
    /// The field's name within its stage, e.g. `cost_price`.
    public var name: String
    /// A human label, e.g. "Planting cost price".
    public var label: String
    /// The privacy level that decides where the value goes.
    public var level: PrivacyLevel
    /// The kind of value the field holds.
    public var kind: FieldKind

    /// The stable machine key, `stage.name`, e.g. `planting.cost_price`.
    public var key: String { "\(stage.rawValue).\(name)" }

    public init(stage: Stage, name: String, label: String, level: PrivacyLevel, kind: FieldKind) {
        self.stage = stage
        self.name = name
        self.label = label
        self.level = level
        self.kind = kind
    }
}

/// The catalog of fields by stage, with their privacy levels.
///
/// ``FieldCatalog/standard`` holds every field of the domain reference (§1). A site may
/// extend it with fields of its own, each with an explicit level, through
/// ``extended(with:)``; a standard field cannot be redefined.
public struct FieldCatalog: Sendable {
    /// Errors raised when extending a catalog.
    public enum ExtensionError: Error, Equatable, CustomStringConvertible {
        case redefinesField(key: String)
        case invalidName(String)

        public var description: String {
            switch self {
            case .redefinesField(let key):
                return "field \(key) is already in the catalog; choose another name for the site field"
            case .invalidName(let name):
                return
                    "field name \"\(name)\" is not valid; use lower-case letters, digits and underscores, starting with a letter"
            }
        }
    }

    private var byKey: [String: FieldDefinition]
    private var byStage: [Stage: [FieldDefinition]]

    /// Creates a catalog from definitions; later definitions of the same key win.
    public init(_ definitions: [FieldDefinition]) {
        byKey = [:]
        byStage = [:]
        for definition in definitions {
            byKey[definition.key] = definition
        }
        for definition in byKey.values.sorted(by: { $0.key < $1.key }) {
            byStage[definition.stage, default: []].append(definition)
        }
    }

    /// Every definition, sorted by stage then key.
    public var definitions: [FieldDefinition] {
        Stage.allCases.flatMap { byStage[$0] ?? [] }
    }

    /// The fields of one stage, sorted by name.
    public func fields(of stage: Stage) -> [FieldDefinition] { byStage[stage] ?? [] }

    /// Looks up a field by its full key (`planting.cost_price`).
    public func field(key: String) -> FieldDefinition? { byKey[key] }

    /// Looks up a field of `stage` by its name (`cost_price`) or its full key.
    public func field(_ name: String, in stage: Stage) -> FieldDefinition? {
        if let definition = byKey["\(stage.rawValue).\(name)"] { return definition }
        if let definition = byKey[name], definition.stage == stage { return definition }
        return nil
    }

    /// Returns a catalog with site-specific fields added.
    /// - Throws: ``ExtensionError`` when a definition redefines an existing field or has an invalid name.
    public func extended(with definitions: [FieldDefinition]) throws -> FieldCatalog {
        var all = Array(byKey.values)
        for definition in definitions {
            guard Self.isValidName(definition.name) else { throw ExtensionError.invalidName(definition.name) }
            guard byKey[definition.key] == nil else { throw ExtensionError.redefinesField(key: definition.key) }
            all.append(definition)
        }
        return FieldCatalog(all)
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}

extension FieldCatalog {
    /// Every field of every stage from the domain reference §1, with its level.
    public static let standard: FieldCatalog = {
        var definitions: [FieldDefinition] = []
        func add(_ stage: Stage, _ level: PrivacyLevel, _ fields: [(String, String, FieldKind)]) {
            for (name, label, kind) in fields {
                definitions.append(FieldDefinition(stage: stage, name: name, label: label, level: level, kind: kind))
            }
        }

        add(
            .breeding, .public,
            [
                ("variety", "Variety", .text),
                ("breeding_enterprise", "Breeding enterprise", .text),
                ("breeding_number", "Breeding number", .text),
                ("growth_cycle", "Growth cycle", .text),
                ("disease_resistance", "Disease resistance", .text),
                ("quality_traits", "Quality traits", .text),
                ("suitable_region", "Suitable region", .text),
                ("patent_information", "Patent information", .text),
            ])
        add(
            .breeding, .level2,
            [
                ("gene_sequence", "Gene sequence", .text),
                ("genetic_traits", "Genetic traits", .text),
                ("seed_resources", "Seed resources", .text),
                ("rd_records", "R&D records", .text),
                ("trait_data", "Trait data", .text),
                ("breeding_strategy", "Breeding strategy", .text),
            ])
        add(
            .breeding, .level1,
            [
                ("field_trial_data", "Field-trial data", .text),
                ("growth_records", "Growth records", .text),
                ("personnel", "Breeder personnel information", .text),
                ("seed_cost", "Seed cost", .number),
            ])

        add(
            .planting, .public,
            [
                ("variety", "Variety", .text),
                ("planting_origin", "Planting origin", .text),
                ("planting_number", "Planting number", .text),
                ("planting_qualification", "Planting qualification", .text),
                ("sowing_time", "Sowing time", .time),
                ("harvest_time", "Harvest time", .time),
                ("farmland_geo", "Farmland geographic information", .text),
            ])
        add(
            .planting, .level2,
            [
                ("planted_quantity", "Planted quantity", .number),
                ("temperature_humidity", "Temperature and humidity", .series),
                ("biological_pest_control", "Biological pest control", .text),
                ("pesticide_fertilizer_use", "Pesticide and fertilizer use", .text),
                ("irrigation_records", "Irrigation records", .text),
                ("weather_conditions", "Weather conditions", .text),
                ("weeding_records", "Weeding records", .text),
                ("growth_cycle", "Growth cycle", .text),
                ("mould_content", "Mould content", .number),
                ("soil_test_report", "Soil test report", .text),
                ("pesticide_residue_test", "Pesticide-residue test", .text),
            ])
        add(
            .planting, .level1,
            [
                ("cost_price", "Planting cost price", .number),
                ("personnel", "Farmer / planting personnel information", .text),
            ])

        add(
            .processing, .public,
            [
                ("variety", "Variety", .text),
                ("processing_enterprise", "Processing enterprise", .text),
                ("processing_number", "Processing number", .text),
                ("processing_qualification", "Processing qualification", .text),
                ("processing_time", "Processing time", .time),
                ("processing_method", "Processing method", .text),
                ("quality_check_result", "Quality-check result", .text),
                ("packaging_information", "Packaging information", .text),
                ("shelf_life", "Shelf life", .text),
            ])
        add(
            .processing, .level2,
            [
                ("raw_material_inspection", "Raw-material intake inspection report", .text),
                ("processed_quantity", "Processed quantity", .number),
                ("processing_technique", "Processing technique", .text),
                ("packaging_materials", "Packaging materials", .text),
                ("sterilization_test", "Sterilization test results", .text),
                ("vacuum_packaging_test", "Vacuum-packaging test results", .text),
                ("product_quality_check", "Product quality-check results", .text),
            ])
        add(
            .processing, .level1,
            [
                ("equipment_monitoring", "Processing-equipment condition monitoring", .text),
                ("personnel", "Processing personnel information", .text),
                ("processing_cost", "Processing cost", .number),
                ("order_price", "Order price", .number),
            ])

        add(
            .warehousing, .public,
            [
                ("variety", "Variety", .text),
                ("warehousing_enterprise", "Warehousing enterprise", .text),
                ("warehouse_number", "Warehouse number", .text),
                ("warehousing_qualification", "Warehousing qualification", .text),
                ("storage_method", "Storage method", .text),
                ("storage_location", "Storage location", .text),
                ("in_out_times", "In/out times", .text),
            ])
        add(
            .warehousing, .level2,
            [
                ("inventory_status", "Inventory status", .text),
                ("in_out_records", "In/out records", .text),
                ("temperature_humidity", "Warehouse temperature and humidity", .series),
                ("ventilation_requirements", "Ventilation requirements", .text),
                ("mycotoxin_content", "Mycotoxin content", .number),
                ("quality_test_results", "Quality test results", .text),
            ])
        add(
            .warehousing, .level1,
            [
                ("warehouse_cost", "Warehouse cost", .number),
                ("inventory_turnover_rate", "Inventory turnover rate", .number),
                ("cargo_damage_records", "Cargo-damage records", .text),
                ("surveillance", "Warehouse surveillance", .text),
                ("personnel", "Warehouse manager personnel information", .text),
            ])

        add(
            .transport, .public,
            [
                ("variety", "Variety", .text),
                ("transport_enterprise", "Transport enterprise", .text),
                ("transport_number", "Transport number", .text),
                ("transport_qualification", "Transport qualification", .text),
                ("route", "Route", .text),
                ("transport_time", "Transport time", .time),
                ("transport_mode", "Transport mode", .text),
            ])
        add(
            .transport, .level2,
            [
                ("transported_quantity", "Transported quantity", .number),
                ("toxic_substance_detection", "Toxic/harmful-substance detection in the vehicle", .text),
                ("positioning_track", "Satellite positioning track", .track),
                ("temperature_humidity", "Truck temperature and humidity", .series),
                ("handover_records", "Hand-over records", .text),
            ])
        add(
            .transport, .level1,
            [
                ("transport_cost", "Inbound/outbound transport cost", .number),
                ("transport_contract", "Transport contract", .text),
                ("personnel", "Transport personnel information", .text),
            ])

        add(
            .sales, .public,
            [
                ("variety", "Variety", .text),
                ("sales_channel", "Sales channel", .text),
                ("sales_number", "Sales number", .text),
                ("sales_qualification", "Sales qualification", .text),
                ("stock_in_time", "Stock-in time", .time),
                ("sale_time", "Sale time", .time),
            ])
        add(
            .sales, .level2,
            [
                ("sold_quantity", "Sold quantity", .number),
                ("sales_location", "Sales location", .text),
                ("shelving_time", "Shelving time", .time),
                ("order_information", "Order information", .text),
            ])
        add(
            .sales, .level1,
            [
                ("work_surveillance", "Work surveillance", .text),
                ("personnel", "Sales personnel information", .text),
                ("purchase_price", "Purchase price", .number),
            ])
        return FieldCatalog(definitions)
    }()
}
