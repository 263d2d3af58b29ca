/// One leaf of the ledger's append-only Merkle log.
///
/// The leaf hash of a record's entry is `SHA-256(0x00 ‖ canonical(LogEntry.record(record)))`,
/// so an edge box can check its receipt's inclusion proof from the record alone.
public enum LogEntry: Hashable, Sendable, CanonicalCodable {
    /// A classified record, as signed (in its batch) by its device.
    case record(Record)
    /// A change to the device registry, signed by the aggregator's authority key
    /// (``SignatureDomain/transaction``). Tag 2.
    case registry(Signed<RegistryTransaction>)
    /// A transaction of the access-control contracts, signed by its submitter's registered
    /// principal key (``SignatureDomain/transaction``). Tag 3.
    case access(Signed<AccessTransaction>)
    /// A sealed blob's reference (hash, size, key wrapped to the owner), signed by the
    /// uploading device (``SignatureDomain/blobReference``). Tag 4.
    case blob(Signed<BlobReference>)
    /// An access transaction relayed by the access gateway with the network address it
    /// observed (``GatewayAccess``). Tag 5.
    case gateway(GatewayAccess)

    /// The tag byte of each case; new cases take new tags, old tags never change meaning.
    public var tag: UInt8 {
        switch self {
        case .record: 1
        case .registry: 2
        case .access: 3
        case .blob: 4
        case .gateway: 5
        }
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write("agritrace/v1/log-entry", tag)
        switch self {
        case .record(let record): writer.write(record)
        case .registry(let transaction): writer.write(transaction)
        case .access(let transaction): writer.write(transaction)
        case .blob(let reference): writer.write(reference)
        case .gateway(let relayed): writer.write(relayed)
        }
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.readDomain("agritrace/v1/log-entry", "log entry domain")
        switch try reader.readUInt8("log entry tag") {
        case 1: self = .record(try reader.read(Record.self))
        case 2: self = .registry(try reader.read(Signed<RegistryTransaction>.self))
        case 3: self = .access(try reader.read(Signed<AccessTransaction>.self))
        case 4: self = .blob(try reader.read(Signed<BlobReference>.self))
        case 5: self = .gateway(try reader.read(GatewayAccess.self))
        case let tag: throw Canonical.DecodingError.invalidTag(tag, context: "log entry")
        }
    }

    /// The signed access transaction of an access entry, direct or relayed by the gateway.
    public var accessTransaction: Signed<AccessTransaction>? {
        switch self {
        case .access(let signed): signed
        case .gateway(let relayed): relayed.transaction
        case .record, .registry, .blob: nil
        }
    }

    /// The canonical bytes of the entry (what the log's leaf hash covers).
    public var canonicalBytes: [UInt8] { Canonical.encode(self) }

    /// The RFC 9162 leaf hash of the entry.
    public var leafHash: Digest32 { MerkleTree.leafHash(canonicalBytes) }
}
