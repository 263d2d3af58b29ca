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
        var fields: [(String, String)] = [("variety", Self.quote(variety))]
        func text(_ name: String, _ value: String) { fields.append((name, Self.quote(value))) }
        func num(_ name: String, _ value: Double) { fields.append((name, Self.number(value))) }
        func raw(_ name: String, _ json: String) { fields.append((name, json)) }
        let iso = time.iso8601
        switch stage {
        case .breeding:
            text("breeding_enterprise", "BR-ENT-01"); text("breeding_number", "B\(lotIndex)")
            text("growth_cycle", "\(Int(uniform(90...130))) days");
            text("disease_resistance", pick(["high", "medium"]))
            text("genetic_traits", "drought tolerance, yield +\(Int(uniform(3...12)))%")
            text("trait_data", "plant height \(Int(uniform(180...260))) cm")
            num("seed_cost", rounded(2...9, 100)); text("personnel", pick(Self.people))
        case .planting:
            text("planting_origin", "Shandong plot \(lotIndex)"); text("planting_number", "P\(counter)")
            text("planting_qualification", "GAP-2026-\(lotIndex)")
            text("farmland_geo", "36.\(60 + lotIndex % 30)N 117.\(10 + lotIndex % 40)E")
            num("planted_quantity", rounded(800...1600, 1))
            raw("temperature_humidity", climateSeries(at: time, count: 6, temperature: 14...31, humidity: 40...85))
            text("pesticide_fertilizer_use", "NPK \(Int(uniform(20...60))) kg/ha")
            num("mould_content", rounded(0...0.8, 100))
            num("cost_price", rounded(1.2...2.4, 100)); text("personnel", pick(Self.people))
        case .processing:
            text("processing_enterprise", "PR-ENT-02"); text("processing_number", "X\(counter)")
            raw("processing_time", Self.quote(iso));
            text("processing_method", pick(["washing, cutting, vacuum packing", "drying, milling"]))
            text("quality_check_result", pick(["pass", "pass", "pass", "recheck"]))
            num("processed_quantity", rounded(500...1200, 1)); text("sterilization_test", "coliforms < 10 CFU/g")
            text("equipment_monitoring", "line \(lotIndex % 3 + 1) vibration \(rounded(0.5...2.0)) mm/s")
            num("processing_cost", rounded(0.3...0.9, 100)); num("order_price", rounded(3...6, 100));
            text("personnel", pick(Self.people))
        case .warehousing:
            text("warehousing_enterprise", "WH-ENT-03"); text("warehouse_number", "W\(lotIndex % 4 + 1)")
            text("storage_method", pick(["cold storage", "ambient, ventilated"]));
            text("storage_location", "bay \(lotIndex % 12 + 1)")
            text("inventory_status", "\(Int(uniform(200...900))) cases")
            raw("temperature_humidity", climateSeries(at: time, count: 6, temperature: 1...6, humidity: 80...95))
            num("mycotoxin_content", rounded(0...4, 100))
            num("warehouse_cost", rounded(0.05...0.2, 1000)); num("inventory_turnover_rate", rounded(4...12));
            text("personnel", pick(Self.people))
        case .transport:
            text("transport_enterprise", "TR-ENT-04"); text("transport_number", "T\(counter)")
            text("route", pick(["Jinan - Beijing", "Jinan - Tianjin", "Qingdao - Beijing"]));
            raw("transport_time", Self.quote(iso))
            text("transport_mode", "refrigerated truck")
            num("transported_quantity", rounded(300...900, 1))
            raw("positioning_track", track(at: time, count: 8, lot: lotIndex))
            raw("temperature_humidity", climateSeries(at: time, count: 4, temperature: 2...7, humidity: 75...92))
            num("transport_cost", rounded(800...2400, 1)); text("personnel", pick(Self.people))
        case .sales:
            text("sales_channel", pick(["supermarket", "online", "wholesale market"]));
            text("sales_number", "S\(counter)")
            raw("sale_time", Self.quote(iso)); num("sold_quantity", rounded(20...300, 1))
            text("sales_location", pick(["Beijing Chaoyang store 12", "Tianjin Hexi store 3"]))
            num("purchase_price", rounded(3.5...7, 100)); text("personnel", pick(Self.people))
        }
        var line =
            "{\"stage\":\(Self.quote(stage.rawValue)),\"lot\":\(Self.quote(lot)),\"product\":\(Self.quote(product)),\"time\":\(Self.quote(iso))"
        if let previous = Self.previousStage[stage] {
            line += ",\"inputs\":[\(Self.quote(Self.lotID(previous, lotIndex, year: year)))]"
        }
        line += ",\"fields\":{" + fields.map { "\(Self.quote($0.0)):\($0.1)" }.joined(separator: ",") + "}}"
        return line
    }
}
