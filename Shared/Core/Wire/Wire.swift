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
///
/// On the wire a batch says once what its receipts share. A batch's records are nearly always
/// consecutive leaves of one block: their receipts name the same signed tree head and its
/// height, their leaf indices follow each other, and their inclusion proofs end in the same
/// nodes (the audit paths of leaves `i` and `i + 1` part below their lowest common ancestor:
/// two nodes on average). The encoding is the receipt count; the distinct tree heads, in the
/// order the receipts first name them; each receipt (see ``writeReceipt(_:headIndex:previous:to:)``);
/// then the rejections. ``Receipt/encode(to:)`` (a receipt alone, with its head) is unchanged.
///
/// There is one encoding per value: a decoder refuses a head listed twice, a head no receipt
/// names, a receipt naming a head before those listed ahead of it, a receipt that spells out
/// what it could leave out, and a shared proof tail that is not the longest.
public struct ReceiptBatch: Hashable, Sendable, CanonicalCodable {
    public var receipts: [Receipt]
    public var rejections: [Rejection]

    public init(receipts: [Receipt], rejections: [Rejection]) {
        self.receipts = receipts
        self.rejections = rejections
    }

    /// What a receipt leaves out on the wire because its head or the receipt before it says it.
    struct Omissions: OptionSet {
        let rawValue: UInt8
        /// Its head is the previous receipt's: no head index.
        static let previousHead = Omissions(rawValue: 1)
        /// Its height is its head's: no height.
        static let headHeight = Omissions(rawValue: 2)
        /// Its leaf follows the previous receipt's: no leaf index.
        static let nextLeaf = Omissions(rawValue: 4)
        static let all: Omissions = [.previousHead, .headHeight, .nextLeaf]
    }

    /// What the encoder and the decoder carry from one receipt to the next.
    struct Previous {
        var headIndex: Int
        var leafIndex: UInt64
        var proof: [Digest32]
    }

    public func encode(to writer: inout CanonicalWriter) {
        var heads: [Signed<BlockHeader>] = []
        var headIndices: [Int] = []
        headIndices.reserveCapacity(receipts.count)
        for receipt in receipts {
            // Receipts of one block are next to each other: the last head is nearly always it.
            if let index = heads.lastIndex(of: receipt.treeHead) {
                headIndices.append(index)
            } else {
                headIndices.append(heads.count)
                heads.append(receipt.treeHead)
            }
        }
        writer.write(UInt32(receipts.count))
        writer.write(heads)
        var previous: Previous?
        for (receipt, headIndex) in zip(receipts, headIndices) {
            Self.writeReceipt(receipt, headIndex: headIndex, previous: previous, to: &writer)
            previous = Previous(headIndex: headIndex, leafIndex: receipt.leafIndex, proof: receipt.inclusionProof)
        }
        writer.write(rejections)
    }

    public init(from reader: inout CanonicalReader) throws {
        let count = Int(try reader.readUInt32("receipts"))
        if count > reader.remaining { throw Canonical.DecodingError.lengthTooLarge(count, context: "receipts") }
        let heads = try reader.readArray(Signed<BlockHeader>.self, "tree heads")
        if Set(heads).count != heads.count { throw Canonical.DecodingError.nonCanonical("a tree head listed twice") }
        var named = 0
        var previous: Previous?
        receipts = []
        receipts.reserveCapacity(count)
        for _ in 0..<count {
            let (receipt, next) = try Self.readReceipt(&reader, heads: heads, named: &named, previous: previous)
            receipts.append(receipt)
            previous = next
        }
        if named != heads.count { throw Canonical.DecodingError.nonCanonical("a tree head no receipt names") }
        rejections = try reader.readArray(Rejection.self, "rejections")
    }

    static func omissions(_ receipt: Receipt, headIndex: Int, previous: Previous?) -> Omissions {
        var omitted: Omissions = []
        if let previous, previous.headIndex == headIndex { omitted.insert(.previousHead) }
        if receipt.height == receipt.treeHead.value.height { omitted.insert(.headHeight) }
        if let previous, previous.leafIndex != .max, receipt.leafIndex == previous.leafIndex + 1 {
            omitted.insert(.nextLeaf)
        }
        return omitted
    }

    /// A receipt in a batch: a byte of ``Omissions``, the record id, the head's index (unless
    /// it is the previous receipt's), the height (unless it is the head's), the leaf index
    /// (unless it follows the previous receipt's), how many of the previous receipt's last
    /// proof nodes its proof ends with, and how many nodes come before those, then those nodes.
    static func writeReceipt(_ receipt: Receipt, headIndex: Int, previous: Previous?, to writer: inout CanonicalWriter)
    {
        let omitted = omissions(receipt, headIndex: headIndex, previous: previous)
        writer.write(omitted.rawValue)
        writer.write(receipt.recordID)
        if !omitted.contains(.previousHead) { writer.write(UInt32(headIndex)) }
        if !omitted.contains(.headHeight) { writer.write(receipt.height) }
        if !omitted.contains(.nextLeaf) { writer.write(receipt.leafIndex) }
        let proof = receipt.inclusionProof
        let shared = min(sharedTail(proof, previous?.proof ?? []), Int(UInt8.max))
        precondition(proof.count - shared <= Int(UInt8.max), "an inclusion proof has at most 64 nodes")
        writer.write(UInt8(shared))
        writer.write(UInt8(proof.count - shared))
        for node in proof[..<(proof.count - shared)] { node.encode(to: &writer) }
    }

    static func readReceipt(
        _ reader: inout CanonicalReader, heads: [Signed<BlockHeader>], named: inout Int, previous: Previous?
    ) throws -> (Receipt, Previous) {
        let flags = try reader.readUInt8("receipt omissions")
        let omitted = Omissions(rawValue: flags)
        guard Omissions.all.isSuperset(of: omitted),
            previous != nil || omitted.isDisjoint(with: [.previousHead, .nextLeaf])
        else { throw Canonical.DecodingError.invalidTag(flags, context: "receipt omissions") }
        let recordID = try reader.read(RecordID.self)
        var headIndex = previous?.headIndex ?? 0
        if !omitted.contains(.previousHead) {
            headIndex = Int(try reader.readUInt32("tree head index"))
            guard headIndex < heads.count, headIndex <= named else {
                throw Canonical.DecodingError.nonCanonical(
                    "receipt names tree head \(headIndex) of \(heads.count) after \(named) named")
            }
            if headIndex == named { named += 1 }
        }
        let head = heads[headIndex]
        let height = try omitted.contains(.headHeight) ? head.value.height : reader.readUInt64("height")
        let leafIndex = try omitted.contains(.nextLeaf) ? previous!.leafIndex &+ 1 : reader.readUInt64("leaf index")
        let proof = try readProof(&reader, previous: previous?.proof ?? [])
        let receipt = Receipt(
            recordID: recordID, height: height, leafIndex: leafIndex, inclusionProof: proof, treeHead: head)
        guard omissions(receipt, headIndex: headIndex, previous: previous) == omitted else {
            throw Canonical.DecodingError.nonCanonical("a receipt spells out what it could leave out, or the reverse")
        }
        return (receipt, Previous(headIndex: headIndex, leafIndex: leafIndex, proof: proof))
    }

    /// How many nodes `proof` ends with that `previous` ends with too (the longest such tail).
    static func sharedTail(_ proof: [Digest32], _ previous: [Digest32]) -> Int {
        var shared = 0
        while shared < proof.count, shared < previous.count,
            proof[proof.count - 1 - shared] == previous[previous.count - 1 - shared]
        {
            shared += 1
        }
        return shared
    }

    /// A proof as ``writeReceipt(_:headIndex:previous:to:)`` writes it.
    static func readProof(_ reader: inout CanonicalReader, previous: [Digest32]) throws -> [Digest32] {
        let shared = Int(try reader.readUInt8("shared proof nodes"))
        guard shared <= previous.count else {
            throw Canonical.DecodingError.nonCanonical(
                "a proof shares \(shared) nodes with a previous proof of \(previous.count)")
        }
        let count = Int(try reader.readUInt8("inclusion proof"))
        var proof: [Digest32] = []
        proof.reserveCapacity(count + shared)
        for _ in 0..<count { proof.append(try reader.read(Digest32.self)) }
        if let last = proof.last, shared < min(previous.count, Int(UInt8.max)),
            last == previous[previous.count - 1 - shared]
        {
            throw Canonical.DecodingError.nonCanonical("a proof shares more nodes with the previous one than it says")
        }
        proof.append(contentsOf: previous.suffix(shared))
        return proof
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
