import AgriTraceCore
import SeededRandom

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Generates realistic JSON-lines readings for any stage, for demos and load tests.
///
/// Lots link the stages through `inputs`: planting lots come from breeding lots, processing
/// consumes planting lots, warehousing stores processing lots, transport carries warehouse
/// lots, sales sell transported lots. Lot `k` of one stage links to lot `k` of the stage
/// before, so simulators run on different boxes with the same `--lots` tell one story.
public struct ReadingSimulator: Sendable {
    public var stage: Stage
    public var lots: Int
    public var year: Int
    var generator: SplitMix64
    var counter = 0

    /// Creates a simulator; `seed` makes the output reproducible.
    public init(stage: Stage, lots: Int, seed: UInt64 = 1, year: Int = 2026) {
        self.stage = stage
        self.lots = max(1, lots)
        self.year = year
        self.generator = SplitMix64(seed: seed ^ (UInt64(stage.ordinal) << 32))
    }

    /// The lot id of lot `index` (1-based) of `stage`.
    public static func lotID(_ stage: Stage, _ index: Int, year: Int = 2026) -> String {
        let prefix: String
        switch stage {
        case .breeding: prefix = "BR"
        case .planting: prefix = "PL"
        case .processing: prefix = "PR"
        case .warehousing: prefix = "WH"
        case .transport: prefix = "TR"
        case .sales: prefix = "SA"
        }
        return "\(prefix)-\(year)-\(Self.zeroPadded(index, width: 4))"
    }

    static let previousStage: [Stage: Stage] = [
        .planting: .breeding, .processing: .planting, .warehousing: .processing, .transport: .warehousing,
        .sales: .transport,
    ]

    static let products = ["fresh corn", "rice", "wheat", "soybean", "apple"]
    static let people = ["Li Wei", "Zhang Min", "Wang Fang", "Chen Jie", "Liu Yang", "Zhao Lei"]

    mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + Double(generator.next() >> 11) / Double(1 << 53) * (range.upperBound - range.lowerBound)
    }

    mutating func pick<T>(_ items: [T]) -> T { items[Int(generator.next() % UInt64(items.count))] }

    mutating func rounded(_ range: ClosedRange<Double>, _ places: Double = 10) -> Double {
        (uniform(range) * places).rounded() / places
    }

    /// `value` in decimal, left-padded with zeros to `width` digits (as `%04d` for width 4).
    static func zeroPadded(_ value: Int, width: Int) -> String {
        let digits = String(value.magnitude)
        let padding = String(repeating: "0", count: max(0, width - digits.count - (value < 0 ? 1 : 0)))
        return (value < 0 ? "-" : "") + padding + digits
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// A temperature and humidity series of `count` samples ending at `time`.
    mutating func climateSeries(
        at time: Timestamp, count: Int, temperature: ClosedRange<Double>, humidity: ClosedRange<Double>
    ) -> String {
        var samples: [String] = []
        var t = uniform(temperature)
        var h = uniform(humidity)
        for index in 0..<count {
            let sampleTime = Timestamp(milliseconds: time.milliseconds - Int64(count - 1 - index) * 60_000).iso8601
            t = min(temperature.upperBound, max(temperature.lowerBound, t + uniform(-0.4...0.4)))
            h = min(humidity.upperBound, max(humidity.lowerBound, h + uniform(-1.5...1.5)))
            samples.append(
                "{\"time\":\(Self.quote(sampleTime)),\"type\":\"temperature\",\"value\":\((t * 10).rounded() / 10),\"unit\":\"Cel\"}"
            )
            samples.append(
                "{\"time\":\(Self.quote(sampleTime)),\"type\":\"relative_humidity\",\"value\":\((h * 10).rounded() / 10),\"unit\":\"%RH\"}"
            )
        }
        return "[" + samples.joined(separator: ",") + "]"
    }

    /// A route track from (lat, lon) heading roughly north-east.
    mutating func track(at time: Timestamp, count: Int, lot: Int) -> String {
        var latitude = 39.9 + Double(lot % 10) * 0.05
        var longitude = 116.4 + Double(lot % 7) * 0.05
        var fixes: [String] = []
        for index in 0..<count {
            let fixTime = Timestamp(milliseconds: time.milliseconds - Int64(count - 1 - index) * 30_000).iso8601
            latitude += uniform(0.0005...0.003)
            longitude += uniform(0.0005...0.003)
            fixes.append(
                "{\"time\":\(Self.quote(fixTime)),\"lat\":\((latitude * 1e5).rounded() / 1e5),\"lon\":\((longitude * 1e5).rounded() / 1e5)}"
            )
        }
        return "[" + fixes.joined(separator: ",") + "]"
    }

    /// The next reading as one JSON line (no newline).
    public mutating func next(time: Timestamp = .now()) -> String {
        counter += 1
        let lotIndex = (counter - 1) % lots + 1
        let lot = Self.lotID(stage, lotIndex, year: year)
        let product = Self.products[(lotIndex - 1) % Self.products.count]
        let variety = ["\(product) JD-\(100 + lotIndex % 7)"][0]
        var fields = FieldList(items: [("variety", Self.quote(variety))])
        let iso = time.iso8601
        switch stage {
        case .breeding: breedingFields(&fields, lotIndex: lotIndex)
        case .planting: plantingFields(&fields, lotIndex: lotIndex, time: time)
        case .processing: processingFields(&fields, lotIndex: lotIndex, iso: iso)
        case .warehousing: warehousingFields(&fields, lotIndex: lotIndex, time: time)
        case .transport: transportFields(&fields, lotIndex: lotIndex, iso: iso, time: time)
        case .sales: salesFields(&fields, iso: iso)
        }
        var line =
            "{\"stage\":\(Self.quote(stage.rawValue)),\"lot\":\(Self.quote(lot)),\"product\":\(Self.quote(product)),\"time\":\(Self.quote(iso))"
        if let previous = Self.previousStage[stage] {
            line += ",\"inputs\":[\(Self.quote(Self.lotID(previous, lotIndex, year: year)))]"
        }
        line += ",\"fields\":{" + fields.items.map { "\(Self.quote($0.0)):\($0.1)" }.joined(separator: ",") + "}}"
        return line
    }

    /// The breeding stage's fields of the next reading.
    mutating func breedingFields(_ f: inout FieldList, lotIndex: Int) {
        f.text("breeding_enterprise", "BR-ENT-01"); f.text("breeding_number", "B\(lotIndex)")
        f.text("growth_cycle", "\(Int(uniform(90...130))) days")
        f.text("disease_resistance", pick(["high", "medium"]))
        f.text("genetic_traits", "drought tolerance, yield +\(Int(uniform(3...12)))%")
        f.text("trait_data", "plant height \(Int(uniform(180...260))) cm")
        f.num("seed_cost", rounded(2...9, 100)); f.text("personnel", pick(Self.people))
    }

    /// The planting stage's fields of the next reading.
    mutating func plantingFields(_ f: inout FieldList, lotIndex: Int, time: Timestamp) {
        f.text("planting_origin", "Shandong plot \(lotIndex)"); f.text("planting_number", "P\(counter)")
        f.text("planting_qualification", "GAP-2026-\(lotIndex)")
        f.text("farmland_geo", "36.\(60 + lotIndex % 30)N 117.\(10 + lotIndex % 40)E")
        f.num("planted_quantity", rounded(800...1600, 1))
        f.raw("temperature_humidity", climateSeries(at: time, count: 6, temperature: 14...31, humidity: 40...85))
        f.text("pesticide_fertilizer_use", "NPK \(Int(uniform(20...60))) kg/ha")
        f.num("mould_content", rounded(0...0.8, 100))
        f.num("cost_price", rounded(1.2...2.4, 100)); f.text("personnel", pick(Self.people))
    }

    /// The processing stage's fields of the next reading.
    mutating func processingFields(_ f: inout FieldList, lotIndex: Int, iso: String) {
        f.text("processing_enterprise", "PR-ENT-02"); f.text("processing_number", "X\(counter)")
        f.raw("processing_time", Self.quote(iso))
        f.text("processing_method", pick(["washing, cutting, vacuum packing", "drying, milling"]))
        f.text("quality_check_result", pick(["pass", "pass", "pass", "recheck"]))
        f.num("processed_quantity", rounded(500...1200, 1)); f.text("sterilization_test", "coliforms < 10 CFU/g")
        f.text("equipment_monitoring", "line \(lotIndex % 3 + 1) vibration \(rounded(0.5...2.0)) mm/s")
        f.num("processing_cost", rounded(0.3...0.9, 100)); f.num("order_price", rounded(3...6, 100))
        f.text("personnel", pick(Self.people))
    }

    /// The warehousing stage's fields of the next reading.
    mutating func warehousingFields(_ f: inout FieldList, lotIndex: Int, time: Timestamp) {
        f.text("warehousing_enterprise", "WH-ENT-03"); f.text("warehouse_number", "W\(lotIndex % 4 + 1)")
        f.text("storage_method", pick(["cold storage", "ambient, ventilated"]))
        f.text("storage_location", "bay \(lotIndex % 12 + 1)")
        f.text("inventory_status", "\(Int(uniform(200...900))) cases")
        f.raw("temperature_humidity", climateSeries(at: time, count: 6, temperature: 1...6, humidity: 80...95))
        f.num("mycotoxin_content", rounded(0...4, 100))
        f.num("warehouse_cost", rounded(0.05...0.2, 1000)); f.num("inventory_turnover_rate", rounded(4...12))
        f.text("personnel", pick(Self.people))
    }

    /// The transport stage's fields of the next reading.
    mutating func transportFields(_ f: inout FieldList, lotIndex: Int, iso: String, time: Timestamp) {
        f.text("transport_enterprise", "TR-ENT-04"); f.text("transport_number", "T\(counter)")
        f.text("route", pick(["Jinan - Beijing", "Jinan - Tianjin", "Qingdao - Beijing"]))
        f.raw("transport_time", Self.quote(iso))
        f.text("transport_mode", "refrigerated truck")
        f.num("transported_quantity", rounded(300...900, 1))
        f.raw("positioning_track", track(at: time, count: 8, lot: lotIndex))
        f.raw("temperature_humidity", climateSeries(at: time, count: 4, temperature: 2...7, humidity: 75...92))
        f.num("transport_cost", rounded(800...2400, 1)); f.text("personnel", pick(Self.people))
    }

    /// The sales stage's fields of the next reading.
    mutating func salesFields(_ f: inout FieldList, iso: String) {
        f.text("sales_channel", pick(["supermarket", "online", "wholesale market"]))
        f.text("sales_number", "S\(counter)")
        f.raw("sale_time", Self.quote(iso)); f.num("sold_quantity", rounded(20...300, 1))
        f.text("sales_location", pick(["Beijing Chaoyang store 12", "Tianjin Hexi store 3"]))
        f.num("purchase_price", rounded(3.5...7, 100)); f.text("personnel", pick(Self.people))
    }
}

/// The fields of one simulated reading: JSON text by name, in the order they were added.
struct FieldList {
    var items: [(String, String)]

    mutating func text(_ name: String, _ value: String) { items.append((name, ReadingSimulator.quote(value))) }
    mutating func num(_ name: String, _ value: Double) { items.append((name, ReadingSimulator.number(value))) }
    mutating func raw(_ name: String, _ json: String) { items.append((name, json)) }
}
