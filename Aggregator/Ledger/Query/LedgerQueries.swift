import AgriTraceCore
import Crypto
import Foundation
import SQLiteStorage

/// One record in a trace, with where it is on the ledger.
public struct TracedRecord: Sendable {
    public var record: Record
    public var leafIndex: UInt64
    public var height: UInt64
    /// How many lot links away from the lot asked for (0 for the lot itself).
    public var distance: Int
}

/// One trace row as the API and `agritrace trace --json` print it.
public struct TraceRow: Codable, Sendable {
    public var lot: String
    public var distance: Int
    public var recordID: String
    public var stage: String
    public var product: String
    public var enterprise: String
    public var device: String
    public var time: String
    public var clockTrusted: Bool
    public var inputLots: [String]
    public var publicFields: [String: String]
    /// Level commitments: `level-2` / `level-1` → root hex and field count.
    public var commitments: [String: String]
    public var height: UInt64
    public var leafIndex: UInt64
    /// The record that supersedes this one (`correctRecord`, docs/governance.md), if any.
    public var supersededBy: String?
    /// The record this one corrects, if any.
    public var supersedes: String?
    /// Why the record was corrected (on both records of a correction).
    public var correctionReason: String?

    public init(_ item: TracedRecord) {
        let record = item.record
        var commitments: [String: String] = [:]
        if let level2 = record.level2 { commitments["level-2"] = "\(level2.root.hex) (\(level2.fieldCount) fields)" }
        if let level1 = record.level1 { commitments["level-1"] = "\(level1.root.hex) (\(level1.fieldCount) fields)" }
        lot = record.lot
        distance = item.distance
        recordID = record.id.hex
        stage = record.stage.rawValue
        product = record.product
        enterprise = record.enterprise
        device = record.device
        time = record.time.iso8601
        clockTrusted = record.clockTrusted
        inputLots = record.inputLots
        publicFields = Dictionary(uniqueKeysWithValues: record.publicFields.map { ($0.key, $0.value.display) })
        self.commitments = commitments
        height = item.height
        leafIndex = item.leafIndex
    }
}

/// The device registry as stored.
public struct DeviceRow: Sendable, Codable {
    public var enterprise: String
    public var device: String
    public var publicKey: String
    public var stage: String?
    public var status: RegistrationStatus
    public var registeredHeight: UInt64
    public var revokedHeight: UInt64?
}

/// A summary of a store for `agritrace status`.
public struct LedgerStatus: Sendable, Codable {
    public var height: UInt64
    public var logSize: UInt64
    public var logRoot: String?
    public var lastBlockTime: String?
    public var records: Int
    public var enterprises: Int
    public var devicesActive: Int
    public var devicesRevoked: Int
    /// Records per second over the blocks of the last minute before the last block.
    public var ingestRatePerSecond: Double
    public var pendingSubmissions: Int
    /// Ingest counters (batches and records received, duplicates, rejections by code).
    public var counters: [String: Int]
}

/// Read-side queries on a store (what the CLI and the benchmarks use).
public struct LedgerQueries {
    public let store: LedgerStore

    public init(store: LedgerStore) { self.store = store }

    /// Which way to follow lot links.
    public enum Direction: String, Sendable {
        /// Only the lot.
        case none
        /// Towards the inputs (where it came from).
        case backward
        /// Towards the outputs (where it went: the recall scope).
        case forward
    }

    /// Every record of `lot` (and, following links, of its lineage) in time order.
    public func trace(lot: String, direction: Direction = .none, maximumLots: Int = 10_000) throws -> [TracedRecord] {
        var result: [TracedRecord] = []
        var seen: Set<String> = [lot]
        var frontier = [lot]
        var distance = 0
        let select = try store.db.cachedStatement(
            "SELECT e.leaf_index, e.height, e.entry FROM records r JOIN log_entries e ON e.leaf_index = r.leaf_index WHERE r.lot = ? ORDER BY r.time, r.leaf_index"
        )
        defer { select.reset() }
        while !frontier.isEmpty {
            var next: [String] = []
            for current in frontier {
                select.reset()
                try select.bind([.text(current)])
                while try select.step() {
                    guard
                        case .record(let record) = try Canonical.decode(LogEntry.self, from: select.bytes(at: 2) ?? [])
                    else { continue }
                    result.append(
                        TracedRecord(
                            record: record, leafIndex: UInt64(select.int64(at: 0)), height: UInt64(select.int64(at: 1)),
                            distance: distance))
                }
                if direction != .none {
                    for linked in try links(of: current, direction: direction)
                    where !seen.contains(linked) && seen.count < maximumLots {
                        seen.insert(linked)
                        next.append(linked)
                    }
                }
            }
            frontier = next
            distance += 1
        }
        return result.sorted { ($0.record.time, $0.leafIndex) < ($1.record.time, $1.leafIndex) }
    }

    /// Which records ``records(_:)`` returns: every condition given must hold.
    public struct RecordFilter: Sendable {
        public var enterprise: String?
        public var stage: Stage?
        public var product: String?
        /// Record time at or after (inclusive), milliseconds since 1970.
        public var since: Timestamp?
        /// Record time before (exclusive).
        public var until: Timestamp?
        /// At most this many records, the earliest first.
        public var limit: Int

        public init(
            enterprise: String? = nil, stage: Stage? = nil, product: String? = nil, since: Timestamp? = nil,
            until: Timestamp? = nil, limit: Int = 1000
        ) {
            self.enterprise = enterprise
            self.stage = stage
            self.product = product
            self.since = since
            self.until = until
            self.limit = limit
        }
    }

    /// The records matching `filter` in time order, from the record index: with an
    /// enterprise (and a stage) the search runs on `records_by_enterprise(enterprise, stage,
    /// time)`; product and a stage without enterprise filter the rows found.
    public func records(_ filter: RecordFilter) throws -> [TracedRecord] {
        var conditions: [String] = []
        var values: [String] = []
        if let enterprise = filter.enterprise {
            conditions.append("r.enterprise = ?")
            values.append(enterprise)
        }
        if let stage = filter.stage {
            conditions.append("r.stage = ?")
            values.append(stage.rawValue)
        }
        if let product = filter.product {
            conditions.append("r.product = ?")
            values.append(product)
        }
        if let since = filter.since { conditions.append("r.time >= \(since.milliseconds)") }
        if let until = filter.until { conditions.append("r.time < \(until.milliseconds)") }
        let select = try store.db.prepare(
            "SELECT e.leaf_index, e.height, e.entry FROM records r JOIN log_entries e ON e.leaf_index = r.leaf_index"
                + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
                + " ORDER BY r.time, r.leaf_index LIMIT \(max(0, filter.limit))")
        for (position, value) in values.enumerated() { try select.bind(value, at: Int32(position + 1)) }
        var result: [TracedRecord] = []
        while try select.step() {
            guard case .record(let record) = try Canonical.decode(LogEntry.self, from: select.bytes(at: 2) ?? [])
            else { continue }
            result.append(
                TracedRecord(
                    record: record, leafIndex: UInt64(select.int64(at: 0)), height: UInt64(select.int64(at: 1)),
                    distance: 0))
        }
        return result
    }

    /// Hands `body` the stored log entry of each record whose time is in `[since, until)`, in
    /// time order (then leaf), at most `limit` of them: the bytes are SQLite's (valid only
    /// during the call), so a large export decodes only what it shows.
    public func forEachRecordEntry(
        since: Timestamp, until: Timestamp, limit: Int,
        _ body: (_ leafIndex: UInt64, _ entry: UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let select = try store.db.prepare(
            "SELECT e.leaf_index, e.entry FROM records r JOIN log_entries e ON e.leaf_index = r.leaf_index"
                + " WHERE r.time >= \(since.milliseconds) AND r.time < \(until.milliseconds)"
                + " ORDER BY r.time, r.leaf_index LIMIT \(max(0, limit))")
        while try select.step() {
            let leaf = UInt64(select.int64(at: 0))
            try select.withBytes(at: 1) { try body(leaf, $0) }
        }
    }

    /// The leaf of the first record of `lot` (earliest time, then leaf), from the lot index
    /// alone: no entry is read or decoded.
    public func firstLeaf(of lot: String) throws -> UInt64? {
        let statement = try store.db.cachedStatement(
            "SELECT leaf_index FROM records WHERE lot = ? ORDER BY time, leaf_index LIMIT 1")
        return try statement.first([.text(lot)]) { UInt64($0.int64(at: 0)) }
    }

    /// The record at `leafIndex` with its block, or nil when that leaf is not a record.
    public func record(leafIndex: UInt64) throws -> TracedRecord? {
        guard let stored = try store.entry(leafIndex: leafIndex),
            case .record(let record) = try Canonical.decode(LogEntry.self, from: stored.entry)
        else { return nil }
        return TracedRecord(record: record, leafIndex: leafIndex, height: stored.height, distance: 0)
    }

    /// The lots one link away from `lot` in `direction` (its inputs, or the lots made from it).
    public func linkedLots(of lot: String, direction: Direction) throws -> [String] {
        direction == .none ? [] : try links(of: lot, direction: direction)
    }

    func links(of lot: String, direction: Direction) throws -> [String] {
        let sql =
            direction == .backward
            ? "SELECT DISTINCT input_lot FROM lot_links WHERE lot = ? ORDER BY input_lot"
            : "SELECT DISTINCT lot FROM lot_links WHERE input_lot = ? ORDER BY lot"
        return try store.db.cachedStatement(sql).all([.text(lot)]) { row in row.string(at: 0) ?? "" }
    }

    /// The signed header of the block whose log size is exactly `size`, or the latest if nil.
    public func treeHead(size: UInt64? = nil) throws -> Signed<BlockHeader> {
        if let size {
            let statement = try store.db.cachedStatement(
                "SELECT height FROM blocks WHERE first_leaf < ? ORDER BY height DESC LIMIT 1")
            defer { statement.reset() }
            try statement.bind([.int(size)])
            guard try statement.step(), let block = try store.block(height: UInt64(statement.int64(at: 0))),
                block.header.value.logSize == size
            else {
                throw LedgerStoreError.missing("signed tree head of log size \(size) (sizes are those at block ends)")
            }
            return block.header
        }
        guard let latest = try store.latestBlock() else { throw LedgerStoreError.missing("blocks yet") }
        return latest.header
    }

    /// The inclusion proof of a record against the latest tree head (or the one of `treeSize`).
    public func inclusionProof(of id: RecordID, treeSize: UInt64? = nil) throws -> SavedInclusionProof {
        guard let location = try store.location(of: id) else { throw LedgerStoreError.missing("record \(id)") }
        return SavedInclusionProof(
            recordID: id, leaf: try leafEntryProof(location.leafIndex, treeSize: treeSize, what: "record \(id)"))
    }

    /// Any leaf's entry with its inclusion proof against the latest signed tree head (or the
    /// one of `treeSize`).
    public func leafEntryProof(_ leafIndex: UInt64, treeSize: UInt64? = nil, what: String? = nil) throws
        -> SavedLeafProof
    {
        let head = try treeHead(size: treeSize)
        guard leafIndex < head.value.logSize else {
            throw LedgerStoreError.missing(
                "\(what ?? "leaf \(leafIndex)") in the log of size \(head.value.logSize) (it is leaf \(leafIndex))")
        }
        guard let entry = try store.entry(leafIndex: leafIndex) else {
            throw LedgerStoreError.missing("leaf \(leafIndex)")
        }
        var reader = store.nodeReader
        let proof = try LogProofs.inclusionProof(index: leafIndex, size: head.value.logSize, &reader)
        return SavedLeafProof(leafIndex: leafIndex, entry: entry.entry, proof: proof, treeHead: head)
    }

    /// The consistency proof between two log sizes, checked against the roots before it is returned.
    public func consistency(oldSize: UInt64, newSize: UInt64? = nil) throws -> ConsistencyAnswer {
        let newSize = try newSize ?? store.logSize()
        var reader = store.nodeReader
        guard oldSize > 0, oldSize <= newSize, newSize <= (try store.logSize()) else {
            throw MerkleTree.ProofError.invalidSizes(old: oldSize, new: newSize)
        }
        let proof = try LogProofs.consistencyProof(oldSize: oldSize, newSize: newSize, &reader)
        let oldRoot = try LogProofs.root(size: oldSize, &reader)
        let newRoot = try LogProofs.root(size: newSize, &reader)
        try MerkleTree.verifyConsistency(
            oldSize: oldSize, newSize: newSize, oldRoot: oldRoot, newRoot: newRoot, proof: proof)
        return ConsistencyAnswer(
            oldSize: oldSize, newSize: newSize, oldRoot: oldRoot.hex, newRoot: newRoot.hex, proof: proof.map(\.hex),
            verified: true)
    }

    /// The registry's devices.
    public func devices() throws -> [DeviceRow] {
        let statement = try store.db.cachedStatement(
            "SELECT enterprise, device, public_key, stage, status, registered_height, revoked_height FROM devices ORDER BY enterprise, device"
        )
        defer { statement.reset() }
        var rows: [DeviceRow] = []
        while try statement.step() {
            rows.append(
                DeviceRow(
                    enterprise: statement.string(at: 0) ?? "", device: statement.string(at: 1) ?? "",
                    publicKey: (statement.bytes(at: 2) ?? []).hexString, stage: statement.string(at: 3),
                    status: try stored(
                        RegistrationStatus.self, statement.string(at: 4),
                        "devices row \(statement.string(at: 0) ?? "")/\(statement.string(at: 1) ?? "")"),
                    registeredHeight: UInt64(statement.int64(at: 5)),
                    revokedHeight: statement.isNull(at: 6) ? nil : UInt64(statement.int64(at: 6))))
        }
        return rows
    }

    /// Height, log size, counts and the recent ingest rate.
    /// - Parameter recordCount: the number of records when the caller knows it (the API keeps a
    ///   running count: ``count(*)`` over 10M records takes seconds); counted here otherwise.
    public func status(recordCount: Int? = nil) throws -> LedgerStatus {
        let latest = try store.latestBlock()
        var rate = 0.0
        if let latest {
            let end = latest.header.value.time.milliseconds
            let statement = try store.db.cachedStatement("SELECT min(first_leaf), min(time) FROM blocks WHERE time > ?")
            defer { statement.reset() }
            try statement.bind([.integer(end - 60_000)])
            if try statement.step(), !statement.isNull(at: 0) {
                let leaves = Double(Int64(latest.header.value.logSize) - statement.int64(at: 0))
                let span = max(Double(end - statement.int64(at: 1)) / 1000, 1)
                rate = leaves / span
            }
        }
        return LedgerStatus(
            height: latest?.header.value.height ?? 0, logSize: latest?.header.value.logSize ?? 0,
            logRoot: latest?.header.value.logRoot.hex, lastBlockTime: latest?.header.value.time.iso8601,
            records: try recordCount ?? Int(scalar(store.db, "SELECT count(*) FROM records")),
            enterprises: Int(try scalar(store.db, "SELECT count(*) FROM enterprises")),
            devicesActive: Int(try scalar(store.db, "SELECT count(*) FROM devices WHERE status = 'active'")),
            devicesRevoked: Int(try scalar(store.db, "SELECT count(*) FROM devices WHERE status = 'revoked'")),
            ingestRatePerSecond: rate,
            pendingSubmissions: Int(try scalar(store.db, "SELECT count(*) FROM submissions WHERE status = 'pending'")),
            counters: try store.counters())
    }
}

extension LedgerStore {
    /// Queues a signed transaction for the server to order into the next block, with its kind.
    /// - Returns: the submission id (watch it with ``submissionStatus(_:)``).
    public func submit<Value: SubmittableTransaction>(_ transaction: Signed<Value>) throws -> Int64 {
        try submit(bytes: Canonical.encode(transaction), kind: Value.submissionKind)
    }

    /// Queues the canonical bytes of a signed transaction of `kind` (the server decodes them as
    /// that kind and checks them like any other). `observedAddress` is the client address the
    /// access gateway observed for an access transaction: `serve` appends the two as one
    /// ``LogEntry/gateway(_:)`` leaf.
    public func submit(bytes: [UInt8], kind: SubmissionKind, observedAddress: String? = nil) throws -> Int64 {
        let insert = try db.cachedStatement(
            "INSERT INTO submissions(body, submitted_at, kind, observed_address) VALUES (?, ?, ?, ?)")
        try insert.run([
            .blob(bytes), .integer(Timestamp.now().milliseconds), .integer(kind.rawValue),
            .text(orNull: observedAddress),
        ])
        return db.lastInsertRowID
    }

    /// Where submission `id` is (with the refusal's reason, or the leaf of the applied transaction).
    public func submissionStatus(_ id: Int64) throws -> (status: SubmissionStatus, reason: String?, leafIndex: UInt64?)
    {
        let select = try db.cachedStatement("SELECT status, reason, leaf_index FROM submissions WHERE id = ?")
        defer { select.reset() }
        try select.bind([.integer(id)])
        guard try select.step() else { throw LedgerStoreError.missing("submission \(id)") }
        let stored = select.string(at: 0) ?? ""
        guard let status = SubmissionStatus(rawValue: stored) else {
            throw LedgerStoreError.corrupt("submission \(id) has the unknown status '\(stored)'")
        }
        return (status, select.string(at: 1), select.isNull(at: 2) ? nil : UInt64(select.int64(at: 2)))
    }
}
