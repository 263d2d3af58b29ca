import AgriTraceCore
import Crypto
import Foundation
import MQTTClient
import PosixThreads
import SQLiteStorage
import TestSupport
import Testing

@testable import EdgeAgent

/// The box's wall clock stepped back (NTP after a dead RTC battery, an operator's `date -s`).
///
/// Found by the chaos run (`scripts/chaos.sh`, libfaketime on the agent): records sent just
/// before the clock went back carried a send time in the future, so the resend timeout never
/// expired for them; a batch the broker or `serve` lost with them stayed unreceipted until the
/// clock caught up again (400 days in the run) or the agent restarted.
@Suite struct ClockStepTests {
    static let timeout: Int64 = 30_000
    static let sentAt: Int64 = 1_800_000_000_000

    /// A store with `count` simulated readings in its outbox, all sent at `sentAt`.
    func storeWithSentRecords(_ count: Int, in directory: TemporaryDirectory) throws -> (AgentStore, [UInt64]) {
        let key = try DeviceKey.create(path: directory.file("device.key"))
        let store = try AgentStore(
            path: directory.file("store.sqlite"), cipher: VaultCipher(key: key.vaultKey(enterprise: "e", device: "d")),
            budgetBytes: 64 << 20)
        let classifier = Classifier(
            identity: DeviceIdentity(enterprise: "e", device: "d", enrolledAt: Timestamp(milliseconds: 0)))
        let lines = simulatedLines(count, seed: 5).enumerated().map {
            InputLine(bytes: Array($0.element.utf8), number: Int64($0.offset + 1))
        }
        _ = try store.ingest(lines, source: "t", position: nil, classifier: classifier, bootID: "b")
        let sent = try store.takeBatch(
            limit: 1_000, resendCutoff: Self.sentAt - Self.timeout, now: Self.sentAt)
        return (store, sent.map { $0.sequence })
    }

    @Test func recordsSentBeforeTheClockSteppedBackAreSentAgainWithinTwoTimeouts() throws {
        let directory = try TemporaryDirectory()
        let (store, sent) = try storeWithSentRecords(10, in: directory)
        #expect(sent.count == 10)
        // No receipt came (the batch was lost). The clock steps back 400 days; two resend
        // timeouts of the new clock later, every unreceipted record goes again, oldest first.
        let now = Self.sentAt - 400 * 86_400_000 + 2 * Self.timeout
        let again = try store.takeBatch(limit: 1_000, resendCutoff: now - Self.timeout, now: now)
        #expect(again.map { $0.sequence } == sent)
        #expect(try store.outstandingCount(sentSince: now - Self.timeout) == 10)
    }

    @Test func aSmallStepBackOrNoStepDoesNotResendEarly() throws {
        let directory = try TemporaryDirectory()
        let (store, sent) = try storeWithSentRecords(5, in: directory)
        #expect(sent.count == 5)
        // The same clock a second later, and a clock 20 s behind: still within the timeout.
        for now in [Self.sentAt + 1_000, Self.sentAt - 20_000] {
            #expect(try store.takeBatch(limit: 1_000, resendCutoff: now - Self.timeout, now: now).isEmpty)
        }
        // The timeout passed on an unchanged clock: go-back-N as before.
        let later = Self.sentAt + Self.timeout + 1
        #expect(
            try store.takeBatch(limit: 1_000, resendCutoff: later - Self.timeout, now: later).map { $0.sequence }
                == sent)
    }
}

/// Retention on a box whose clock steps (found by the chaos run: a clock stepped years ahead
/// made the hourly retention delete 755 receipted records and their vault entries at once).
/// Age counts in the ledger's signed block time, and "now" is at most the newest block time.
@Suite struct RetentionClockTests {
    static let day: Int64 = 86_400_000
    static let blockTime: Int64 = 1_800_000_000_000

    /// Receipts for `records[range]` in one block signed at `time`, over the log of every record
    /// up to the range's end (the log the aggregator would have).
    func receipts(
        _ records: [Record], _ range: Range<Int>, height: UInt64, time: Int64, authority: Curve25519.Signing.PrivateKey
    ) throws -> ReceiptBatch {
        var log = MerkleLog()
        for record in records[..<range.upperBound] { log.append(LogEntry.record(record).leafHash) }
        let head = try Signed(
            BlockHeader(
                height: height, previousHash: .zero, transactionRoot: .zero, transactionCount: UInt32(range.count),
                logSize: log.size, logRoot: log.root, time: Timestamp(milliseconds: time), proposer: "test"),
            domain: .blockHeader, key: authority)
        return ReceiptBatch(
            receipts: try range.map { index in
                Receipt(
                    recordID: records[index].id, height: height, leafIndex: UInt64(index),
                    inclusionProof: try log.inclusionProof(index: UInt64(index)), treeHead: head)
            }, rejections: [])
    }

    /// A store with `count` records sent, and the records.
    func sentStore(_ count: Int, in directory: TemporaryDirectory) throws -> (AgentStore, [Record]) {
        let (store, _) = try ClockStepTests().storeWithSentRecords(count, in: directory)
        let rows = try store.takeBatch(limit: 1_000, resendCutoff: Int64.max, now: ClockStepTests.sentAt)
        let records = try rows.map { try Canonical.decode(Record.self, from: $0.body) }
        #expect(records.count == count)
        #expect(records.contains { $0.level2 != nil || $0.level1 != nil }, "no record with private values")
        return (store, records)
    }

    @Test func aClockSteppedYearsAheadDeletesNothingReceipted() throws {
        let directory = try TemporaryDirectory()
        let (store, records) = try sentStore(12, in: directory)
        let authority = Curve25519.Signing.PrivateKey()
        // Receipted while the box's clock was five years behind the ledger's.
        let outcome = try store.apply(
            try receipts(records, 0..<12, height: 1, time: Self.blockTime, authority: authority),
            authority: authority.publicKey, now: Timestamp(milliseconds: Self.blockTime - 5 * 365 * Self.day))
        #expect(outcome.receipted == 12)
        // The clock steps three years ahead: 731 days of retention delete nothing.
        let deleted = try store.applyRetention(
            days: 731, now: Timestamp(milliseconds: Self.blockTime + 3 * 365 * Self.day))
        #expect(deleted == 0)
        #expect(try store.statistics().receipted == 12)
        for record in records where record.level2 != nil || record.level1 != nil {
            #expect(try !store.privateFields(of: record.id).isEmpty, "the vault lost \(record.id)")
        }
    }

    @Test func retentionCountsInTheLedgersSignedTime() throws {
        let directory = try TemporaryDirectory()
        let (store, records) = try sentStore(12, in: directory)
        let authority = Curve25519.Signing.PrivateKey()
        // Block 1 (records 0-4) and block 2 (records 5-11) 800 days later, on the ledger's clock.
        for (range, height, time) in [(0..<5, UInt64(1), Self.blockTime), (5..<12, 2, Self.blockTime + 800 * Self.day)]
        {
            let outcome = try store.apply(
                try receipts(records, range, height: height, time: time, authority: authority),
                authority: authority.publicKey, now: Timestamp(milliseconds: Self.blockTime))
            #expect(outcome.receipted == range.count)
        }
        // Whatever the box's clock says (behind both blocks excepted), only block 1 is past 731 days.
        #expect(
            try store.applyRetention(days: 731, now: Timestamp(milliseconds: Self.blockTime + 10 * 365 * Self.day)) == 5
        )
        #expect(try store.applyRetention(days: 731, now: Timestamp(milliseconds: Self.blockTime + 900 * Self.day)) == 0)
        #expect(try store.statistics().receipted == 7)
        for (index, record) in records.enumerated() where record.level2 != nil || record.level1 != nil {
            #expect(try store.privateFields(of: record.id).isEmpty == (index < 5), "vault entry of record \(index)")
        }
        // A box clock behind the newest block deletes by its own, earlier, now.
        #expect(try store.applyRetention(days: 1, now: Timestamp(milliseconds: Self.blockTime + 700 * Self.day)) == 0)
    }
}

/// The same stall in the blob uploader (`BlobUploader.sendDue`): an upload sent before the
/// clock stepped back carried a send time in the future and waited for the clock to catch up.
@Suite struct BlobResendClockTests {
    @Test func anUploadSentBeforeTheClockSteppedBackIsDueWithinTwoTimeouts() throws {
        let directory = try TemporaryDirectory()
        _ = try ClockStepTests().storeWithSentRecords(1, in: directory)  // the store's migrations make blob_uploads
        let db = try SQLiteConnection(path: directory.file("store.sqlite"))
        let sentAt = ClockStepTests.sentAt
        let timeout = ClockStepTests.timeout
        let insert = try db.prepare(
            "INSERT INTO blob_uploads(record_id, level, body, status, sent_at) VALUES (?, 'level-2', ?, ?, ?)")
        for (id, status, sent) in [(1, "pending", sentAt), (2, "pending", 0), (3, "uploaded", sentAt)] {
            try insert.bind([UInt8(id)], at: 1)
            try insert.bind([UInt8](repeating: 7, count: 8), at: 2)
            try insert.bind(status, at: 3)
            try insert.bind(Int64(sent), at: 4)
            try insert.run()
        }
        func due(_ now: Int64) throws -> [UInt8] {
            try BlobUploader.due(in: db, now: now, timeout: timeout, limit: 10).map { $0.recordID[0] }
        }
        // Not yet due on the same clock, or on a clock a little behind; due after the timeout.
        #expect(try due(sentAt + 1_000) == [2])
        #expect(try due(sentAt - 20_000) == [2])
        #expect(try due(sentAt + timeout) == [2, 1])
        // The clock steps back 400 days: due again within two timeouts of the new clock.
        #expect(try due(sentAt - 400 * 86_400_000 + 2 * timeout) == [2, 1])
    }
}

/// The delivery back-off after a whole-batch refusal is timed on the monotonic clock: on the
/// wall clock, a step back during a pause stretched it by the size of the step.
@Suite struct RefusalPauseClockTests {
    @Test func theRefusalPauseEndsOnTheMonotonicClock() throws {
        let directory = try TemporaryDirectory()
        let (store, _) = try ClockStepTests().storeWithSentRecords(1, in: directory)
        let settings = RecordPublisher.Settings(resendTimeoutMilliseconds: 1_000)
        let publisher = RecordPublisher(
            client: try MQTTClient(clientID: "pause-test"), store: store,
            key: try DeviceKey.load(path: directory.file("device.key")),
            authority: Curve25519.Signing.PrivateKey().publicKey, enterprise: "e", device: "d", settings: settings,
            metrics: AgentMetrics(), logger: quietLogger())
        #expect(!publisher.isPaused())
        publisher.noteRefusal(Rejection(recordID: nil, code: .unknownDevice, reason: "not registered"))
        // The first refusal pauses twice the resend timeout, counted from the monotonic now.
        let clock = monotonicMilliseconds()
        #expect(publisher.isPaused(clock: clock))
        #expect(publisher.isPaused(clock: clock + 1_500))
        #expect(!publisher.isPaused(clock: clock + 2_100))
    }
}

/// `blob_uploads` moved from the uploader's own `CREATE TABLE IF NOT EXISTS` into the store's
/// migrations (version 4): a store the uploader already gave the table opens and keeps its rows.
@Suite struct BlobUploadsMigrationTests {
    @Test func aStoreWhoseUploaderMadeTheTableMigratesAndKeepsItsRows() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("store.sqlite")
        do {
            let db = try SQLiteConnection(path: path)
            _ = try db.migrate(Array(AgentStore.migrations.prefix(3)))
            try db.execute(
                """
                CREATE TABLE IF NOT EXISTS blob_uploads(
                    record_id BLOB NOT NULL, level TEXT NOT NULL, blob_id BLOB, body BLOB, status TEXT NOT NULL,
                    reason TEXT, sent_at INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY(record_id, level)
                ) WITHOUT ROWID;
                CREATE INDEX IF NOT EXISTS blob_uploads_status ON blob_uploads(status, sent_at);
                INSERT INTO blob_uploads(record_id, level, status) VALUES (x'01', 'level-2', 'pending');
                """)
        }
        let key = try DeviceKey.create(path: directory.file("device.key"))
        _ = try AgentStore(
            path: path, cipher: VaultCipher(key: key.vaultKey(enterprise: "e", device: "d")), budgetBytes: 64 << 20)
        let db = try SQLiteConnection(path: path)
        let version = try db.prepare("PRAGMA user_version")
        _ = try version.step()
        #expect(version.int64(at: 0) == Int64(AgentStore.migrations.count))
        #expect(try BlobUploader.due(in: db, now: 1, timeout: 1, limit: 10).map { $0.recordID } == [[1]])
    }
}
