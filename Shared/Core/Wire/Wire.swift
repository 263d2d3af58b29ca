import Crypto

/// The MQTT topics and payloads exchanged between edge agents and the aggregator.
///
/// Every payload is the canonical encoding of a signed value; nothing private is in it.
public enum Wire {
    /// The topic prefix; the version changes when payloads change incompatibly.
    public static let topicPrefix = "agritrace/v1"

    /// `agritrace/v1/<enterprise>/<device>/records`: where a device publishes record batches.
    public static func recordTopic(enterprise: String, device: String) -> String {
        "\(topicPrefix)/\(enterprise)/\(device)/records"
    }

    /// `agritrace/v1/<enterprise>/<device>/receipts`: where the aggregator answers a device.
    public static func receiptTopic(enterprise: String, device: String) -> String {
        "\(topicPrefix)/\(enterprise)/\(device)/receipts"
    }

    /// The subscription filter for every device's records.
    public static let allRecordsFilter = "\(topicPrefix)/+/+/records"

    /// `agritrace/v1/nodes/<share group>`: where an aggregator node claims its share group
    /// (one single-node ledger per group; `ShareGroupClaim` in the Ingest module).
    public static func nodeClaimTopic(group: String) -> String { "\(topicPrefix)/nodes/\(group)" }

    /// The filter of every share group's claim topic (the aggregator's ACL grant).
    public static let nodeClaimsFilter = "\(topicPrefix)/nodes/+"

    /// Parses `(enterprise, device)` out of a record or receipt topic.
    public static func parseDeviceTopic(_ topic: String) -> (enterprise: String, device: String)? {
        let parts = topic.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 5, "\(parts[0])/\(parts[1])" == topicPrefix, !parts[2].isEmpty, !parts[3].isEmpty else {
            return nil
        }
        return (String(parts[2]), String(parts[3]))
    }
}

/// Records published together in one MQTT message, signed once by the device
/// (``SignatureDomain/recordBatch``).
public struct RecordBatch: Hashable, Sendable, CanonicalCodable {
    public var enterprise: String
    public var device: String
    /// When the batch was sent (device clock).
    public var sentAt: Timestamp
    public var records: [Record]

    public init(enterprise: String, device: String, sentAt: Timestamp, records: [Record]) {
        self.enterprise = enterprise
        self.device = device
        self.sentAt = sentAt
        self.records = records
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(enterprise, device, sentAt, records)
    }

    public init(from reader: inout CanonicalReader) throws {
        enterprise = try reader.readString("enterprise")
        device = try reader.readString("device")
        sentAt = try reader.read(Timestamp.self)
        records = try reader.readArray(Record.self, "records")
    }
}

/// A block header: the aggregator's signed tree head (``SignatureDomain/blockHeader``).
public struct BlockHeader: Hashable, Sendable, CanonicalCodable {
    public var height: UInt64
    /// The hash of the previous block's canonical signed header; ``Digest32/zero`` for genesis.
    public var previousHash: Digest32
    /// The RFC 9162 root over this block's transactions.
    public var transactionRoot: Digest32
    /// How many transactions the block holds.
    public var transactionCount: UInt32
    /// The size of the append-only log after this block.
    public var logSize: UInt64
    /// The RFC 9162 root of the log after this block.
    public var logRoot: Digest32
    /// When the block was cut (aggregator clock).
    public var time: Timestamp
    /// The id of the node that proposed the block.
    public var proposer: String

    public init(
        height: UInt64, previousHash: Digest32, transactionRoot: Digest32, transactionCount: UInt32,
        logSize: UInt64, logRoot: Digest32, time: Timestamp, proposer: String
    ) {
        self.height = height
        self.previousHash = previousHash
        self.transactionRoot = transactionRoot
        self.transactionCount = transactionCount
        self.logSize = logSize
        self.logRoot = logRoot
        self.time = time
        self.proposer = proposer
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(height, previousHash, transactionRoot, transactionCount, logSize, logRoot, time, proposer)
    }

    public init(from reader: inout CanonicalReader) throws {
        height = try reader.readUInt64("height")
        previousHash = try reader.read(Digest32.self)
        transactionRoot = try reader.read(Digest32.self)
        transactionCount = try reader.readUInt32("transaction count")
        logSize = try reader.readUInt64("log size")
        logRoot = try reader.read(Digest32.self)
        time = try reader.read(Timestamp.self)
        proposer = try reader.readString("proposer")
    }
}

/// The aggregator's word that a record is on the ledger.
public struct Receipt: Hashable, Sendable, CanonicalCodable {
    public var recordID: RecordID
    /// The block that holds the record's transaction.
    public var height: UInt64
    /// The record's leaf index in the append-only log.
    public var leafIndex: UInt64
    /// The audit path of the leaf in the log as of `treeHead` (RFC 9162), leaf to root.
    public var inclusionProof: [Digest32]
    /// The signed header of the block (the signed tree head the proof is against).
    public var treeHead: Signed<BlockHeader>

    public init(
        recordID: RecordID, height: UInt64, leafIndex: UInt64, inclusionProof: [Digest32], treeHead: Signed<BlockHeader>
    ) {
        self.recordID = recordID
        self.height = height
        self.leafIndex = leafIndex
        self.inclusionProof = inclusionProof
        self.treeHead = treeHead
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(recordID, height, leafIndex, inclusionProof, treeHead)
    }

    public init(from reader: inout CanonicalReader) throws {
        recordID = try reader.read(RecordID.self)
        height = try reader.readUInt64("height")
        leafIndex = try reader.readUInt64("leaf index")
        inclusionProof = try reader.readArray(Digest32.self, "inclusion proof")
        treeHead = try reader.read(Signed<BlockHeader>.self)
    }
}

/// The aggregator's refusal of a record or a whole batch.
public struct Rejection: Hashable, Sendable, CanonicalCodable {
    /// The record refused, or nil when the whole batch was refused.
    public var recordID: RecordID?
    /// Why, e.g. ``RejectionCode/badSignature`` (`bad-signature` on the wire).
    public var code: RejectionCode
    /// A human explanation with the fix.
    public var reason: String

    public init(recordID: RecordID?, code: RejectionCode, reason: String) {
        self.recordID = recordID
        self.code = code
        self.reason = reason
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(recordID)
        writer.write(code.rawValue)
        writer.write(reason)
    }

    public init(from reader: inout CanonicalReader) throws {
        recordID = try reader.readOptional(RecordID.self, "record id")
        code = RejectionCode(rawValue: try reader.readString("code"))
        reason = try reader.readString("reason")
    }
}

/// What the aggregator publishes on a device's receipt topic, signed by the aggregator
/// (``SignatureDomain/receiptBatch``).
public struct ReceiptBatch: Hashable, Sendable, CanonicalCodable {
    public var receipts: [Receipt]
    public var rejections: [Rejection]

    public init(receipts: [Receipt], rejections: [Rejection]) {
        self.receipts = receipts
        self.rejections = rejections
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(receipts, rejections)
    }

    public init(from reader: inout CanonicalReader) throws {
        receipts = try reader.readArray(Receipt.self, "receipts")
        rejections = try reader.readArray(Rejection.self, "rejections")
    }
}

extension Receipt {
    /// Checks the receipt against the aggregator's authority key and the record it names:
    /// the tree head's signature, and the record's leaf in the log.
    /// - Parameters:
    ///   - leafEntry: the canonical bytes of the log entry the aggregator appended for the record.
    ///   - authority: the aggregator's Ed25519 authority key.
    public func verify(leafEntry: [UInt8], authority: Curve25519.Signing.PublicKey) throws {
        try treeHead.verify(domain: .blockHeader, key: authority)
        try MerkleTree.verifyInclusion(
            leafHash: MerkleTree.leafHash(leafEntry), index: leafIndex, treeSize: treeHead.value.logSize,
            proof: inclusionProof, root: treeHead.value.logRoot)
    }
}
