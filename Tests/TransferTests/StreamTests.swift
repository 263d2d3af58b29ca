import AccessFlow
import AgriTraceCore
import Blobs
import Crypto
import Foundation
import Ledger
import MQTTClient
import Synchronization
import TestSupport
import Testing

/// Collects what a streamed fetch passes on.
struct CollectingSink: FetchSink {
    var records: [RecordID] = []
    var fields: [String: String] = [:]
    var current: String?
    var text = ""
    var chunks = 0

    mutating func beginRecord(_ record: Record, level: PrivacyLevel, blobID: Digest32) throws {
        records.append(record.id)
    }
    mutating func endRecord(_ verified: StreamedFields) throws {}
    mutating func field(_ key: String, display: String) throws { fields[key] = display }
    mutating func beginText(_ key: String, byteCount: Int) throws {
        current = key
        text = ""
    }
    mutating func text(_ chunk: String) throws {
        text += chunk
        chunks += 1
    }
    mutating func endText() throws { fields[current!] = text }
}

/// Large values: sealed as a STREAM of AES-256-GCM segments, opened and verified a segment at
/// a time, uploaded in pieces through a real mosquitto into the blob store.
@Suite("Streamed sealing of large values", .timeLimit(.minutes(3)))
struct StreamTests {
    static let valueBytes = 300_000

    @Test("a value of many segments round-trips: sealed as a stream, fetched streamed and in memory, verified")
    func roundTrip() async throws {
        let d = try await TransferDeployment(records: 2, largeValueBytes: Self.valueBytes)
        let (_, transfer, key) = try await d.grantedTransfer()
        for blob in try d.queries.blobs(lot: TransferDeployment.lot, level: .level2) {
            let bytes = try d.blobStore.get(blob.blobID)
            #expect(Array(bytes.prefix(4)) == SealedStream.magic)
            #expect(bytes.count > 4 * SealedStream.defaultSegmentSize)
        }
        var sink = CollectingSink()
        let streamed = try TransferRequester.fetch(
            transfer: transfer, key: key,
            material: StoreTransferMaterial(queries: d.queries, blobs: d.blobStore),
            fields: ["planting.weeding_records"], into: &sink)
        #expect(streamed.count == 2)
        #expect(sink.chunks > 4)  // the long value came in segments, not whole
        #expect(streamed.allSatisfy { $0.verified.disclosed == ["planting.weeding_records"] })
        let inMemory = try TransferRequester.fetch(transfer: transfer, key: key, queries: d.queries, blobs: d.blobStore)
        for item in inMemory {
            let original = try #require(d.classified.first { $0.record.id == item.record.id })
            #expect(item.fields == original.level2)
        }
        // The streamed text of the last record equals its original value.
        let last = try #require(d.classified.first { $0.record.id == sink.records.last })
        let original = try #require(last.level2?.entries.first { $0.key == "planting.weeding_records" })
        #expect(original.value.display.utf8.count > Self.valueBytes - 10)
        #expect(sink.fields["planting.weeding_records"] == original.value.display)
    }

    @Test("small values (one AES-GCM message) verify through the streamed fetch too, field by field")
    func smallValuesStreamed() async throws {
        let d = try await TransferDeployment(records: 2)
        let (_, transfer, key) = try await d.grantedTransfer()
        var sink = CollectingSink()
        let streamed = try TransferRequester.fetch(
            transfer: transfer, key: key, material: StoreTransferMaterial(queries: d.queries, blobs: d.blobStore),
            into: &sink)
        #expect(streamed.count == 2)
        #expect(sink.chunks == 0)
        let last = try #require(d.classified.first { $0.record.id == sink.records.last })
        for entry in try #require(last.level2).entries {
            #expect(sink.fields[entry.key] == entry.value.display)
        }
    }

    /// Segments of a sealed blob: header, then (ciphertext ‖ tag) pieces.
    static func segments(_ blob: [UInt8]) -> (header: [UInt8], segments: [[UInt8]]) {
        let size = SealedStream.defaultSegmentSize + SealedStream.tagSize
        let body = Array(blob[SealedStream.headerSize...])
        return (
            Array(blob[..<SealedStream.headerSize]),
            stride(from: 0, to: body.count, by: size).map { Array(body[$0..<min($0 + size, body.count)]) }
        )
    }

    @Test(
        "a truncated stream, reordered or swapped segments and a flipped byte are each detected, naming the record",
        arguments: ["truncate", "drop-last", "reorder", "swap-in", "flip"])
    func tampering(_ attack: String) async throws {
        let d = try await TransferDeployment(records: 2, largeValueBytes: Self.valueBytes)
        let (_, transfer, key) = try await d.grantedTransfer()
        let blobs = try d.queries.blobs(lot: TransferDeployment.lot, level: .level2)
        let target = blobs[0]
        let original = try d.blobStore.get(target.blobID)
        let (header, segments) = Self.segments(original)
        #expect(segments.count >= 4)
        var tampered: [UInt8]
        switch attack {
        case "truncate": tampered = Array(original.dropLast(100))  // cut inside the final segment
        case "drop-last": tampered = header + segments.dropLast().joined()  // cut at a segment boundary
        case "reorder":
            var moved = segments
            moved.swapAt(1, 2)
            tampered = header + moved.joined()
        case "swap-in":
            // Segment 1 of another record's blob (another key) in place of this one's.
            let other = Self.segments(try d.blobStore.get(blobs[1].blobID)).segments
            var mixed = segments
            mixed[1] = other[1]
            tampered = header + mixed.joined()
        default:
            tampered = original
            tampered[SealedStream.headerSize + SealedStream.defaultSegmentSize + 100] ^= 0x01
        }
        // The AEAD alone detects it (no blob hash given) ...
        let record = try #require(try d.queries.record(target.recordID))
        let dataKey = try target.wrappedKey.unwrap(with: d.ownerKey)
        #expect(throws: Sealing.Error.self) {
            try SealedPrivateFields(recordID: target.recordID, level: .level2, blob: tampered)
                .open(dataKey: dataKey, record: record)
        }
        // ... and the requester's streamed fetch fails naming the record.
        try Data(tampered).write(to: URL(fileURLWithPath: d.blobStore.path(of: target.blobID)))
        var sink = CollectingSink()
        do {
            _ = try TransferRequester.fetch(
                transfer: transfer, key: key,
                material: StoreTransferMaterial(queries: d.queries, blobs: d.blobStore), into: &sink)
            Issue.record("a tampered stream (\(attack)) was accepted")
        } catch {
            #expect("\(error)".contains("record \(target.recordID)"), "\(error)")
            #expect(
                "\(error)".contains("does not authenticate") || "\(error)".contains("truncated"), "\(error)")
        }
    }

    @Test("a header altered to a smaller segment size fails to open")
    func alteredHeader() throws {
        let fields = PrivateFields(
            level: .level2,
            entries: [FieldEntry(key: "planting.weeding_records", value: .text(String(repeating: "a", count: 200_000)))]
        )
        let id = RecordID(hex: String(repeating: "07", count: 16))!
        let (sealed, key) = try SealedPrivateFields.seal(fields, recordID: id)
        var blob = sealed.blob
        blob[6] ^= 0x01  // segment size 65536 -> 65792
        var reader = try SealedBlobReader(source: BytesBlobSource(blob), dataKey: key, record: id, level: .level2)
        #expect(throws: Sealing.Error.self) { while try reader.next() != nil {} }
        // The original opens, bound to its record: another record id does not.
        var good = try SealedBlobReader(source: BytesBlobSource(sealed.blob), dataKey: key, record: id, level: .level2)
        var total = 0
        while let chunk = try good.next() { total += chunk.count }
        #expect(total == Canonical.encode(fields).count)
        var wrong = try SealedBlobReader(
            source: BytesBlobSource(sealed.blob), dataKey: key,
            record: RecordID(hex: String(repeating: "08", count: 16))!,
            level: .level2)
        #expect(throws: Sealing.Error.self) { _ = try wrong.next() }
    }
}

/// A value larger than the upload piece size, through a real mosquitto into the blob store.
@Suite("Large uploads in pieces over a real mosquitto", .serialized, .timeLimit(.minutes(3)))
struct PieceUploadTests {
    @Test(
        "a blob larger than the piece size is uploaded in pieces, a gap is dropped, the full re-send is stored and acknowledged"
    )
    func largeUpload() async throws {
        let broker = try await TestBroker.start()
        defer { broker.kill() }
        let d = try await TransferDeployment(records: 1, largeValueBytes: 2_500_000)
        let service = try BlobService(
            storePath: d.storePath, authority: d.authority, broker: .init(port: broker.port), clientID: "blobs-pieces")
        let serving = Task { try await service.run() }
        defer { serving.cancel() }
        let device = try MQTTClient(clientID: "farm-box-pieces", options: .init(port: broker.port))
        let acks = Collector(device.messages)
        let events = Collector(device.events)
        try device.subscribe(
            topic: Wire.blobAckTopic(enterprise: "PLANT1", device: "farm-box"), qos: .atLeastOnce)
        try device.connect()
        defer { device.disconnect() }
        #expect(await eventually { events.values.contains { if case .subscribed = $0 { true } else { false } } })
        // The service's own subscription too: pieces published before it would be dropped.
        #expect(await eventuallyAsync { await service.isSubscribed })

        let item = d.classified[0]
        let upload = try BlobUpload.make(
            try #require(item.level2), record: item.record.id, enterprise: "PLANT1", device: "farm-box",
            owner: d.ownerKey.publicKey, deviceKey: d.box)
        let id = upload.reference.value.blobID
        let pieces = BlobPiece.pieces(of: upload)
        #expect(pieces.count >= 3)
        #expect(pieces.allSatisfy { $0.count < BlobPiece.defaultPieceSize + 4096 })
        let topic = Wire.blobTopic(enterprise: "PLANT1", device: "farm-box")
        // A piece lost on the way: the partial blob is dropped, nothing is stored or queued.
        for (index, piece) in pieces.enumerated() where index != 1 {
            try device.publish(topic: topic, payload: piece, qos: .atLeastOnce)
        }
        #expect(await eventuallyAsync { await service.received >= pieces.count - 1 })
        try await Task.sleep(for: .milliseconds(300))
        #expect(!d.blobStore.contains(id))
        #expect(await service.waitingCount == 0)
        // The agent's re-send of every piece: stored, its hash checked, the reference ordered.
        for piece in pieces { try device.publish(topic: topic, payload: piece, qos: .atLeastOnce) }
        #expect(await eventuallyAsync { await service.waitingCount == 1 })
        #expect(d.blobStore.contains(id))
        try d.ledger.admitSubmissions()
        try d.cut()
        #expect(
            await eventually(timeout: .seconds(20)) {
                acks.values.contains { message in
                    guard let signed = try? Canonical.decode(Signed<BlobAck>.self, from: message.payload) else {
                        return false
                    }
                    return signed.isValid(domain: .blobAck, key: d.authority.publicKey) && signed.value.stored == [id]
                }
            })
        #expect(try d.queries.blob(id: id)?.status == .stored)
        // What was stored is the exact blob: it opens streamed and matches the record's commitment.
        var sink = CollectingSink()
        let reader = try SealedBlobReader(
            source: try FileBlobSource(path: d.blobStore.path(of: id)),
            dataKey: try upload.reference.value.wrappedKey.unwrap(with: d.ownerKey), record: item.record.id,
            level: .level2)
        let verified = try StreamedFields.open(
            reader, record: item.record, level: .level2, expectedBlobID: id, into: &sink)
        #expect(verified.blobID == id)
        #expect(sink.fields["planting.weeding_records"]?.utf8.count ?? 0 > 2_400_000)
    }

    @Test(
        "an upload cut off by a stopped writer leaves a temporary file that the next start removes; live writers keep theirs"
    )
    func abandonedTemporariesAreRemovedAtStart() throws {
        let directory = try TemporaryDirectory(prefix: "agritrace-blob-tmp")
        let storePath = directory.file("ledger.sqlite")
        let blobs = BlobStore(storePath: storePath)
        // This process's writer, half way through a blob.
        let live = try BlobStore.Writer(store: blobs, expected: Digest32.sha256([1, 2, 3, 4]), size: 4)
        try live.append([1, 2][...])
        // The leftover of a writer that was killed: its process is gone.
        let gone = try SpawnedProcess("/bin/true", [])
        gone.waitUntilExit()
        let stale = "\(blobs.temporaryDirectory)/\(Digest32.sha256([9]).hex).\(gone.processIdentifier).12345"
        #expect(FileManager.default.createFile(atPath: stale, contents: Data(repeating: 7, count: 1000)))
        #expect(try FileManager.default.contentsOfDirectory(atPath: blobs.temporaryDirectory).count == 2)

        final class Lines: Sendable { let value = Mutex<[String]>([]) }
        let lines = Lines()
        _ = try BlobService(
            storePath: storePath, authority: Curve25519.Signing.PrivateKey(), broker: .init(port: 1),
            clientID: "blobs-sweep", log: { line in lines.value.withLock { $0.append(line) } })
        let logged = lines.value.withLock { $0 }
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(try FileManager.default.contentsOfDirectory(atPath: blobs.temporaryDirectory).count == 1)
        #expect(logged.contains { $0.contains("removed 1 unfinished upload") }, "\(logged)")
        // The live writer finishes normally.
        try live.append([3, 4][...])
        try live.finish()
        #expect(blobs.contains(Digest32.sha256([1, 2, 3, 4])))
        #expect(try FileManager.default.contentsOfDirectory(atPath: blobs.temporaryDirectory).isEmpty)
    }
}

/// Polls an actor-reading `condition` every 20 ms for up to 20 s.
func eventuallyAsync(_ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(20)
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}
