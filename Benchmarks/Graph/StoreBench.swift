import AgriTraceCore
import Foundation
import Ledger
import SQLiteStorage
import SharingGraph
import SharingGraphLedger

/// The graph on a ledger store with a million edges. The rows of the contracts' tables
/// (requests, results, transfers, reads, their audit events and log entries) are written
/// directly with SQL, not through the contracts (a million signed access transactions would
/// take hours of pairing arithmetic); the loader reads them as it reads a real store.
struct StoreFiller {
    let store: LedgerStore
    var random = ScenarioRandom(seed: 11)
    var leaf: Int64 = 0
    var request = 0
    let requesters = 2_000
    let owners = 500
    let lots = 50_000
    let start: Int64 = 1_767_225_600_000  // 2026-01-01
    /// Milliseconds between requests: 250,000 requests span about a year.
    let step: Int64 = 120_000

    init(path: String) throws {
        store = try LedgerStore(path: path, synchronous: .off)
    }

    mutating func setUp() throws {
        try store.db.transaction {
            let principal = try store.db.prepare(
                "INSERT INTO principals(name, kind, enterprise, role, stage, public_key, status, registered_height) VALUES (?, 'firm', ?, ?, NULL, x'00', 'active', 0)"
            )
            for index in 0..<(requesters + owners) {
                let owner = index >= requesters
                try principal.bind(
                    owner ? "Firm/o\(index - requesters)@F\(index - requesters)" : "Firm/r\(index)@E\(index)", at: 1)
                try principal.bind(owner ? "F\(index - requesters)" : "E\(index / 4)", at: 2)
                try principal.bind(owner ? "farm-administrator" : "processing-administrator", at: 3)
                try principal.run()
                principal.reset()
            }
            for lot in 0..<lots { try addLot(lot) }
        }
    }

    mutating func nextLeaf(kind: Int64) throws -> Int64 {
        leaf += 1
        let entry = try store.db.cachedStatement(
            "INSERT INTO log_entries(leaf_index, height, kind, entry, leaf_hash) VALUES (?, ?, ?, x'00', x'00')")
        try entry.bind(leaf, at: 1)
        try entry.bind(leaf / 1000, at: 2)
        try entry.bind(kind, at: 3)
        try entry.run()
        entry.reset()
        return leaf
    }

    /// The owner of a lot: every fourth lot belongs to a requester (a processor's own lot), so
    /// data also moves from requester to requester and paths have several hops.
    func ownerName(_ lot: Int) -> String {
        if lot % 4 == 0 {
            let requester = (lot / 4) % requesters
            return "Firm/r\(requester)@E\(requester)"
        }
        return "Firm/o\(lot % owners)@F\(lot % owners)"
    }

    /// A lot: its entry (``ownerName(_:)``), its record, and its input lots: lot i is made
    /// from lot i - 500, and every tenth also from lot i - 499.
    mutating func addLot(_ lot: Int) throws {
        let recordLeaf = try nextLeaf(kind: 0)
        try run(
            "INSERT INTO records(leaf_index, record_id, height, lot, product, stage, enterprise, device, time) VALUES (?, ?, 0, ?, 'corn', 'planting', ?, 'box', ?)",
            [
                .integer(recordLeaf), .blob(Array("record-\(lot)".utf8)), .text("L\(lot)"), .text("F\(lot % owners)"),
                .integer(start),
            ])
        for input in lot >= 500 ? (lot % 10 == 0 ? [lot - 500, lot - 499] : [lot - 500]) : [] {
            try run(
                "INSERT INTO lot_links(lot, input_lot, leaf_index) VALUES (?, ?, ?)",
                [.text("L\(lot)"), .text("L\(input)"), .integer(recordLeaf)])
        }
        let entryLeaf = try nextLeaf(kind: 3)
        try run(
            "INSERT INTO encrypted_data(data_id, owner, enterprise, lot, level, time_window, actions, ciphertext, token_digest, status, leaf_index) VALUES (?, ?, ?, ?, 'level-2', NULL, 'read', x'00', x'00', 'active', ?)",
            [
                .text("d\(lot)"), .text(ownerName(lot)), .text("F\(lot % owners)"),
                .text("L\(lot)"), .integer(entryLeaf),
            ])
    }

    func run(_ sql: String, _ values: [SQLiteValue]) throws {
        let statement = try store.db.cachedStatement(sql)
        for (index, value) in values.enumerated() { try statement.bind(value, at: Int32(index + 1)) }
        try statement.run()
        statement.reset()
    }

    /// One granted request with its result, transfer and read: four edges, four leaves.
    mutating func addRequest() throws {
        request += 1
        // A few heavy requesters and popular lots (squared uniform skews toward small numbers).
        let requester = Int(Double(requesters) * pow(random.double(0..<1), 2))
        let lot = Int(Double(lots) * pow(random.double(0..<1), 1.5))
        let time = start + Int64(request) * step
        let id = "q\(request)"
        let name = "Firm/r\(requester)@E\(requester)"
        let owner = ownerName(lot)
        let requestLeaf = try nextLeaf(kind: 5)
        let resultLeaf = try nextLeaf(kind: 5)
        try run(
            "INSERT INTO access_requests(request_id, requester, lot, level, action, source, trapdoor, status, data_id, request_leaf, request_time, result_leaf, result_time) VALUES (?, ?, ?, 'level-2', 'read', ?, x'00', 'granted', ?, ?, ?, ?, ?)",
            [
                .text(id), .text(name), .text("L\(lot)"), .text("10.0.\(requester % 250).1"), .text("d\(lot)"),
                .integer(requestLeaf), .integer(time), .integer(resultLeaf), .integer(time + 60_000),
            ])
        for (eventLeaf, method) in [(requestLeaf, "addTrapdoor"), (resultLeaf, "addResult")] {
            try run(
                "INSERT INTO access_events(leaf_index, height, time, submitter, method, subject, outcome, detail) VALUES (?, 0, ?, ?, ?, ?, 'applied', '')",
                [.integer(eventLeaf), .integer(time), .text(name), .text(method), .text(id)])
        }
        let transferLeaf = try nextLeaf(kind: 5)
        try run(
            "INSERT INTO transfers(leaf_index, request_id, redeem_leaf, sender, receiver, lot, level, record_count, blob_digest, source, status, purpose, reason, outcome, time) VALUES (?, ?, 0, ?, ?, ?, 'level-2', ?, x'00', ?, 'delivered', 'audit', '', 'applied', ?)",
            [
                .integer(transferLeaf), .text(id), .text(owner), .text(name), .text("L\(lot)"),
                .integer(Int64(10 + lot % 30)), .text("10.0.0.1"), .integer(time + 90_000),
            ])
        let readLeaf = try nextLeaf(kind: 5)
        try run(
            "INSERT INTO transfer_reads(leaf_index, request_id, reader, lot, level, transfer_leaf, record_count, fields, outcome, detail, time) VALUES (?, ?, ?, ?, 'level-2', ?, ?, '', 'verified', '', ?)",
            [
                .integer(readLeaf), .text(id), .text(name), .text("L\(lot)"), .integer(transferLeaf),
                .integer(Int64(10 + lot % 30)), .integer(time + 100_000),
            ])
    }
}
