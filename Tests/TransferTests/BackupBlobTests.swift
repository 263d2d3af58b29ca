import AgriTraceCore
import Blobs
import Crypto
import Foundation
import Ledger
import TestSupport
import Testing

/// `agritrace backup` (the built binary) of a ledger store with a blob store, taken while
/// blobs keep arriving and blocks keep being cut: restored, the copy passes `verify` and
/// `replay`, and every blob its ledger references is in it with its SHA-256, including every
/// blob acknowledged before the backup started.
@Suite("Backup and restore with blobs (built binary)", .serialized, .timeLimit(.minutes(3)))
struct BackupBlobTests {
    /// The ids (hex) of the blobs the ledger at `store` references as stored.
    func storedBlobs(_ store: String) throws -> Set<String> {
        let output = try runCommand(
            "sqlite3", [store, "SELECT lower(hex(blob_id)) FROM blobs WHERE status = 'stored'"])
        return Set(output.split(separator: "\n").map(String.init))
    }

    /// The built `agritrace` with `arguments`, started now; its output in a file.
    func start(_ arguments: [String], log: String) throws -> Process {
        FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try builtProduct(named: "agritrace"))
        process.arguments = arguments
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// Uploads the level-2 and level-1 blobs of `items` and cuts the block that acknowledges them.
    func upload(_ d: TransferDeployment, _ items: ArraySlice<ClassifiedReading>) async throws {
        for item in items {
            for fields in [item.level2, item.level1].compactMap({ $0 }) {
                let upload = try BlobUpload.make(
                    fields, record: item.record.id, enterprise: "PLANT1", device: "farm-box",
                    owner: d.ownerKey.publicKey, deviceKey: d.box)
                await d.blobService.handle(
                    topic: Wire.blobTopic(enterprise: "PLANT1", device: "farm-box"), payload: Canonical.encode(upload))
            }
            try d.ledger.admitSubmissions()
            try d.cut()
            await d.blobService.tick()
        }
    }

    @Test func backupDuringUploadsHoldsEveryReferencedBlobAndRestores() async throws {
        let d = try await TransferDeployment(records: 8)
        try await upload(d, d.classified[0..<4])
        let before = try storedBlobs(d.storePath)
        #expect(before.count == 8, "two blobs for each of the first four records")

        let folder = d.directory.file("backup")
        let backup = try start(["backup", "--store", d.storePath, "--to", folder], log: d.directory.file("backup.log"))
        // Uploads and blocks go on while the backup runs.
        try await upload(d, d.classified[4..<8])
        while backup.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        let output = try String(contentsOfFile: d.directory.file("backup.log"), encoding: .utf8)
        #expect(backup.terminationStatus == 0, "\(output)")
        #expect(output.contains("verified"), "\(output)")
        #expect(try storedBlobs(d.storePath).count == 16)

        let restored = d.directory.file("restored.sqlite")
        let restore = try start(
            ["restore", "--from", folder, "--store", restored], log: d.directory.file("restore.log"))
        restore.waitUntilExit()
        #expect(
            restore.terminationStatus == 0,
            "\((try? String(contentsOfFile: d.directory.file("restore.log"), encoding: .utf8)) ?? "")")
        for command in ["verify", "replay"] {
            let log = d.directory.file("\(command).log")
            let check = try start([command, "--store", restored], log: log)
            check.waitUntilExit()
            #expect(
                check.terminationStatus == 0, "\(command): \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")"
            )
        }
        // Every blob the restored ledger references is in the restored blob store, intact,
        // and so is every blob stored before the backup started.
        let referenced = try storedBlobs(restored)
        #expect(before.isSubset(of: referenced), "blobs acknowledged before the backup are missing")
        let blobs = BlobStore(storePath: restored)
        for hex in referenced {
            let id = try #require(Digest32(hex: hex))
            let bytes = try #require(FileManager.default.contents(atPath: blobs.path(of: id)), "blob \(hex) missing")
            #expect(Digest32.sha256(bytes) == id, "blob \(hex) damaged")
        }
    }
}
