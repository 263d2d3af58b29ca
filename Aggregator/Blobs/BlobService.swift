import AgriTraceCore
import Crypto
import Foundation
import Ledger
import MQTTClient
import SQLiteStorage

/// Receives the sealed blobs devices upload on `agritrace/v1/<enterprise>/<device>/blobs`,
/// stores them in the content-addressed ``BlobStore``, queues each signed reference for the
/// ledger (the store's submission queue, which `serve` orders into blocks), and once the
/// reference is on the ledger publishes a signed ``BlobAck`` on the device's `blob-acks`
/// topic. De-duplicates by blob id: a blob already on the ledger is acknowledged again at
/// once. Runs beside the ingest service, on its own MQTT connection and SQLite connection,
/// so it never sits in the record intake's path.
public actor BlobService {
    /// Bounds on what uploads may hold at the aggregator (disk and memory), in the manner of
    /// an object store's multipart-upload limits and its expiry of incomplete uploads.
    public struct Limits: Sendable {
        /// Uploads in pieces held unfinished at once, all devices together (each holds a
        /// temporary file and a hash state). A new upload past it is not started: it is
        /// logged and left unanswered, and the agent sends it again after its resend timeout.
        public var maxUnfinishedUploads: Int
        /// Unfinished uploads of one device; when the device starts one more, its least
        /// recently active one is dropped (an agent sends one blob at a time).
        public var maxUnfinishedUploadsPerDevice: Int
        /// An unfinished upload that receives no piece for this long is dropped and its
        /// temporary file deleted.
        public var unfinishedUploadTimeout: Duration
        /// The largest blob accepted; a larger one is refused with the reason (the agent
        /// records the refusal).
        public var maxBlobBytes: UInt64

        public init(
            maxUnfinishedUploads: Int = 64, maxUnfinishedUploadsPerDevice: Int = 4,
            unfinishedUploadTimeout: Duration = .seconds(120), maxBlobBytes: UInt64 = 4 << 30
        ) {
            self.maxUnfinishedUploads = maxUnfinishedUploads
            self.maxUnfinishedUploadsPerDevice = maxUnfinishedUploadsPerDevice
            self.unfinishedUploadTimeout = unfinishedUploadTimeout
            self.maxBlobBytes = maxBlobBytes
        }
    }

    struct Unfinished {
        var writer: BlobStore.Writer
        /// `enterprise/device` of the uploader.
        var device: String
        var lastPiece: ContinuousClock.Instant
    }

    struct Awaiting {
        var submission: Int64
        var enterprise: String
        var device: String
    }

    let store: LedgerStore
    let blobs: BlobStore
    let authority: Curve25519.Signing.PrivateKey
    let client: MQTTClient
    let subscription: String
    let log: @Sendable (String) -> Void
    var awaiting: [Digest32: Awaiting] = [:]
    /// The limits in force (``update(limits:)`` changes them while the service runs).
    public private(set) var limits: Limits
    /// Large uploads arriving in pieces, by blob id.
    var partial: [Digest32: Unfinished] = [:]
    /// Counters (for tests and the log).
    public private(set) var received = 0
    public private(set) var acknowledged = 0
    public private(set) var refused = 0

    /// - Parameters:
    ///   - storePath: the ledger store (opened by the ingest service first, which migrates it).
    ///   - clientID: this connection's MQTT client id (distinct from the ingest client's).
    public init(
        storePath: String, authority: Curve25519.Signing.PrivateKey, broker: MQTTClient.Options, clientID: String,
        shareGroup: String = "agritrace", limits: Limits = Limits(),
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) throws {
        self.limits = limits
        store = try LedgerStore(path: storePath)
        blobs = BlobStore(storePath: storePath)
        let abandoned = blobs.removeAbandonedTemporaries()
        self.authority = authority
        client = try MQTTClient(clientID: clientID, options: broker)
        subscription = "$share/\(shareGroup)-blobs/\(Wire.allBlobsFilter)"
        self.log = log
        if abandoned > 0 { log("removed \(abandoned) unfinished upload(s) left by a stopped writer") }
    }

    /// Applies new limits from now on (`serve`'s reload): uploads already started keep
    /// their place; a lower count limit only holds back new ones.
    public func update(limits: Limits) {
        self.limits = limits
        log(
            "upload limits now: max-unfinished-uploads=\(limits.maxUnfinishedUploads) max-unfinished-uploads-per-device=\(limits.maxUnfinishedUploadsPerDevice) unfinished-upload-timeout=\(limits.unfinishedUploadTimeout) max-blob-bytes=\(limits.maxBlobBytes)"
        )
    }

    /// Connects, subscribes and serves until the task is cancelled.
    public func run() async throws {
        let client = self.client
        let deliveries = Task { for await _ in client.deliveries {} }
        let events = Task { [weak self] in
            for await event in client.events {
                if case .subscribed = event { await self?.markSubscribed() }
            }
        }
        defer {
            deliveries.cancel()
            events.cancel()
        }
        try client.subscribe(topic: subscription, qos: .atLeastOnce)
        try client.connect()
        let ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                await self?.tick()
            }
        }
        defer { ticker.cancel() }
        log("blob store at \(blobs.directory); receiving \(Wire.allBlobsFilter)")
        await withTaskCancellationHandler {
            for await message in client.messages {
                if Task.isCancelled { break }
                handle(topic: message.topic, payload: message.payload)
            }
        } onCancel: {
            client.disconnect()
        }
        client.disconnect()
    }

    /// Handles one upload or piece of one (public for tests that drive the service without a broker).
    public func handle(topic: String, payload: [UInt8]) {
        received += 1
        guard let (enterprise, device) = Wire.parseDeviceTopic(topic), topic.hasSuffix("/blobs") else { return }
        if let piece = try? Canonical.decode(BlobPiece.self, from: payload) {
            return handle(piece: piece, enterprise: enterprise, device: device)
        }
        guard let upload = try? Canonical.decode(BlobUpload.self, from: payload) else {
            log("dropped a malformed upload on \(topic)")
            return
        }
        let reference = upload.reference.value
        let id = reference.blobID
        guard reference.enterprise == enterprise, reference.device == device else {
            return refuse(
                id, enterprise: enterprise, device: device,
                "the reference names \(reference.enterprise)/\(reference.device), not the topic's device")
        }
        if let refusal = oversize(reference) { return refuse(id, enterprise: enterprise, device: device, refusal) }
        guard Digest32.sha256(upload.blob) == id, UInt64(upload.blob.count) == reference.size else {
            return refuse(
                id, enterprise: enterprise, device: device,
                "the blob's SHA-256 or size is not the one the reference announces")
        }
        do {
            if try acknowledgeIfStored(id, enterprise: enterprise, device: device) {
                if !blobs.contains(id) { try blobs.put(upload.blob, expected: id) }
                return
            }
            if awaiting[id] != nil { return }
            guard try isOnLedger(reference) else { return }
            try blobs.put(upload.blob, expected: id)
            try queue(upload.reference, enterprise: enterprise, device: device)
        } catch {
            log("could not store blob \(id): \(error)")
        }
    }

    /// One piece of a large upload: appended to the blob's temporary file if it is the next
    /// one; the blob is accepted when its last byte arrives and its hash matches.
    func handle(piece: BlobPiece, enterprise: String, device: String) {
        let reference = piece.reference.value
        let id = reference.blobID
        guard reference.enterprise == enterprise, reference.device == device else {
            partial[id] = nil
            return refuse(
                id, enterprise: enterprise, device: device,
                "the reference names \(reference.enterprise)/\(reference.device), not the topic's device")
        }
        do {
            if piece.offset == 0 {
                if let refusal = oversize(reference) {
                    return refuse(id, enterprise: enterprise, device: device, refusal)
                }
                if try acknowledgeIfStored(id, enterprise: enterprise, device: device), blobs.contains(id) { return }
                if awaiting[id] != nil { return }
                guard try isOnLedger(reference) else { return }
                if partial[id] == nil || partial[id]!.writer.written > 0 {
                    partial[id] = nil
                    guard makeRoom(for: id, device: "\(enterprise)/\(device)") else { return }
                    partial[id] = Unfinished(
                        writer: try BlobStore.Writer(store: blobs, expected: id, size: reference.size),
                        device: "\(enterprise)/\(device)", lastPiece: .now)
                }
            }
            guard let writer = partial[id]?.writer else { return }
            guard writer.size == reference.size else {
                partial[id] = nil
                return
            }
            if piece.offset < writer.written { return }  // a duplicate delivery
            guard piece.offset == writer.written else {
                // A piece is missing: drop the partial blob; the agent sends all pieces again.
                log("blob \(id): piece at \(piece.offset) after \(writer.written) bytes; waiting for a re-send")
                partial[id] = nil
                return
            }
            try writer.append(piece.bytes[...])
            partial[id]?.lastPiece = .now
            guard writer.written == writer.size else { return }
            partial[id] = nil
            do {
                try writer.finish()
            } catch BlobStore.Error.hashMismatch(_, _) {
                return refuse(
                    id, enterprise: enterprise, device: device,
                    "the blob's SHA-256 or size is not the one the reference announces")
            }
            if try acknowledgeIfStored(id, enterprise: enterprise, device: device) { return }
            try queue(piece.reference, enterprise: enterprise, device: device)
        } catch {
            partial[id] = nil
            log("could not store blob \(id): \(error)")
        }
    }

    /// The refusal of a blob over ``Limits/maxBlobBytes``, or nil.
    func oversize(_ reference: BlobReference) -> String? {
        guard reference.size > limits.maxBlobBytes else { return nil }
        return
            "blob of record \(reference.recordID) is \(reference.size) bytes, over this aggregator's limit of \(limits.maxBlobBytes) (serve --max-blob-bytes)"
    }

    /// Frees a place for a new unfinished upload of `device`: drops uploads idle past the
    /// timeout, then the device's least recently active one if it is at its own limit.
    /// Returns false (logged) if every place is still taken.
    func makeRoom(for id: Digest32, device: String) -> Bool {
        dropIdleUploads()
        let own = partial.filter { $0.value.device == device }
        if own.count >= limits.maxUnfinishedUploadsPerDevice,
            let oldest = own.min(by: { $0.value.lastPiece < $1.value.lastPiece })
        {
            log(
                "dropped the unfinished upload of blob \(oldest.key) from \(device): the device started another past its limit of \(limits.maxUnfinishedUploadsPerDevice)"
            )
            partial[oldest.key] = nil
        }
        guard partial.count < limits.maxUnfinishedUploads else {
            log(
                "upload of blob \(id) from \(device) not started: \(partial.count) unfinished uploads already (limit \(limits.maxUnfinishedUploads)); the agent sends it again"
            )
            return false
        }
        return true
    }

    /// Drops the unfinished uploads that received no piece within the timeout (their
    /// temporary files are deleted with their writers).
    func dropIdleUploads() {
        let cutoff = ContinuousClock.now - limits.unfinishedUploadTimeout
        for (id, upload) in partial where upload.lastPiece < cutoff {
            log(
                "dropped the unfinished upload of blob \(id) from \(upload.device): no piece for \(limits.unfinishedUploadTimeout)"
            )
            partial[id] = nil
        }
    }

    /// Unfinished uploads held now.
    public var unfinishedCount: Int { partial.count }

    func refuse(_ id: Digest32, enterprise: String, device: String, _ reason: String) {
        refused += 1
        log("refused blob \(id) from \(enterprise)/\(device): \(reason)")
        publish(
            BlobAck(enterprise: enterprise, device: device, stored: [], refused: [.init(blobID: id, reason: reason)]))
    }

    /// Already on the ledger: acknowledge again at once (de-duplication by blob id).
    func acknowledgeIfStored(_ id: Digest32, enterprise: String, device: String) throws -> Bool {
        guard let row = try LedgerQueries(store: store).blob(id: id), row.status == .stored else { return false }
        acknowledged += 1
        publish(BlobAck(enterprise: enterprise, device: device, stored: [id]))
        return true
    }

    func isOnLedger(_ reference: BlobReference) throws -> Bool {
        guard try LedgerQueries(store: store).record(reference.recordID) != nil else {
            // Not on the ledger (yet): no answer; the agent sends it again later.
            log("upload of blob \(reference.blobID) for record \(reference.recordID), which is not on the ledger yet")
            return false
        }
        return true
    }

    func queue(_ reference: Signed<BlobReference>, enterprise: String, device: String) throws {
        let submission = try store.submit(reference)
        awaiting[reference.value.blobID] = Awaiting(submission: submission, enterprise: enterprise, device: device)
    }

    /// Acknowledges the blobs whose references reached the ledger (or were refused), and drops
    /// unfinished uploads idle past ``Limits/unfinishedUploadTimeout``.
    public func tick() {
        if !partial.isEmpty { dropIdleUploads() }
        guard !awaiting.isEmpty else { return }
        let queries = LedgerQueries(store: store)
        // One query for the submissions that are done (not one per waiting blob).
        let bySubmission = Dictionary(uniqueKeysWithValues: awaiting.map { ($0.value.submission, $0.key) })
        var done: [(Digest32, (status: SubmissionStatus, reason: String?))] = []
        if let select = try? store.db.prepare(
            "SELECT id, status, reason FROM submissions WHERE id BETWEEN ? AND ? AND status != 'pending'")
        {
            try? select.bind([.integer(bySubmission.keys.min() ?? 0), .integer(bySubmission.keys.max() ?? 0)])
            while (try? select.step()) == true {
                if let id = bySubmission[select.int64(at: 0)],
                    let status = SubmissionStatus(rawValue: select.string(at: 1) ?? "")
                {
                    done.append((id, (status, select.string(at: 2))))
                }
            }
        }
        var acks: [String: BlobAck] = [:]
        for (id, state) in done {
            guard let waiting = awaiting[id] else { continue }
            let key = "\(waiting.enterprise)/\(waiting.device)"
            var ack = acks[key] ?? BlobAck(enterprise: waiting.enterprise, device: waiting.device, stored: [])
            switch state.status {
            case .applied:
                if let row = try? queries.blob(id: id), row.status == .stored {
                    ack.stored.append(id)
                } else {
                    let reason = (try? queries.blob(id: id))?.reason ?? "refused by the contract"
                    if reason.hasPrefix("duplicate") {
                        ack.stored.append(id)
                    } else {
                        ack.refused.append(.init(blobID: id, reason: reason))
                    }
                }
            case .refused:
                ack.refused.append(.init(blobID: id, reason: state.reason ?? "refused"))
            case .pending:
                continue
            }
            awaiting[id] = nil
            acks[key] = ack
        }
        for ack in acks.values {
            acknowledged += ack.stored.count
            refused += ack.refused.count
            publish(ack)
        }
    }

    /// True once the broker has granted the blob subscription (uploads published before it
    /// may be lost: they are sent again after the agent's resend timeout).
    public private(set) var isSubscribed = false

    func markSubscribed() { isSubscribed = true }

    /// Blob ids waiting for their reference to be ordered.
    public var waitingCount: Int { awaiting.count }

    func publish(_ ack: BlobAck) {
        do {
            let signed = try Signed(ack, domain: .blobAck, key: authority)
            try client.publish(
                topic: Wire.blobAckTopic(enterprise: ack.enterprise, device: ack.device),
                payload: Canonical.encode(signed),
                qos: .atLeastOnce)
        } catch {
            log("could not publish a blob ack to \(ack.enterprise)/\(ack.device): \(error)")
        }
    }
}
