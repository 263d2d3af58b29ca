import AccessFlow
import AgriTraceCore
import Blobs
import Crypto
import Foundation
import Ledger
import Synchronization
import TestSupport
import Testing

/// The blob service's bounds on unfinished uploads and blob size (`serve
/// --max-unfinished-uploads`, `--max-unfinished-uploads-per-device`,
/// `--unfinished-upload-timeout`, `--max-blob-bytes`), on a real ledger store and blob folder.
@Suite("Unfinished uploads are bounded", .serialized, .timeLimit(.minutes(3)))
struct UploadLimitTests {
    final class Lines: Sendable {
        let value = Mutex<[String]>([])
        func append(_ line: String) { value.withLock { $0.append(line) } }
        func contains(_ text: String) -> Bool { value.withLock { $0.contains { $0.contains(text) } } }
    }

    /// The first piece of a fresh upload of record `index`'s level-2 values from `device`, and all its pieces.
    func upload(_ d: TransferDeployment, record index: Int, device: String) throws -> (
        id: Digest32, pieces: [[UInt8]], topic: String
    ) {
        let item = d.classified[index]
        let upload = try BlobUpload.make(
            try #require(item.level2), record: item.record.id, enterprise: "PLANT1", device: device,
            owner: d.ownerKey.publicKey, deviceKey: d.box)
        return (
            upload.reference.value.blobID, BlobPiece.pieces(of: upload),
            Wire.blobTopic(enterprise: "PLANT1", device: device)
        )
    }

    func temporaries(_ d: TransferDeployment) throws -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: d.blobStore.temporaryDirectory))?.count ?? 0
    }

    @Test(
        "a device past its own limit loses its oldest unfinished upload, past the total limit a new one waits, idle ones expire with their files"
    )
    func unfinishedUploadsAreBounded() async throws {
        let d = try await TransferDeployment(records: 3, largeValueBytes: 1_500_000)
        let lines = Lines()
        let service = try BlobService(
            storePath: d.storePath, authority: d.authority, broker: .init(port: 1), clientID: "blobs-limits",
            limits: .init(
                maxUnfinishedUploads: 3, maxUnfinishedUploadsPerDevice: 2, unfinishedUploadTimeout: .milliseconds(400)),
            log: lines.append)
        let a = try upload(d, record: 0, device: "farm-box")
        let b = try upload(d, record: 1, device: "farm-box")
        let c = try upload(d, record: 2, device: "farm-box")
        let e = try upload(d, record: 0, device: "farm-box-2")
        let f = try upload(d, record: 1, device: "farm-box-2")
        #expect(a.pieces.count >= 2)
        for started in [a, b] { await service.handle(topic: started.topic, payload: started.pieces[0]) }
        #expect(await service.unfinishedCount == 2)
        #expect(try temporaries(d) == 2)
        // A third upload of the same device drops its least recently active one (a).
        await service.handle(topic: c.topic, payload: c.pieces[0])
        #expect(await service.unfinishedCount == 2)
        #expect(lines.contains("dropped the unfinished upload of blob \(a.id) from PLANT1/farm-box"))
        #expect(try temporaries(d) == 2)
        // a's later pieces no longer land anywhere.
        await service.handle(topic: a.topic, payload: a.pieces[1])
        #expect(await service.unfinishedCount == 2)
        // Another device fills the last place; one more is not started and says why.
        await service.handle(topic: e.topic, payload: e.pieces[0])
        #expect(await service.unfinishedCount == 3)
        await service.handle(topic: f.topic, payload: f.pieces[0])
        #expect(await service.unfinishedCount == 3)
        #expect(
            lines.contains("upload of blob \(f.id) from PLANT1/farm-box-2 not started: 3 unfinished uploads already"))
        #expect(try temporaries(d) == 3)
        // Idle uploads expire at the next tick, their temporary files with them.
        try await Task.sleep(for: .milliseconds(600))
        await service.tick()
        #expect(await service.unfinishedCount == 0)
        #expect(try temporaries(d) == 0)
        #expect(lines.contains("no piece for"))
        // The re-send of the upload that had to wait is stored whole.
        for piece in f.pieces { await service.handle(topic: f.topic, payload: piece) }
        #expect(d.blobStore.contains(f.id))
        #expect(await service.waitingCount == 1)
        #expect(!d.blobStore.contains(a.id))
    }

    @Test("a blob over --max-blob-bytes is refused, naming the record and the limit, and nothing is written")
    func oversizedBlobIsRefused() async throws {
        let d = try await TransferDeployment(records: 1, largeValueBytes: 1_500_000)
        let lines = Lines()
        let service = try BlobService(
            storePath: d.storePath, authority: d.authority, broker: .init(port: 1), clientID: "blobs-oversize",
            limits: .init(maxBlobBytes: 1_000_000), log: lines.append)
        let big = try upload(d, record: 0, device: "farm-box")
        for piece in big.pieces { await service.handle(topic: big.topic, payload: piece) }
        #expect(await service.refused == 1)
        #expect(await service.unfinishedCount == 0)
        #expect(!d.blobStore.contains(big.id))
        #expect(try temporaries(d) == 0)
        #expect(await service.waitingCount == 0)
        // The refusal (published in the signed ack, and logged) names the record and the limit.
        #expect(
            lines.contains(
                "refused blob \(big.id) from PLANT1/farm-box: blob of record \(d.classified[0].record.id) is"))
        #expect(lines.contains("over this aggregator's limit of 1000000 (serve --max-blob-bytes)"))
    }
}
