import AgriTraceCore
import ArgumentParser
import Blobs
import Crypto
import Foundation
import Ledger
import LedgerClient
import SQLiteStorage

/// `agritrace backup`: an online, consistent copy of a ledger store and its blob store,
/// verified once written. Safe while `serve` runs (it takes no writer lock).
struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a ledger store and its blobs into a folder while `serve` runs, then verify the copy.",
        discussion: """
            The ledger is copied with SQLite's VACUUM INTO (one read transaction: a consistent snapshot \
            even while blocks are written), then the blobs the copied ledger references. The copy is then \
            verified: the chain and the log (`verify`), the world state against the log (`replay`), and \
            every blob's SHA-256. The CA's folder and keys are not part of it (docs/operations.md).
            """)

    @Option(name: .long, help: "Path of the ledger store to back up.")
    var store: String = "agritrace.sqlite"

    @Option(name: .long, help: "The folder to write the backup into (created; must not hold a backup already).")
    var to: String

    @Option(name: .long, help: "Verify against this authority public key (default: the one recorded in the store).")
    var authority: String?

    func run() throws {
        let source = try openReadOnly(store)
        guard let key = try authority.map(Keys.readPublicKey) ?? source.authorityKey() else {
            throw UserError("\(store) has no authority key yet: nothing to back up")
        }
        let layout = BackupLayout(folder: to)
        try layout.prepareEmpty()
        try StoreBackup.copyLedger(from: store, to: layout.ledger)
        let copied = try StoreBackup.copyBlobs(
            referencedBy: layout.ledger, from: BlobStore(storePath: store), to: BlobStore(storePath: layout.ledger))
        let summary = try StoreBackup.verify(layout.ledger, authority: key)
        try Output.json(summary).write(toFile: layout.manifest, atomically: true, encoding: .utf8)
        Output.standardError(
            "backup of \(store) in \(to): \(summary.blocks) blocks, \(summary.leaves) log entries, \(copied) blobs; verified"
        )
        print(try Output.json(summary))
    }
}

/// `agritrace restore`: puts a verified backup in place as a ledger store.
struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore a ledger store and its blobs from a backup folder, refusing a backup that does not verify.")

    @Option(name: .long, help: "The backup folder (written by `agritrace backup`).")
    var from: String

    @Option(
        name: .long,
        help: "Path of the ledger store to create (must not exist; stop `serve` and move the old one aside).")
    var store: String

    @Option(name: .long, help: "Verify against this authority public key (default: the one recorded in the backup).")
    var authority: String?

    func run() throws {
        let layout = BackupLayout(folder: from)
        guard FileManager.default.fileExists(atPath: layout.ledger) else {
            throw UserError(
                "\(from) holds no backup (no \(layout.ledger)); give the folder `agritrace backup --to` wrote")
        }
        let lock = try StoreLock(store: store, command: "agritrace restore")
        defer { withExtendedLifetime(lock) {} }
        for path in [store, store + ".blobs", store + "-wal"] where FileManager.default.fileExists(atPath: path) {
            throw UserError(
                "\(path) exists: restore writes a new store; stop `serve` and move the old store aside first")
        }
        let backup = try openReadOnly(layout.ledger)
        guard let key = try authority.map(Keys.readPublicKey) ?? backup.authorityKey() else {
            throw UserError("the backup \(layout.ledger) has no authority key: it is not a ledger backup")
        }
        let summary: StoreBackup.Summary
        do { summary = try StoreBackup.verify(layout.ledger, authority: key) } catch {
            throw UserError("refusing the backup in \(from): \(error)")
        }
        try StoreBackup.copyLedger(from: layout.ledger, to: store)
        _ = try StoreBackup.copyBlobs(
            referencedBy: store, from: BlobStore(storePath: layout.ledger), to: BlobStore(storePath: store))
        Output.standardError("restored \(store) from \(from): \(summary.blocks) blocks, \(summary.leaves) log entries")
        print(try Output.json(summary))
    }
}

/// The files of a backup folder.
struct BackupLayout {
    let folder: String
    var ledger: String { folder + "/ledger.sqlite" }
    var manifest: String { folder + "/backup.json" }

    func prepareEmpty() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for path in [ledger, ledger + ".blobs", manifest] where FileManager.default.fileExists(atPath: path) {
            throw UserError("\(path) exists: give an empty folder to --to")
        }
    }
}

/// Copying and verifying a ledger store with its blobs.
enum StoreBackup {
    /// What a verified copy holds.
    struct Summary: Codable {
        var blocks: UInt64
        var leaves: UInt64
        var logRoot: String
        var blobs: Int
        var replayedTransactions: UInt64
    }

    /// A backup or a restore that does not verify.
    struct Fault: Error, CustomStringConvertible {
        var description: String
    }

    /// `VACUUM INTO` from a read-only connection: one consistent snapshot, written to a
    /// temporary file and renamed into place once complete.
    static func copyLedger(from source: String, to destination: String) throws {
        let temporary = destination + ".partial"
        try? FileManager.default.removeItem(atPath: temporary)
        let connection = try SQLiteConnection(path: source, readOnly: true, create: false)
        let statement = try connection.prepare("VACUUM INTO ?")
        try statement.run([.text(temporary)])
        guard rename(temporary, destination) == 0 else {
            throw UserError("cannot move \(temporary) to \(destination): \(String(cString: strerror(errno)))")
        }
    }

    /// The blob ids the ledger at `path` references as stored.
    static func storedBlobIDs(_ path: String) throws -> [Digest32] {
        let connection = try SQLiteConnection(path: path, readOnly: true, create: false)
        let statement = try connection.prepare("SELECT DISTINCT blob_id FROM blobs WHERE status = 'stored'")
        var ids: [Digest32] = []
        while try statement.step() {
            guard let id = statement.bytes(at: 0).flatMap({ Digest32(bytes: $0) }) else {
                throw Fault(description: "\(path): a blob id in the blobs table is not 32 bytes")
            }
            ids.append(id)
        }
        return ids
    }

    /// Copies every blob `ledger` references from `source` into `destination`, checking each
    /// copy's SHA-256. Returns how many.
    static func copyBlobs(referencedBy ledger: String, from source: BlobStore, to destination: BlobStore) throws -> Int
    {
        let ids = try storedBlobIDs(ledger)
        for id in ids {
            guard let bytes = FileManager.default.contents(atPath: source.path(of: id)) else {
                throw Fault(description: "blob \(id) referenced by the ledger is missing from \(source.directory)")
            }
            try destination.put([UInt8](bytes), expected: id)
        }
        return ids.count
    }

    /// The chain and the log (`verify`), the state against the log (`replay`), and every
    /// referenced blob present with the right SHA-256.
    static func verify(_ ledger: String, authority: Curve25519.Signing.PublicKey) throws -> Summary {
        let store = try LedgerStore(path: ledger, readOnly: true)
        let report = try LedgerVerifier.verify(store: store, authority: authority)
        if let fault = report.fault { throw Fault(description: "\(ledger) does not verify: \(fault)") }
        let replay = try StateReplay.replay(store: store, authority: authority)
        guard replay.ok else {
            throw Fault(
                description:
                    "\(ledger): the state does not match the log: \(replay.differences.prefix(3).joined(separator: "; "))"
            )
        }
        let blobs = BlobStore(storePath: ledger)
        let ids = try storedBlobIDs(ledger)
        for id in ids {
            guard let bytes = FileManager.default.contents(atPath: blobs.path(of: id)) else {
                throw Fault(description: "blob \(id) is missing from \(blobs.directory)")
            }
            let actual = Digest32.sha256(bytes)
            guard actual == id else {
                throw Fault(description: "blob \(id) in \(blobs.directory) is damaged (its SHA-256 is \(actual))")
            }
        }
        return Summary(
            blocks: report.blocks, leaves: report.leaves, logRoot: report.logRoot, blobs: ids.count,
            replayedTransactions: replay.transactions)
    }
}
