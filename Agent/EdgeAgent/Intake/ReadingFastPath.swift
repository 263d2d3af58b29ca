import AgriTraceCore

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

/// Parses, validates and splits a reading line by privacy level straight from its bytes, in
/// one pass with no intermediate JSON tree and no dictionaries.
///
/// It takes only the common, unambiguous form: keys and strings without escapes, no
/// repeated keys, `stage` before `fields`, catalog fields by their short name, sample
/// objects with exactly their documented keys. Anything else (including every line that is
/// not a valid reading) returns nil, and the caller takes the general path
/// (``JSONLineParser/reading(_:catalog:)`` then ``Classifier/classify(_:sequence:bootID:recordedAt:)``),
/// which accepts the same readings with the same result and names the error of a bad one.
/// The tests compare both paths on every simulated stage.
public struct ReadingFastPath: Sendable {
    /// One catalog field of a stage, with what the hot path needs precomputed.
    struct Field: Sendable {
        var name: [UInt8]
        var key: String
        var kind: FieldKind
        var level: PrivacyLevel
        /// Position in canonical key order within the stage.
        var rank: Int
    }

    /// A reading split by level, each level's entries in canonical key order.
    public struct Split: Sendable {
        public var stage: Stage
        public var lot: String
        public var product: String
        public var device: String?
        public var time: Timestamp
        public var inputLots: [String]
        public var publicFields: [FieldEntry]
        public var level2: [FieldEntry]
        public var level1: [FieldEntry]
    }

    let stages: [(name: [UInt8], stage: Stage, fields: [Field])]

    /// Builds the lookup tables of `catalog` (once per catalog, not per line).
    public init(catalog: FieldCatalog) {
        stages = Stage.allCases.map { stage in
            let definitions = catalog.fields(of: stage).sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            let fields = definitions.enumerated().map { rank, definition in
                Field(
                    name: Array(definition.name.utf8), key: definition.key, kind: definition.kind,
                    level: definition.level, rank: rank)
            }
            return (Array(stage.rawValue.utf8), stage, fields)
        }
    }

    /// The reading of `bytes`, or nil when the line needs the general path.
    public func parse(_ bytes: [UInt8]) -> Split? {
        bytes.withUnsafeBufferPointer { buffer in
            var cursor = Cursor(bytes: buffer)
            return parse(&cursor)
        }
    }

    /// Splits and classifies `bytes` in one go, or nil when the line needs the general path.
    public func classify(
        _ bytes: [UInt8], classifier: Classifier, sequence: UInt64, bootID: String, recordedAt: Timestamp
    ) -> ClassifiedReading? {
        guard let split = parse(bytes) else { return nil }
        return classifier.classify(
            stage: split.stage, lot: split.lot, product: split.product, source: split.device, time: split.time,
            inputLots: split.inputLots, sortedPublicFields: split.publicFields, sortedLevel2: split.level2,
            sortedLevel1: split.level1, sequence: sequence, bootID: bootID, recordedAt: recordedAt)
    }

    private func parse(_ c: inout Cursor) -> Split? {
        c.skipWhitespace()
        guard c.take(UInt8(ascii: "{")) else { return nil }
        var stageIndex: Int?
        var lot: String?
        var product: String?
        var device: String?
        var time: Timestamp?
        var inputLots: [String]?
        var entries: [(rank: Int, level: PrivacyLevel, entry: FieldEntry)]?
        c.skipWhitespace()
        if c.peek == UInt8(ascii: "}") { return nil }
        while true {
            c.skipWhitespace()
            guard let key = c.rawString() else { return nil }
            c.skipWhitespace()
            guard c.take(UInt8(ascii: ":")) else { return nil }
            c.skipWhitespace()
            switch Self.topLevelKey(key) {
            case 0:  // stage
                guard stageIndex == nil, let name = c.rawString() else { return nil }
                guard let index = stages.firstIndex(where: { Self.equal($0.name, name) }) else { return nil }
                stageIndex = index
            case 1:  // lot
                guard lot == nil, let text = c.identifier() else { return nil }
                lot = text
            case 2:  // product
                guard product == nil, let text = c.identifier() else { return nil }
                product = text
            case 3:  // device
                guard device == nil, let text = c.identifier() else { return nil }
                device = text
            case 4:  // time
                guard time == nil, let value = c.time() else { return nil }
                time = value
            case 5:  // inputs
                guard inputLots == nil, c.take(UInt8(ascii: "[")) else { return nil }
                var lots: [String] = []
                c.skipWhitespace()
                if !c.take(UInt8(ascii: "]")) {
                    while true {
                        c.skipWhitespace()
                        guard let text = c.identifier() else { return nil }
                        lots.append(text)
                        c.skipWhitespace()
                        if c.take(UInt8(ascii: ",")) { continue }
                        guard c.take(UInt8(ascii: "]")) else { return nil }
                        break
                    }
                }
                inputLots = lots
            case 6:  // fields
                guard entries == nil, let stageIndex, c.take(UInt8(ascii: "{")) else { return nil }
                guard let parsed = fields(&c, stages[stageIndex].fields) else { return nil }
                entries = parsed
            default:
                return nil
            }
            c.skipWhitespace()
            if c.take(UInt8(ascii: ",")) { continue }
            guard c.take(UInt8(ascii: "}")) else { return nil }
            break
        }
        c.skipWhitespace()
        guard c.atEnd, let stageIndex, let lot, let product, let time else { return nil }
        var split = Split(
            stage: stages[stageIndex].stage, lot: lot, product: product, device: device, time: time,
            inputLots: inputLots ?? [], publicFields: [], level2: [], level1: [])
        if var entries {
            entries.sort { $0.rank < $1.rank }
            for item in entries {
                switch item.level {
                case .public: split.publicFields.append(item.entry)
                case .level2: split.level2.append(item.entry)
                case .level1: split.level1.append(item.entry)
                }
            }
        }
        return split
    }

    private func fields(_ c: inout Cursor, _ catalog: [Field]) -> [(rank: Int, level: PrivacyLevel, entry: FieldEntry)]?
    {
        var entries: [(rank: Int, level: PrivacyLevel, entry: FieldEntry)] = []
        entries.reserveCapacity(catalog.count)
        var seen = [Bool](repeating: false, count: catalog.count)
        c.skipWhitespace()
        if c.take(UInt8(ascii: "}")) { return entries }
        while true {
            c.skipWhitespace()
            guard let name = c.rawString() else { return nil }
            guard let index = catalog.firstIndex(where: { Self.equal($0.name, name) }), !seen[index] else {
                return nil
            }
            seen[index] = true
            let field = catalog[index]
            c.skipWhitespace()
            guard c.take(UInt8(ascii: ":")) else { return nil }
            c.skipWhitespace()
            guard let value = c.value(of: field.kind) else { return nil }
            entries.append((field.rank, field.level, FieldEntry(key: field.key, value: value)))
            c.skipWhitespace()
            if c.take(UInt8(ascii: ",")) { continue }
            guard c.take(UInt8(ascii: "}")) else { return nil }
            return entries
        }
    }

    static func equal(_ a: [UInt8], _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBufferPointer { memcmp($0.baseAddress!, b.baseAddress!, a.count) == 0 }
    }

    static let topLevelKeys: [[UInt8]] = ["stage", "lot", "product", "device", "time", "inputs", "fields"].map {
        Array($0.utf8)
    }

    static func topLevelKey(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        topLevelKeys.firstIndex { equal($0, key) } ?? -1
    }

    struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        var atEnd: Bool { position == bytes.count }
        var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipWhitespace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return
                }
            }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        /// The bytes of a string with no escapes and no control characters (nil otherwise).
        mutating func rawString() -> UnsafeBufferPointer<UInt8>? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = position
            position = bytes.plainJSONStringEnd(from: start)
            guard take(UInt8(ascii: "\"")) else { return nil }
            return UnsafeBufferPointer(rebasing: bytes[start..<position - 1])
        }

        mutating func string() -> String? {
            guard let raw = rawString() else { return nil }
            return UTF8Text.string(validating: raw)
        }

        /// A lot, product or device id that passes the shared identifier rule (ASCII only
        /// here; other ids take the general path).
        mutating func identifier() -> String? {
            guard let raw = rawString(), !raw.isEmpty, raw.count <= Reading.maximumIdentifierLength else { return nil }
            for byte in raw where byte >= 0x7F { return nil }
            return String(decoding: raw, as: UTF8.self)
        }

        /// A time in ``ReadingTimeWindow`` (nil otherwise, for the general
        /// path to name the problem).
        mutating func time() -> Timestamp? {
            let time: Timestamp
            if peek == UInt8(ascii: "\"") {
                guard let raw = rawString(), let milliseconds = RFC3339.milliseconds(raw) else { return nil }
                time = Timestamp(milliseconds: milliseconds)
            } else {
                guard let number = number(), number == number.rounded(), abs(number) < 9e15 else { return nil }
                time = Timestamp(milliseconds: Int64(number))
            }
            return ReadingTimeWindow.contains(time) ? time : nil
        }

        mutating func value(of kind: FieldKind) -> FieldValue? {
            switch kind {
            case .text:
                return string().map { .text($0) }
            case .number:
                return number().map { .number($0) }
            case .bool:
                if peek == UInt8(ascii: "t"), literal("true") { return .bool(true) }
                if peek == UInt8(ascii: "f"), literal("false") { return .bool(false) }
                return nil
            case .time:
                return time().map { .time($0) }
            case .series:
                var samples: [SensorSample] = []
                var normaliser = SensorMeasurement.SeriesNormaliser()
                let ok = array { cursor in
                    guard let sample = cursor.sensorSample(normaliser: &normaliser) else { return false }
                    samples.append(sample)
                    return true
                }
                return ok ? .series(samples) : nil
            case .track:
                var fixes: [GeoSample] = []
                let ok = array { cursor in
                    guard let fix = cursor.geoSample() else { return false }
                    fixes.append(fix)
                    return true
                }
                return ok ? .track(fixes) : nil
            }
        }

        mutating func literal(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard position + count <= bytes.count else { return false }
            for index in 0..<count where bytes[position + index] != text.utf8Start[index] { return false }
            position += count
            return true
        }

        mutating func array(_ element: (inout Cursor) -> Bool) -> Bool {
            guard take(UInt8(ascii: "[")) else { return false }
            skipWhitespace()
            if take(UInt8(ascii: "]")) { return true }
            while true {
                skipWhitespace()
                guard element(&self) else { return false }
                skipWhitespace()
                if take(UInt8(ascii: ",")) { continue }
                return take(UInt8(ascii: "]"))
            }
        }

        /// An object whose keys are exactly `keys`, each once, in any order; `member` parses
        /// the value of key number `index`.
        mutating func object(keys: [[UInt8]], _ member: (inout Cursor, Int) -> Bool) -> Bool {
            guard take(UInt8(ascii: "{")) else { return false }
            var seen = 0
            skipWhitespace()
            while true {
                skipWhitespace()
                guard let key = rawString(), let index = keys.firstIndex(where: { ReadingFastPath.equal($0, key) }),
                    seen & (1 << index) == 0
                else { return false }
                seen |= 1 << index
                skipWhitespace()
                guard take(UInt8(ascii: ":")) else { return false }
                skipWhitespace()
                guard member(&self, index) else { return false }
                skipWhitespace()
                if take(UInt8(ascii: ",")) { continue }
                return take(UInt8(ascii: "}")) && seen == (1 << keys.count) - 1
            }
        }

        static let sampleKeys: [[UInt8]] = ["time", "type", "value", "unit"].map { Array($0.utf8) }
        static let fixKeys: [[UInt8]] = ["time", "lat", "lon"].map { Array($0.utf8) }

        mutating func sensorSample(normaliser: inout SensorMeasurement.SeriesNormaliser) -> SensorSample? {
            var time = Timestamp(milliseconds: 0)
            var type = ""
            var value = 0.0
            var unit = ""
            let ok = object(keys: Self.sampleKeys) { cursor, index in
                switch index {
                case 0:
                    guard let parsed = cursor.time() else { return false }
                    time = parsed
                case 1:
                    guard let parsed = cursor.string() else { return false }
                    type = parsed
                case 2:
                    guard let parsed = cursor.number() else { return false }
                    value = parsed
                default:
                    guard let parsed = cursor.string() else { return false }
                    unit = parsed
                }
                return true
            }
            // Unknown types and units go to the general path, which names the field and the fix.
            return ok ? normaliser.normalised(SensorSample(time: time, type: type, value: value, unit: unit)) : nil
        }

        mutating func geoSample() -> GeoSample? {
            var time = Timestamp(milliseconds: 0)
            var latitude = 0.0
            var longitude = 0.0
            let ok = object(keys: Self.fixKeys) { cursor, index in
                switch index {
                case 0:
                    guard let parsed = cursor.time() else { return false }
                    time = parsed
                case 1:
                    guard let parsed = cursor.number(), (-90...90).contains(parsed) else { return false }
                    latitude = parsed
                default:
                    guard let parsed = cursor.number(), (-180...180).contains(parsed) else { return false }
                    longitude = parsed
                }
                return true
            }
            return ok ? GeoSample(time: time, latitude: latitude, longitude: longitude) : nil
        }

        static let powersOfTen: [Double] = (0...22).map { exponent in
            var value = 1.0
            for _ in 0..<exponent { value *= 10 }
            return value
        }

        /// A JSON number with the general parser's grammar and exactly `strtod`'s value: up
        /// to 15 significant digits and a decimal exponent within ±22 are converted with one
        /// correctly rounded multiplication or division of two exact doubles (Clinger's fast
        /// path); anything longer goes through `strtod` itself.
        mutating func number() -> Double? {
            let start = position
            var negative = false
            if take(UInt8(ascii: "-")) { negative = true }
            var mantissa: UInt64 = 0
            var significant = 0
            var exponent = 0
            guard position < bytes.count else { return nil }
            func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
            let integerStart = position
            if bytes[position] == UInt8(ascii: "0") {
                position += 1
            } else {
                guard isDigit(bytes[position]) else { return nil }
                while position < bytes.count, isDigit(bytes[position]) {
                    if significant < 19 {
                        mantissa = mantissa * 10 + UInt64(bytes[position] - 0x30)
                        if mantissa != 0 { significant += 1 }
                    } else {
                        exponent += 1
                        significant += 1
                    }
                    position += 1
                }
            }
            let integerDigits = UnsafeBufferPointer(rebasing: bytes[integerStart..<position])
            var isInteger = true
            if take(UInt8(ascii: ".")) {
                isInteger = false
                guard position < bytes.count, isDigit(bytes[position]) else { return nil }
                while position < bytes.count, isDigit(bytes[position]) {
                    if significant < 19 {
                        mantissa = mantissa * 10 + UInt64(bytes[position] - 0x30)
                        if mantissa != 0 { significant += 1 }
                        exponent -= 1
                    } else {
                        significant += 1
                    }
                    position += 1
                }
            }
            var explicitExponent = 0
            if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
                position += 1
                isInteger = false
                var exponentNegative = false
                if take(UInt8(ascii: "+")) {
                } else if take(UInt8(ascii: "-")) {
                    exponentNegative = true
                }
                guard position < bytes.count, isDigit(bytes[position]) else { return nil }
                while position < bytes.count, isDigit(bytes[position]) {
                    if explicitExponent < 10_000 {
                        explicitExponent = explicitExponent * 10 + Int(bytes[position] - 0x30)
                    }
                    position += 1
                }
                if exponentNegative { explicitExponent = -explicitExponent }
            }
            exponent += explicitExponent
            if isInteger, JSONLineParser.exceedsExactIntegers(integerDigits) { return nil }
            if significant <= 15, (-22...22).contains(exponent) {
                var value = Double(mantissa)
                if exponent < 0 {
                    value /= Self.powersOfTen[-exponent]
                } else {
                    value *= Self.powersOfTen[exponent]
                }
                return negative ? -value : value
            }
            let value = withUnsafeTemporaryAllocation(of: CChar.self, capacity: position - start + 1) { text in
                for index in start..<position { text[index - start] = CChar(bitPattern: bytes[index]) }
                text[position - start] = 0
                return strtod(text.baseAddress!, nil)
            }
            // Overflow, underflow to zero and integers beyond 2^53: the general path names them.
            let problem = JSONLineParser.numberProblem(
                value, isInteger: isInteger, integerDigits: integerDigits,
                literal: UnsafeBufferPointer(rebasing: bytes[start..<position]))
            return problem == nil ? value : nil
        }
    }
}
