import AgriTraceCore
import Crypto
import Logging
import MQTTClient
import PosixThreads
import SQLiteStorage
import Synchronization

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

extension AgentConfiguration {
    /// `[sharing]`: the owning enterprise's X25519 key the agent wraps data keys to
    /// (docs/transfer.md). Without it, nothing is uploaded.
    public struct Sharing: Sendable, Equatable {
        /// 64 hex characters (`agritrace transfer keygen` writes them to FILE.pub).
        public var ownerKeyHex: String
        /// Unacknowledged uploads are sent again after this long.
        public var resendTimeoutMilliseconds: Int

        public init(ownerKeyHex: String, resendTimeoutMilliseconds: Int = 10_000) {
            self.ownerKeyHex = ownerKeyHex
            self.resendTimeoutMilliseconds = resendTimeoutMilliseconds
        }

        public func ownerKey() throws -> Curve25519.KeyAgreement.PublicKey {
            guard let bytes = [UInt8](hexString: ownerKeyHex), bytes.count == 32,
                let key = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: bytes)
            else {
                throw ConfigurationError.invalid(
                    key: "sharing.owner_key", reason: "not 64 hex characters of an X25519 public key")
            }
            return key
        }
    }
}

extension AgentConfiguration.Reader {
    func sharing() throws -> AgentConfiguration.Sharing? {
        guard let hex = try optionalString("sharing.owner_key") else { return nil }
        let sharing = AgentConfiguration.Sharing(
            ownerKeyHex: hex,
            resendTimeoutMilliseconds: Int(
                try integer("sharing.resend_timeout_ms", default: 10_000, range: 100...86_400_000)))
        _ = try sharing.ownerKey()
        return sharing
    }
}

/// Uploads the sealed private values of receipted records to the aggregator's blob store
/// (docs/transfer.md), off the intake path: a loop reads the vault, seals each level under a
/// fresh data key, wraps the key to the owner, and publishes a device-signed ``BlobUpload``
/// on `agritrace/v1/<enterprise>/<device>/blobs`. Each upload is kept in `blob_uploads` as
/// `pending` until the aggregator's signed ``BlobAck`` arrives (then `uploaded`); pending
/// uploads are sent again after the resend timeout and after every reconnect, the same bytes
/// each time (the aggregator de-duplicates by blob id).
public final class BlobUploader: @unchecked Sendable {
    let db: SQLiteConnection
    let store: AgentStore
    /// The current MQTT client (replaced on SIGHUP when the broker settings or TLS files changed).
    let clientSlot: Mutex<MQTTClient>
    let key: Curve25519.Signing.PrivateKey
    let authority: Curve25519.Signing.PublicKey
    let owner: Curve25519.KeyAgreement.PublicKey
    let enterprise: String
    let device: String
    let resendTimeoutMilliseconds: Int64
    let logger: Logger
    let stopSignal = StopSignal()
    /// Serializes the use of `db` (one SQLite connection; the loop thread and the ack handler).
    let dbLock = PosixMutex()
    let condition = PosixCondition()
    var wakeups = 0
    var thread: PosixThread?
    /// The tasks following the current client's streams (guarded by `dbLock`).
    var tasks: [Task<Void, Never>] = []

    public init(
        storePath: String, store: AgentStore, client: MQTTClient, key: Curve25519.Signing.PrivateKey,
        authority: Curve25519.Signing.PublicKey, owner: Curve25519.KeyAgreement.PublicKey, enterprise: String,
        device: String, resendTimeoutMilliseconds: Int, logger: Logger
    ) throws {
        // `blob_uploads` is created by the store's migrations (``AgentStore``), opened before this.
        db = try SQLiteConnection(path: storePath, options: .init(synchronous: .normal))
        self.store = store
        self.clientSlot = Mutex(client)
        self.key = key
        self.authority = authority
        self.owner = owner
        self.enterprise = enterprise
        self.device = device
        self.resendTimeoutMilliseconds = Int64(resendTimeoutMilliseconds)
        self.logger = logger
    }

    var ackTopic: String { Wire.blobAckTopic(enterprise: enterprise, device: device) }

    /// The MQTT client uploads go out on.
    public var client: MQTTClient { clientSlot.withLock { $0 } }

    /// Connects and starts the upload loop.
    public func start() throws {
        try attach(client)
        let thread = PosixThread(name: "agent-blob-uploader") { [self] in loop() }
        self.thread = thread
    }

    /// Follows `client`'s acks and connection events, subscribes to the ack topic, connects.
    private func attach(_ client: MQTTClient) throws {
        let followers = [
            Task { [self] in for await message in client.messages { handle(message) } },
            Task { [self] in
                for await event in client.events {
                    if case .connected = event {
                        dbLock.withLock {
                            _ = try? db.execute("UPDATE blob_uploads SET sent_at = 0 WHERE status = 'pending'")
                        }
                        wake()
                    }
                }
            },
            Task { for await _ in client.deliveries {} },
        ]
        dbLock.withLock { tasks.append(contentsOf: followers) }
        try client.subscribe(topic: ackTopic, qos: .atLeastOnce)
        try client.connect()
    }

    /// Disconnects the current client and goes on with `newClient` (reloaded TLS files or
    /// broker settings), as ``RecordPublisher/replaceClient(_:)`` does for records. Uploads
    /// still `pending` are sent again once the new client connects, the same bytes (the
    /// aggregator de-duplicates by blob id), so none is lost.
    /// - Throws: ``MQTTError`` if the new client cannot subscribe or start connecting.
    public func replaceClient(_ newClient: MQTTClient) throws {
        let old = clientSlot.withLock { slot in
            let old = slot
            slot = newClient
            return old
        }
        old.disconnect()
        let followers = dbLock.withLock {
            let current = tasks
            tasks.removeAll()
            return current
        }
        for task in followers { task.cancel() }
        try attach(newClient)
        wake()
    }

    public func stop() {
        stopSignal.stop()
        wake()
        client.disconnect()
        for task in dbLock.withLock({ tasks }) { task.cancel() }
    }

    public func wake() {
        condition.lock()
        wakeups += 1
        condition.signal()
        condition.unlock()
    }

    func loop() {
        while !stopSignal.isStopped {
            var busy = false
            do {
                busy = try prepare() > 0
                if client.isConnected { busy = try sendDue() > 0 || busy }
            } catch {
                logger.error("blob upload round failed", metadata: ["error": "\(error)"])
            }
            condition.lock()
            if !busy && wakeups == 0 { _ = condition.wait(seconds: 0.5) }
            wakeups = 0
            condition.unlock()
        }
    }

    /// Seals the private values of receipted records that have no upload yet.
    @discardableResult
    func prepare(limit: Int = 256) throws -> Int {
        dbLock.lock()
        defer { dbLock.unlock() }
        let select = try db.prepare(
            "SELECT record_id FROM receipted r WHERE NOT EXISTS (SELECT 1 FROM blob_uploads u WHERE u.record_id = r.record_id) ORDER BY sequence LIMIT ?"
        )
        let ids = try select.all([.int(limit)]) { $0.bytes(at: 0) ?? [] }
        guard !ids.isEmpty else { return 0 }
        var rows: [(id: [UInt8], level: String, blobID: [UInt8]?, body: [UInt8]?, status: BlobUploadStatus)] = []
        for idBytes in ids {
            let id = try Canonical.decode(RecordID.self, from: idBytes)
            let levels = try store.privateFields(of: id).filter { $0.level != .public && !$0.entries.isEmpty }
            if levels.isEmpty { rows.append((idBytes, "none", nil, nil, .none)) }
            for fields in levels {
                let upload = try BlobUpload.make(
                    fields, record: id, enterprise: enterprise, device: device, owner: owner, deviceKey: key)
                rows.append(
                    (
                        idBytes, fields.level.rawValue, upload.reference.value.blobID.bytes, Canonical.encode(upload),
                        .pending
                    ))
            }
        }
        try db.transaction {
            let insert = try db.prepare(
                "INSERT OR IGNORE INTO blob_uploads(record_id, level, blob_id, body, status) VALUES (?, ?, ?, ?, ?)")
            for row in rows {
                try insert.run([
                    .blob(row.id), .text(row.level), .blob(orNull: row.blobID), .blob(orNull: row.body),
                    .text(row.status.rawValue),
                ])
            }
        }
        return ids.count
    }

    /// Publishes pending uploads never sent, or sent longer ago than the resend timeout.
    @discardableResult
    func sendDue(limit: Int = 256) throws -> Int {
        dbLock.lock()
        defer { dbLock.unlock() }
        let now = Timestamp.now().milliseconds
        let due = try Self.due(in: db, now: now, timeout: resendTimeoutMilliseconds, limit: limit)
        guard !due.isEmpty else { return 0 }
        let topic = Wire.blobTopic(enterprise: enterprise, device: device)
        let mark = try db.prepare(
            "UPDATE blob_uploads SET sent_at = ?, attempts = attempts + 1 WHERE record_id = ? AND level = ?")
        for (id, level, body) in due {
            if body.count > BlobPiece.defaultPieceSize, let upload = try? Canonical.decode(BlobUpload.self, from: body)
            {
                // A large blob goes in bounded pieces (the blob service writes them to disk as they come).
                for piece in BlobPiece.pieces(of: upload) {
                    try client.publish(topic: topic, payload: piece, qos: .atLeastOnce)
                }
            } else {
                try client.publish(topic: topic, payload: body, qos: .atLeastOnce)
            }
            try mark.run([.integer(now), .blob(id), .text(level)])
        }
        return due.count
    }

    /// The pending uploads to send at `now`: never sent, sent more than `timeout` ago, or sent
    /// more than `timeout` after `now` (before the wall clock stepped back: the chaos run found
    /// such uploads stalled until the clock caught up), oldest send first.
    static func due(in db: SQLiteConnection, now: Int64, timeout: Int64, limit: Int) throws -> [(
        recordID: [UInt8], level: String, body: [UInt8]
    )] {
        let select = try db.prepare(
            """
            SELECT record_id, level, body FROM blob_uploads
             WHERE status = 'pending' AND (sent_at <= ? OR sent_at > ?) ORDER BY sent_at LIMIT ?
            """)
        return try select.all([.integer(now - timeout), .integer(now + timeout), .int(limit)]) {
            (recordID: $0.bytes(at: 0) ?? [], level: $0.string(at: 1) ?? "", body: $0.bytes(at: 2) ?? [])
        }
    }

    func handle(_ message: MQTTMessage) {
        guard message.topic == ackTopic else { return }
        guard let signed = try? Canonical.decode(Signed<BlobAck>.self, from: message.payload),
            signed.isValid(domain: .blobAck, key: authority)
        else {
            logger.error("ignored a blob ack that does not verify under the authority key")
            return
        }
        dbLock.lock()
        defer { dbLock.unlock() }
        do {
            try db.transaction {
                let stored = try db.prepare(
                    "UPDATE blob_uploads SET status = 'uploaded', body = NULL WHERE blob_id = ? AND status = 'pending'")
                for id in signed.value.stored {
                    try stored.run([.blob(id.bytes)])
                }
                let refused = try db.prepare(
                    "UPDATE blob_uploads SET status = 'refused', reason = ? WHERE blob_id = ? AND status = 'pending'")
                for refusal in signed.value.refused {
                    try refused.run([.text(refusal.reason), .blob(refusal.blobID.bytes)])
                    logger.warning(
                        "the aggregator refused a blob",
                        metadata: ["blob": "\(refusal.blobID)", "reason": "\(refusal.reason)"])
                }
            }
        } catch {
            logger.error("cannot record blob acks; the uploads will be sent again", metadata: ["error": "\(error)"])
        }
    }

    /// Upload counts by status in an agent store (empty when nothing was ever uploaded), for
    /// `agritrace-agent status`.
    public static func counts(storePath: String) -> [BlobUploadStatus: Int] {
        guard let db = try? SQLiteConnection(path: storePath, options: .init(readOnly: true, create: false)) else {
            return [:]
        }
        return (try? counts(in: db)) ?? [:]
    }

    /// Upload counts by status.
    public func counts() throws -> [BlobUploadStatus: Int] {
        dbLock.lock()
        defer { dbLock.unlock() }
        return try Self.counts(in: db)
    }

    /// The `blob_uploads` rows counted by status; a status no agent writes is a corrupt store.
    static func counts(in db: SQLiteConnection) throws -> [BlobUploadStatus: Int] {
        let select = try db.prepare("SELECT status, count(*) FROM blob_uploads GROUP BY status")
        var counts: [BlobUploadStatus: Int] = [:]
        while try select.step() {
            let text = select.string(at: 0)
            guard let text, let status = BlobUploadStatus(rawValue: text) else {
                throw StoreError.corrupt("blob_uploads has the unknown status '\(text ?? "NULL")'")
            }
            counts[status] = Int(select.int64(at: 1))
        }
        return counts
    }
}
