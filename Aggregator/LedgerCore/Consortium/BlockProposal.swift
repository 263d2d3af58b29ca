import AgriTraceCore

/// A body a consortium node ingested and put up for ordering, named by its digest
/// (``digest``). Bytes stay bytes: a record batch is the MQTT payload the device published,
/// a transaction the signed canonical bytes that were submitted.
public enum ConsortiumBody: Sendable, Hashable, CanonicalCodable {
    /// A device's `Signed<RecordBatch>` payload and the topic it was published on.
    case recordBatch(topic: String, payload: [UInt8])
    /// A `Signed<RegistryTransaction>`.
    case registry([UInt8])
    /// A `Signed<AccessTransaction>`, with the address the access gateway observed if it relayed it.
    case access([UInt8], observedAddress: String?)
    /// A `Signed<BlobReference>`.
    case blob([UInt8])

    static let domain = "agritrace/v1/consortium-body"

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(Self.domain)
        switch self {
        case .recordBatch(let topic, let payload):
            writer.write(UInt8(1))
            writer.write(topic)
            writer.writeBytes(payload)
        case .registry(let bytes):
            writer.write(UInt8(2))
            writer.writeBytes(bytes)
        case .access(let bytes, let observedAddress):
            writer.write(UInt8(3))
            writer.writeBytes(bytes)
            writer.write(observedAddress)
        case .blob(let bytes):
            writer.write(UInt8(4))
            writer.writeBytes(bytes)
        }
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.readDomain(Self.domain, "consortium body")
        switch try reader.readUInt8("consortium body kind") {
        case 1: self = .recordBatch(topic: try reader.readString("topic"), payload: try reader.readBytes("payload"))
        case 2: self = .registry(try reader.readBytes("registry transaction"))
        case 3:
            self = .access(
                try reader.readBytes("access transaction"),
                observedAddress: try reader.readOptional(String.self, "observed address"))
        case 4: self = .blob(try reader.readBytes("blob reference"))
        case let tag: throw Canonical.DecodingError.invalidTag(tag, context: "consortium body kind")
        }
    }

    /// The name a proposal orders it by: SHA-256 of its canonical bytes.
    public var digest: Digest32 { Digest32.sha256(Canonical.encode(self)) }
}

/// A consortium block as the sequencer proposes it: its height, its time (the sequencer's
/// clock, never before the previous proposal's) and the digests of the bodies it orders, in
/// order. Every node applies it with the same code and no clock, randomness or arrival order
/// of its own, so every node gets the same log and state (docs/consortium.md).
public struct BlockProposal: Sendable, Hashable, CanonicalCodable {
    /// 1 for the first proposal, then one more each time.
    public var height: UInt64
    /// The block time every node's contracts see.
    public var time: Timestamp
    /// The node that proposed it (the sequencer of the term), for the record.
    public var sequencer: String
    /// The ordered bodies, by ``ConsortiumBody/digest``.
    public var bodies: [Digest32]

    public init(height: UInt64, time: Timestamp, sequencer: String, bodies: [Digest32]) {
        self.height = height
        self.time = time
        self.sequencer = sequencer
        self.bodies = bodies
    }

    static let domain = "agritrace/v1/consortium-proposal"

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(Self.domain)
        writer.write(height, time, sequencer, bodies)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.readDomain(Self.domain, "block proposal")
        height = try reader.readUInt64("height")
        time = try reader.read(Timestamp.self)
        sequencer = try reader.readString("sequencer")
        bodies = try reader.readArray(Digest32.self, "bodies")
    }
}
