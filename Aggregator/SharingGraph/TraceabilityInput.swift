#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A point on the earth (degrees, WGS 84).
public struct GeoPoint: Hashable, Sendable, Codable {
    public var latitude: Double
    public var longitude: Double

    public init(latitude: Double, longitude: Double) {
        self.latitude = latitude
        self.longitude = longitude
    }

    /// Great-circle distance in kilometres (haversine, mean earth radius 6371 km).
    public func kilometres(to other: GeoPoint) -> Double {
        let radians = Double.pi / 180
        let dLat = (other.latitude - latitude) * radians
        let dLon = (other.longitude - longitude) * radians
        let a =
            sin(dLat / 2) * sin(dLat / 2)
            + cos(latitude * radians) * cos(other.latitude * radians) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * 6371 * atan2(a.squareRoot(), (1 - a).squareRoot())
    }

    /// Parses `"lat,lon"` (decimal degrees, optional spaces), as a public location field may
    /// hold it; nil for anything else (a place name).
    public init?(text: String) {
        let parts = text.split(separator: ",").map { $0.trimmingWhitespace() }
        guard parts.count == 2, let latitude = Double(parts[0]), let longitude = Double(parts[1]),
            (-90...90).contains(latitude), (-180...180).contains(longitude)
        else { return nil }
        self.init(latitude: latitude, longitude: longitude)
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

/// A record's public facts the traceability checks read.
public struct TraceRecord: Hashable, Sendable, Codable {
    public var leaf: UInt64
    public var lot: String
    /// The stage's position in the chain: breeding 0, planting 1, processing 2,
    /// warehousing 3, transport 4, sales 5.
    public var stage: Int
    /// Observation time, ms since 1970.
    public var time: Int64
    public var enterprise: String
    public var device: String
    public var inputLots: [String]
    /// Where it was recorded, when a public field says so.
    public var location: GeoPoint?

    public init(
        leaf: UInt64, lot: String, stage: Int, time: Int64, enterprise: String, device: String,
        inputLots: [String] = [], location: GeoPoint? = nil
    ) {
        self.leaf = leaf
        self.lot = lot
        self.stage = stage
        self.time = time
        self.enterprise = enterprise
        self.device = device
        self.inputLots = inputLots
        self.location = location
    }
}

/// A sensor series (e.g. a truck's temperature) of one record.
public struct SensorSeries: Hashable, Sendable, Codable {
    /// One sample.
    public struct Sample: Hashable, Sendable, Codable {
        public var time: Int64
        public var value: Double

        public init(time: Int64, value: Double) {
            self.time = time
            self.value = value
        }
    }

    /// The record's leaf (the evidence).
    public var leaf: UInt64
    public var lot: String
    public var device: String
    /// What is measured (`temperature`).
    public var measure: String
    public var samples: [Sample]

    public init(leaf: UInt64, lot: String, device: String, measure: String = "temperature", samples: [Sample]) {
        self.leaf = leaf
        self.lot = lot
        self.device = device
        self.measure = measure
        self.samples = samples
    }
}
