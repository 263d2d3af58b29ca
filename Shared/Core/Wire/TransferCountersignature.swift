/// `countersignTransfer`: the receiver of a transfer (`addTransfer`) signs what it received:
/// the transfer's leaf and request, the digest of the blob ids it received
/// (``TransferRecord/digest(of:)``) and how many records. A transfer is complete only once
/// its receiver countersigned it (docs/governance.md, "Trades signed by both sides").
public struct TransferCountersignature: Hashable, Sendable, CanonicalCodable {
    public var requestID: String
    /// The leaf of the `addTransfer` being countersigned.
    public var transferLeaf: UInt64
    /// ``TransferRecord/digest(of:)`` of the blob ids the receiver received and verified.
    public var receivedDigest: Digest32
    /// How many records the receiver received.
    public var recordCount: UInt32

    public init(requestID: String, transferLeaf: UInt64, receivedDigest: Digest32, recordCount: UInt32) {
        self.requestID = requestID
        self.transferLeaf = transferLeaf
        self.receivedDigest = receivedDigest
        self.recordCount = recordCount
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(requestID, transferLeaf, receivedDigest, recordCount)
    }

    public init(from reader: inout CanonicalReader) throws {
        requestID = try reader.readString("request id")
        transferLeaf = try reader.readUInt64("transfer leaf")
        receivedDigest = try reader.read(Digest32.self)
        recordCount = try reader.readUInt32("record count")
    }
}
