#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A point in time: milliseconds since 1970-01-01T00:00:00Z.
public struct Timestamp: Hashable, Comparable, Sendable, Codable, CanonicalCodable, CustomStringConvertible {
    /// Milliseconds since the Unix epoch, UTC.
    public var milliseconds: Int64

    /// Creates a timestamp from milliseconds since the Unix epoch.
    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    /// Creates a timestamp from a Foundation date (rounded down to the millisecond).
    public init(_ date: Date) { milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }

    /// The current wall-clock time.
    public static func now() -> Timestamp { Timestamp(Date()) }

    /// The Foundation date.
    public var date: Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    /// RFC 3339 form in UTC with milliseconds, e.g. `2026-05-01T08:30:00.000Z` (exact).
    public var iso8601: String { RFC3339.format(milliseconds) }

    public var description: String { iso8601 }

    /// Parses an RFC 3339 date-time with an explicit offset (`Z` or `±hh:mm`), with or
    /// without fractional seconds, exactly (``RFC3339``); anything else (a date that does not
    /// exist, a missing offset, another ISO 8601 spelling) is refused.
    public init?(iso8601 text: String) {
        guard let milliseconds = RFC3339.milliseconds(text) else { return nil }
        self.init(milliseconds: milliseconds)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.milliseconds < rhs.milliseconds }

    public func encode(to writer: inout CanonicalWriter) { writer.write(milliseconds) }
    public init(from reader: inout CanonicalReader) throws { milliseconds = try reader.readInt64("timestamp") }
}

/// One sensor measurement in a series, modelled on EPCIS 2.0 `sensorReport`.
public struct SensorSample: Hashable, Sendable, CanonicalCodable {
    /// When the measurement was taken.
    public var time: Timestamp
    /// The EPCIS/CBV sensor measurement type without prefix, e.g. `Temperature`, `RelativeHumidity`.
    public var type: String
    /// The measured value (finite).
    public var value: Double
    /// The UN/CEFACT Rec 20 unit code, e.g. `CEL` (degree Celsius), `P1` (percent).
    public var unit: String

    public init(time: Timestamp, type: String, value: Double, unit: String) {
        self.time = time
        self.type = type
        self.value = value
        self.unit = unit
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(time)
        writer.write(type)
        writer.write(value)
        writer.write(unit)
    }

    public init(from reader: inout CanonicalReader) throws {
        time = try reader.read(Timestamp.self)
        type = try reader.readString("sensor type")
        value = try reader.readDouble("sensor value")
        unit = try reader.readString("sensor unit")
    }
}

/// One satellite position fix of a track.
public struct GeoSample: Hashable, Sendable, CanonicalCodable {
    public var time: Timestamp
    /// Degrees north, -90...90.
    public var latitude: Double
    /// Degrees east, -180...180.
    public var longitude: Double

    public init(time: Timestamp, latitude: Double, longitude: Double) {
        self.time = time
        self.latitude = latitude
        self.longitude = longitude
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(time)
        writer.write(latitude)
        writer.write(longitude)
    }

    public init(from reader: inout CanonicalReader) throws {
        time = try reader.read(Timestamp.self)
        latitude = try reader.readDouble("latitude")
        longitude = try reader.readDouble("longitude")
    }
}

/// The kind of value a catalog field holds.
public enum FieldKind: String, Sendable, CaseIterable, Codable {
    /// Free text (names, identifiers, reports).
    case text
    /// A finite number (quantities, prices, contents).
    case number
    /// A point in time.
    case time
    /// `true` or `false`.
    case bool
    /// A series of sensor samples (temperature, humidity, ...).
    case series
    /// A series of satellite positions.
    case track

    /// What a JSON reading must contain for this kind, for error messages.
    public var expectation: String {
        switch self {
        case .text: "a JSON string"
        case .number: "a JSON number"
        case .time: "an ISO 8601 date-time string with offset (e.g. \"2026-05-01T08:30:00Z\") or epoch milliseconds"
        case .bool: "true or false"
        case .series: "an array of {\"time\", \"type\", \"value\", \"unit\"} objects"
        case .track: "an array of {\"time\", \"lat\", \"lon\"} objects"
        }
    }
}

/// The value of one field of a reading.
public enum FieldValue: Hashable, Sendable {
    case text(String)
    case number(Double)
    case time(Timestamp)
    case bool(Bool)
    case series([SensorSample])
    case track([GeoSample])

    /// The kind of this value.
    public var kind: FieldKind {
        switch self {
        case .text: .text
        case .number: .number
        case .time: .time
        case .bool: .bool
        case .series: .series
        case .track: .track
        }
    }

    /// A short human rendering (used in tables; never logged for private fields).
    public var display: String {
        switch self {
        case .text(let text): return text
        case .number(let number):
            return number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .time(let time): return time.iso8601
        case .bool(let flag): return flag ? "true" : "false"
        case .series(let samples): return "\(samples.count) samples"
        case .track(let fixes): return "\(fixes.count) positions"
        }
    }
}

extension FieldValue: CanonicalCodable {
    public func encode(to writer: inout CanonicalWriter) {
        switch self {
        case .text(let text):
            writer.write(UInt8(1))
            writer.write(text)
        case .number(let number):
            writer.write(UInt8(2))
            writer.write(number)
        case .time(let time):
            writer.write(UInt8(3))
            writer.write(time)
        case .bool(let flag):
            writer.write(UInt8(4))
            writer.write(flag)
        case .series(let samples):
            writer.write(UInt8(5))
            writer.write(samples)
        case .track(let fixes):
            writer.write(UInt8(6))
            writer.write(fixes)
        }
    }

    public init(from reader: inout CanonicalReader) throws {
        switch try reader.readUInt8("field value") {
        case 1: self = .text(try reader.readString("text value"))
        case 2: self = .number(try reader.readDouble("number value"))
        case 3: self = .time(try reader.read(Timestamp.self))
        case 4: self = .bool(try reader.readBool("bool value"))
        case 5: self = .series(try reader.readArray(SensorSample.self, "series"))
        case 6: self = .track(try reader.readArray(GeoSample.self, "track"))
        case let tag: throw Canonical.DecodingError.invalidTag(tag, context: "field value")
        }
    }
}

/// One named field value; records keep these sorted by key.
public struct FieldEntry: Hashable, Sendable, CanonicalCodable {
    /// The full catalog key, e.g. `planting.cost_price`.
    public var key: String
    public var value: FieldValue

    public init(key: String, value: FieldValue) {
        self.key = key
        self.value = value
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(key)
        writer.write(value)
    }

    public init(from reader: inout CanonicalReader) throws {
        key = try reader.readString("field key")
        value = try reader.read(FieldValue.self)
    }
}

extension CanonicalReader {
    /// Reads field entries and checks that keys are strictly increasing (canonical map form).
    public mutating func readSortedEntries(_ context: String) throws -> [FieldEntry] {
        let entries = try readArray(FieldEntry.self, context)
        for (previous, next) in zip(entries, entries.dropFirst())
        where !previous.key.utf8.lexicographicallyPrecedes(next.key.utf8) {
            throw Canonical.DecodingError.nonCanonical("\(context): key \(next.key) is not after \(previous.key)")
        }
        return entries
    }
}

extension Array where Element == FieldEntry {
    /// Sorts entries in canonical key order (by UTF-8 bytes).
    public func canonicallySorted() -> [FieldEntry] {
        sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }
}
