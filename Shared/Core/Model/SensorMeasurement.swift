/// The sensor vocabulary of series samples: CBV 2.0 measurement types and UN/CEFACT
/// Recommendation 20 unit codes, as GS1 EPCIS 2.0 `sensorReport`s carry them.
///
/// Readings may name a measurement the way devices and the simulator do (`temperature` /
/// `Cel`, `relative_humidity` / `%RH`); the edge normalises every sample to the CBV type and
/// the UN/CEFACT code before it commits to the value, so the ledger, the vault and every
/// export hold one spelling. A type or unit outside these tables is refused at the edge.
public enum SensorMeasurement {
    /// A measurement type with the unit codes it accepts (the first is the usual one).
    struct Kind {
        var type: String
        var units: [String]
    }

    /// The CBV 2.0 measurement types the agent accepts, with their UN/CEFACT units.
    static let kinds: [Kind] = [
        Kind(type: "Temperature", units: ["CEL", "KEL", "FAH"]),
        Kind(type: "RelativeHumidity", units: ["P1"]),
        Kind(type: "AbsoluteHumidity", units: ["GP"]),
        Kind(type: "Pressure", units: ["PAL", "KPA", "A97", "MBR"]),
        Kind(type: "Illuminance", units: ["LUX"]),
        Kind(type: "Mass", units: ["KGM", "GRM"]),
        Kind(type: "MassConcentration", units: ["GP", "59"]),
        Kind(type: "VolumeFraction", units: ["P1", "59"]),
        Kind(type: "Speed", units: ["MTS", "KMH"]),
        Kind(type: "Voltage", units: ["VLT"]),
    ]

    /// Other spellings of units (UCUM, symbols) → UN/CEFACT code.
    static let unitAliases: [String: String] = [
        "cel": "CEL", "°c": "CEL", "degc": "CEL", "c": "CEL", "k": "KEL", "°f": "FAH", "[degf]": "FAH",
        "degf": "FAH", "%rh": "P1", "%": "P1", "pa": "PAL", "kpa": "KPA", "hpa": "A97", "mbar": "MBR",
        "lx": "LUX", "kg": "KGM", "g": "GRM", "g/m3": "GP", "ppm": "59", "[ppm]": "59", "m/s": "MTS",
        "km/h": "KMH", "v": "VLT",
    ]

    /// The CBV type for `name`, matched without case, `_`, `-` or spaces (`relative_humidity`).
    public static func type(_ name: String) -> String? {
        // Every sample of every series passes here: the spellings seen before are one lookup.
        if let type = typesBySpelling[name] { return type }
        return typesByFoldedName[fold(name)]
    }

    /// The UN/CEFACT code of `unit` for measurements of `type`, or nil when it does not fit.
    public static func unit(_ unit: String, for type: String) -> String? {
        guard let units = unitsByType[type] else { return nil }
        if units.contains(unit) { return unit }
        let code = unitAliases[unit] ?? unitAliases[unit.lowercased()] ?? unit.uppercased()
        return units.contains(code) ? code : nil
    }

    /// CBV type by its name folded (``fold(_:)``), `humidity` included.
    static let typesByFoldedName: [String: String] = Dictionary(
        uniqueKeysWithValues: kinds.map { (fold($0.type), $0.type) } + [("humidity", "RelativeHumidity")])

    /// CBV type by the spellings devices and the simulator use most, matched as written.
    static let typesBySpelling: [String: String] = {
        var spellings: [String: String] = [:]
        for (folded, type) in typesByFoldedName {
            spellings[type] = type
            spellings[folded] = type
        }
        spellings["relative_humidity"] = "RelativeHumidity"
        return spellings
    }()

    /// The unit codes of each CBV type.
    static let unitsByType: [String: [String]] = Dictionary(
        uniqueKeysWithValues: kinds.map { ($0.type, $0.units) })

    /// The sample with its type and unit in the CBV / UN/CEFACT spelling, or nil if either is unknown.
    public static func normalised(_ sample: SensorSample) -> SensorSample? {
        guard let type = type(sample.type), let unit = unit(sample.unit, for: type) else { return nil }
        var result = sample
        result.type = type
        result.unit = unit
        return result
    }

    /// Normalises the samples of one series. A series repeats a few spellings (a climate series
    /// alternates temperature and humidity), so the answers for the last few spellings are kept
    /// and the tables are looked up only for a spelling not among them (string comparisons per
    /// sample instead of hashed look-ups on the intake path).
    public struct SeriesNormaliser: Sendable {
        /// Spellings seen (type, unit as given) and their answers, in the order first seen.
        var givenTypes: [String] = []
        var givenUnits: [String] = []
        var answers: [(type: String, unit: String)] = []
        /// How many spellings are kept.
        static let capacity = 4

        public init() {}

        /// ``SensorMeasurement/normalised(_:)`` of `sample`.
        public mutating func normalised(_ sample: SensorSample) -> SensorSample? {
            var result = sample
            for index in givenTypes.indices where givenTypes[index] == sample.type && givenUnits[index] == sample.unit {
                result.type = answers[index].type
                result.unit = answers[index].unit
                return result
            }
            guard let normalised = SensorMeasurement.normalised(sample) else { return nil }
            if givenTypes.count == Self.capacity {
                givenTypes.removeFirst()
                givenUnits.removeFirst()
                answers.removeFirst()
            }
            givenTypes.append(sample.type)
            givenUnits.append(sample.unit)
            answers.append((normalised.type, normalised.unit))
            return normalised
        }
    }

    /// The error for a sample whose type or unit is not in the tables, naming the field and the fix.
    static func error(_ sample: SensorSample, field: String, stage: String) -> ReadingError {
        guard let type = type(sample.type) else {
            return ReadingError(
                kind: .invalidValue, field: "\(field).type", stage: stage,
                reason: "\"\(sample.type)\" is not a CBV 2.0 measurement type this agent knows",
                fix: "use one of \(kinds.map(\.type).joined(separator: ", ")) (e.g. \"Temperature\")")
        }
        let units = kinds.first { $0.type == type }?.units ?? []
        return ReadingError(
            kind: .invalidValue, field: "\(field).unit", stage: stage,
            reason: "\"\(sample.unit)\" is not a unit of \(type) this agent knows",
            fix: "give a UN/CEFACT Rec 20 code: \(units.joined(separator: ", ")) (\"Cel\" and \"%RH\" are accepted too)"
        )
    }

    static func fold(_ name: String) -> String {
        String(name.lowercased().filter { $0 != "_" && $0 != "-" && $0 != " " })
    }
}
