import Dispatch
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import SQLiteStorage

@Suite("SQLiteStorage on a real database file")
struct SQLiteStorageTests {
    let directory: TemporaryDirectory
    let path: String

    init() throws {
        directory = try TemporaryDirectory(prefix: "agritrace-sqlite")
        path = directory.file("test.sqlite")
    }

    private func count(_ db: SQLiteConnection, _ table: String) throws -> Int64 {
        let statement = try db.prepare("SELECT count(*) FROM \(table)")
        #expect(try statement.step())
        return statement.int64(at: 0)
    }

    @Test func openSetsWALAndBusyTimeout() throws {
        let db = try SQLiteConnection(path: path)
        let mode = try db.prepare("PRAGMA journal_mode")
        #expect(try mode.step())
        #expect(mode.string(at: 0) == "wal")
        let sync = try db.prepare("PRAGMA synchronous")
        #expect(try sync.step())
        #expect(sync.int64(at: 0) == 1)  // NORMAL
        let timeout = try db.prepare("PRAGMA busy_timeout")
        #expect(try timeout.step())
        #expect(timeout.int64(at: 0) == 5000)
    }

    @Test func transactionRollbackLeavesNothing() throws {
        struct Boom: Error {}
        let db = try SQLiteConnection(path: path)
        try db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)")
        #expect(throws: Boom.self) {
            try db.transaction {
                let insert = try db.cachedStatement("INSERT INTO t(v) VALUES (?)")
                for i in 0..<100 {
                    try insert.bind("row \(i)", at: 1)
                    try insert.run()
                }
                #expect(try count(db, "t") == 100)
                throw Boom()
            }
        }
        #expect(try count(db, "t") == 0)
        #expect(db.isAutocommit)

        // A constraint violation inside a transaction rolls it back too, and is recognizable.
        do {
            try db.transaction {
                try db.execute("INSERT INTO t(v) VALUES ('a')")
                try db.execute("INSERT INTO t(v) VALUES ('a')")
            }
            Issue.record("duplicate insert did not throw")
        } catch let error as SQLiteError {
            #expect(error.isConstraintViolation)
            #expect(!error.isDiskFull)
            #expect(error.extendedResultCode == 2067)  // SQLITE_CONSTRAINT_UNIQUE
        }
        #expect(try count(db, "t") == 0)

        // Nested: the inner failure rolls back only the inner savepoint.
        try db.transaction {
            try db.execute("INSERT INTO t(v) VALUES ('outer')")
            _ = try? db.transaction {
                try db.execute("INSERT INTO t(v) VALUES ('inner')")
                throw Boom()
            }
        }
        let rows = try db.prepare("SELECT v FROM t")
        var values: [String] = []
        while try rows.step() { values.append(rows.string(at: 0) ?? "") }
        #expect(values == ["outer"])
    }

    @Test func preparedStatementRoundTripsEveryType() throws {
        let db = try SQLiteConnection(path: path)
        try db.execute("CREATE TABLE v(id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, n BLOB)")
        let allBytes = (0...255).map { UInt8($0) }
        let rows: [(Int64, Double, String, [UInt8])] = [
            (Int64.min, -0.5, "", []),
            (Int64.max, Double.pi, "Émilie 🌾 \u{0}nul", allBytes),
            (0, 1e300, "plain", [0, 0, 0]),
        ]
        let insert = try db.cachedStatement("INSERT INTO v(i, r, t, b, n) VALUES (?, ?, ?, ?, ?)")
        #expect(insert.parameterCount == 5)
        for (i, r, t, b) in rows {
            try insert.bind(i, at: 1)
            try insert.bind(r, at: 2)
            try insert.bind(t, at: 3)
            try insert.bind(b, at: 4)
            try insert.bindNull(at: 5)
            try insert.run()
            #expect(db.changes == 1)
        }
        #expect(db.lastInsertRowID == 3)
        // The cache hands back the same compiled statement.
        #expect(try db.cachedStatement("INSERT INTO v(i, r, t, b, n) VALUES (?, ?, ?, ?, ?)") === insert)

        let select = try db.prepare("SELECT i, r, t, b, n, typeof(t), typeof(b) FROM v ORDER BY id")
        var index = 0
        while try select.step() {
            let (i, r, t, b) = rows[index]
            #expect(select.int64(at: 0) == i)
            #expect(select.double(at: 1) == r)
            #expect(select.string(at: 2) == t)
            #expect(select.bytes(at: 3) == b)
            #expect(select.isNull(at: 4))
            #expect(select.bytes(at: 4) == nil)
            #expect(select.string(at: 4) == nil)
            #expect(select.string(at: 5) == "text")  // empty string is text, not NULL
            #expect(select.string(at: 6) == "blob")  // empty blob is a blob, not NULL
            #expect(select.value(at: 0) == .integer(i))
            select.withBytes(at: 3) { #expect(Array($0) == b) }
            index += 1
        }
        #expect(index == rows.count)
        #expect(select.columnName(at: 2) == "t")

        // Dynamically typed binding and a reset statement reused with new values.
        let lookup = try db.cachedStatement("SELECT count(*) FROM v WHERE t = ?")
        try lookup.bind(SQLiteValue.text("plain"), at: 1)
        #expect(try lookup.step())
        #expect(lookup.int64(at: 0) == 1)
        let again = try db.cachedStatement("SELECT count(*) FROM v WHERE t = ?")
        #expect(try again.step())
        #expect(again.int64(at: 0) == 0)  // bindings were cleared: t = NULL matches nothing
    }

    @Test func migrationsApplyOnceAndAreIdempotentOnReopen() throws {
        var steps = [
            "CREATE TABLE record(id BLOB PRIMARY KEY, body BLOB NOT NULL)",
            "ALTER TABLE record ADD COLUMN received_at INTEGER NOT NULL DEFAULT 0",
        ]
        do {
            let db = try SQLiteConnection(path: path)
            #expect(try db.userVersion() == 0)
            #expect(try db.migrate(steps) == 2)
            #expect(try db.userVersion() == 2)
            try db.execute("INSERT INTO record(id, body, received_at) VALUES (x'01', x'02', 3)")
        }
        do {
            let db = try SQLiteConnection(path: path)
            #expect(try db.migrate(steps) == 0)  // would fail ("table record already exists") if re-run
            #expect(try count(db, "record") == 1)
            steps.append("CREATE INDEX record_received ON record(received_at)")
            #expect(try db.migrate(steps) == 1)
            #expect(try db.userVersion() == 3)
            // A failing step leaves the previous version and schema intact.
            steps.append("CREATE TABLE broken(; nonsense")
            #expect(throws: SQLiteError.self) { try db.migrate(steps) }
            #expect(try db.userVersion() == 3)
            // A database newer than the program is refused.
            #expect(throws: SQLiteError.self) { try db.migrate(Array(steps.prefix(2))) }
        }
    }

    /// Several connections (as several processes: `serve` and a CLI command) open the same
    /// new file at once and migrate it: each step is applied exactly once, none fails.
    /// (Before the version was re-read inside the write transaction, two connections could
    /// both apply step 0: "table meta already exists".)
    @Test func concurrentFirstOpensApplyEachStepOnce() throws {
        let steps = [
            "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID",
            "CREATE TABLE record(id BLOB PRIMARY KEY, body BLOB NOT NULL)",
            "CREATE INDEX record_body ON record(body)",
        ]
        for round in 0..<10 {
            let file = directory.file("race-\(round).sqlite")
            let outcomes = Mutex<[Result<Int, any Error>]>([])
            DispatchQueue.concurrentPerform(iterations: 6) { _ in
                let outcome = Result { try SQLiteConnection(path: file).migrate(steps) }
                outcomes.withLock { $0.append(outcome) }
            }
            let applied = try outcomes.withLock { try $0.map { try $0.get() } }
            #expect(applied.reduce(0, +) == steps.count, "round \(round): \(applied)")
            #expect(try SQLiteConnection(path: file).userVersion() == steps.count)
        }
    }

    /// Opening a new file while another process holds a write transaction on it: setting WAL
    /// needs a lock SQLite does not wait for (it returned "database is locked" at once, seen
    /// when `serve` was migrating a new store as a CLI command opened it); the open now
    /// retries within the busy timeout. The other process here is Python's sqlite3 module.
    @Test func openWaitsForAnotherProcessWritingTheNewFile() async throws {
        let file = directory.file("held.sqlite")
        let marker = directory.file("held.locked")
        let opening = directory.file("held.opening")
        let committing = directory.file("held.committing")
        // The holder ends its write transaction on its own clock, 300 ms after the open began,
        // and leaves a file just before its COMMIT: nothing here depends on this process's
        // tasks being scheduled on time (under a loaded test run they were not).
        let holder = try SpawnedProcess(
            "/usr/bin/env",
            [
                "python3", "-c",
                """
                import os, sqlite3, sys, time
                c = sqlite3.connect(sys.argv[1], isolation_level=None)
                c.execute('CREATE TABLE held(x)')
                c.execute('BEGIN IMMEDIATE')
                c.execute('INSERT INTO held VALUES (1)')
                open(sys.argv[2], 'w').close()
                deadline = time.time() + 60
                while not os.path.exists(sys.argv[3]) and time.time() < deadline:
                    time.sleep(0.01)
                time.sleep(0.3)
                open(sys.argv[4], 'w').close()
                c.execute('COMMIT')
                """,
                file, marker, opening, committing,
            ])
        defer { holder.kill() }
        let deadline = ContinuousClock.now + .seconds(60)
        while !FileManager.default.fileExists(atPath: marker) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try #require(FileManager.default.fileExists(atPath: marker), "the Python holder did not start")
        // Open while the holder's write transaction is open (it cannot end before `opening` exists).
        FileManager.default.createFile(atPath: opening, contents: nil)
        let db = try SQLiteConnection(path: file, options: .init(busyTimeoutMilliseconds: 30_000))
        #expect(
            FileManager.default.fileExists(atPath: committing),
            "the open returned before the holder's transaction ended")
        let mode = try db.prepare("PRAGMA journal_mode")
        _ = try mode.step()
        #expect(mode.string(at: 0) == "wal")
        let rows = try db.prepare("SELECT count(*) FROM held")
        _ = try rows.step()
        #expect(rows.int64(at: 0) == 1)
    }

    /// Opening a store whose schema is current takes no write lock: a CLI command opening it
    /// while `serve` is in a write transaction does not wait (or fail) on the migration.
    @Test func migratingAnUpToDateFileTakesNoWriteLock() throws {
        let steps = ["CREATE TABLE record(id BLOB PRIMARY KEY, body BLOB NOT NULL)"]
        let writer = try SQLiteConnection(path: path)
        #expect(try writer.migrate(steps) == 1)
        try writer.execute("BEGIN IMMEDIATE; INSERT INTO record VALUES (x'01', x'02')")
        let other = try SQLiteConnection(path: path, options: .init(busyTimeoutMilliseconds: 50))
        #expect(try other.migrate(steps) == 0)
        try writer.execute("COMMIT")
    }

    @Test func readOnlyOpenRefusesWrites() throws {
        do {
            let db = try SQLiteConnection(path: path)
            try db.execute("CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (42)")
        }
        let reader = try SQLiteConnection(path: path, readOnly: true)
        let select = try reader.prepare("SELECT x FROM t")
        #expect(try select.step())
        #expect(select.int64(at: 0) == 42)
        do {
            try reader.execute("INSERT INTO t VALUES (1)")
            Issue.record("write on a read-only connection succeeded")
        } catch let error as SQLiteError {
            #expect(error.isReadOnly)
        }
        #expect(throws: SQLiteError.self) {
            try SQLiteConnection(path: directory.file("missing.sqlite"), readOnly: true)
        }
        #expect(throws: SQLiteError.self) {
            try SQLiteConnection(path: directory.file("missing.sqlite"), readOnly: false, create: false)
        }
    }

    @Test func fullDatabaseRaisesDiskFullAndStaysUsable() throws {
        let db = try SQLiteConnection(path: path)
        try db.execute("CREATE TABLE blob(id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
        let insert = try db.cachedStatement("INSERT INTO blob(data) VALUES (?)")
        let chunk = [UInt8](repeating: 0xAB, count: 4096)
        try db.transaction {
            for _ in 0..<10 {
                try insert.bind(chunk, at: 1)
                try insert.run()
            }
        }
        let pages = try db.prepare("PRAGMA page_count")
        #expect(try pages.step())
        let pageCount = pages.int64(at: 0)
        try db.execute("PRAGMA max_page_count = \(pageCount + 5)")

        var fullError: SQLiteError?
        do {
            try db.transaction {
                for _ in 0..<100 {
                    try insert.bind(chunk, at: 1)
                    try insert.run()
                }
            }
        } catch let error as SQLiteError {
            fullError = error
        }
        #expect(fullError?.isDiskFull == true)
        #expect(fullError?.resultCode == 13)  // SQLITE_FULL
        #expect(db.isAutocommit)
        #expect(try count(db, "blob") == 10)  // the failed transaction left nothing behind
        let check = try db.prepare("PRAGMA integrity_check")
        #expect(try check.step())
        #expect(check.string(at: 0) == "ok")

        try db.execute("PRAGMA max_page_count = 1000000")
        try insert.bind(chunk, at: 1)
        try insert.run()
        #expect(try count(db, "blob") == 11)
    }
}
