/// `publishDirectoryEntry`: the owner's public description of one protected resource (docs/governance.md,
/// "Resource directory"): a dataset (a lot at one privacy level) or an off-chain blob. It says
/// what exists and whom to ask, never who may have it: a hidden policy is not part of it.
public struct DirectoryEntry: Hashable, Sendable, CanonicalCodable {
    /// What the entry describes.
    public enum Resource: Hashable, Sendable {
        /// The private data of one lot at one level.
        case dataset(lot: String, level: ABAC.Sensitivity)
        /// One off-chain blob, by its id (the SHA-256 of its sealed bytes).
        case blob(Digest32)

        /// The directory's key: `dataset:LOT:LEVEL` or `blob:HEX`.
        public var key: String {
            switch self {
            case .dataset(let lot, let level): "dataset:\(lot):\(level.rawValue)"
            case .blob(let id): "blob:\(id.hex)"
            }
        }
    }

    public var resource: Resource
    public var name: String
    public var overview: String
    /// The producing enterprise (the resource's owner).
    public var producer: String
    public var stage: Stage
    public var product: String
    /// The media type of the data as delivered, e.g. `application/json`.
    public var mediaType: String
    /// Its format, e.g. `agritrace fetch JSON` or `EPCIS 2.0`.
    public var format: String
    /// Its size in bytes (an estimate for a dataset).
    public var size: UInt64
    /// Which party's service holds it (e.g. the owner's transfer service, a URL).
    public var heldBy: String
    /// How long it is kept, in days.
    public var retentionDays: UInt32

    public init(
        resource: Resource, name: String, overview: String, producer: String, stage: Stage, product: String,
        mediaType: String, format: String, size: UInt64, heldBy: String, retentionDays: UInt32
    ) {
        self.resource = resource
        self.name = name
        self.overview = overview
        self.producer = producer
        self.stage = stage
        self.product = product
        self.mediaType = mediaType
        self.format = format
        self.size = size
        self.heldBy = heldBy
        self.retentionDays = retentionDays
    }

    public func encode(to writer: inout CanonicalWriter) {
        switch resource {
        case .dataset(let lot, let level): writer.write(UInt8(1), lot, level.rawValue)
        case .blob(let id): writer.write(UInt8(2), id)
        }
        writer.write(name, overview, producer, stage, product, mediaType)
        writer.write(format, size, heldBy, retentionDays)
    }

    public init(from reader: inout CanonicalReader) throws {
        switch try reader.readUInt8("directory resource") {
        case 1:
            resource = .dataset(
                lot: try reader.readString("lot"),
                level: try reader.readRawValue(ABAC.Sensitivity.self, "sensitivity level"))
        case 2: resource = .blob(try reader.read(Digest32.self))
        case let tag: throw Canonical.DecodingError.invalidTag(tag, context: "directory resource")
        }
        name = try reader.readString("name")
        overview = try reader.readString("overview")
        producer = try reader.readString("producer")
        stage = try reader.read(Stage.self)
        product = try reader.readString("product")
        mediaType = try reader.readString("media type")
        format = try reader.readString("format")
        size = try reader.readUInt64("size")
        heldBy = try reader.readString("held by")
        retentionDays = try reader.readUInt32("retention days")
    }
}
