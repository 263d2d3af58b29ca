import AgriTraceCore
import ArgumentParser
import Crypto
import Foundation
import Ledger
import LedgerClient
import SQLiteStorage

func SQLiteConnectionSynchronous(_ name: String) -> SQLiteConnection.Options.Synchronous? {
    switch name.lowercased() {
    case "full": .full
    case "normal": .normal
    default: nil
    }
}

func openReadOnly(_ path: String) throws -> LedgerStore {
    guard FileManager.default.fileExists(atPath: path) else {
        throw UserError("no ledger store at \(path) (use --store)")
    }
    return try LedgerStore(path: path, readOnly: true)
}

struct Trace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Every record of a lot across stages in time order, with its public fields, commitments, block and leaf.")

    @Argument(help: "The lot id.") var lot: String
    @Flag(name: .long, help: "Follow input lots back to the origins.") var backward = false
    @Flag(name: .long, help: "Follow the lots made from this one (recall scope).") var forward = false
    @OptionGroup var options: StoreOptions

    func run() async throws {
        guard !(backward && forward) else { throw UserError("choose --backward or --forward, not both") }
        let direction: LedgerQueries.Direction = backward ? .backward : forward ? .forward : .none
        let rows: [TraceRow] = try await options.read(
            "/v1/trace/\(AccessLedger.escape(lot))", query: ["direction": direction.rawValue]
        ) { try options.queries().traceRows(lot: lot, direction: direction) }
        if try options.printedJSON(rows) { return }
        if rows.isEmpty {
            print("no records for lot \(lot)")
            return
        }
        print(
            Output.table(
                [
                    "time", "stage", "lot", "enterprise/device", "record", "block", "leaf", "public fields",
                    "commitments",
                ],
                rows.map { row in
                    [
                        row.time, row.stage, row.lot, "\(row.enterprise)/\(row.device)",
                        String(row.recordID.prefix(12)) + Self.correctionMark(row),
                        String(row.height), String(row.leafIndex),
                        row.publicFields.sorted { $0.key < $1.key }.map {
                            "\($0.key.split(separator: ".").last ?? "")=\($0.value)"
                        }.joined(separator: ", "),
                        row.commitments.keys.sorted().joined(separator: ","),
                    ]
                }))
        let lots = Set(rows.map(\.lot))
        print("\(rows.count) records in \(lots.count) lot(s)")
        for row in rows {
            guard let by = row.supersededBy else { continue }
            print("record \(row.recordID) is superseded by \(by): \(row.correctionReason ?? "")")
        }
    }

    /// `[superseded]` or `[correction]` after a record's id in the table.
    static func correctionMark(_ row: TraceRow) -> String {
        row.supersededBy != nil ? " [superseded]" : row.supersedes != nil ? " [correction]" : ""
    }
}

struct Proof: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The inclusion proof of a record against the latest signed tree head (save it with --output).")

    @Argument(help: "The record id (32 hex characters).") var recordID: String
    @Option(name: .long, help: "Prove against the tree head of this log size instead of the latest.") var treeSize:
        UInt64?
    @Option(name: .long, help: "Write the proof (JSON) to this file.") var output: String?
    @OptionGroup var options: StoreOptions

    func run() async throws {
        guard let id = RecordID(hex: recordID) else {
            throw UserError("\(recordID) is not a record id (32 hex characters)")
        }
        let proof: SavedInclusionProof = try await options.read(
            "/v1/proof/\(id.hex)", query: ["tree-size": treeSize.map(String.init)]
        ) { try options.queries().inclusionProof(of: id, treeSize: treeSize) }
        if try options.printedJSON(proof, savingTo: output) { return }
        print(
            "record \(proof.recordID) is leaf \(proof.leafIndex) of the log of size \(proof.treeHead.logSize) (block \(proof.treeHead.height), root \(proof.treeHead.logRoot))"
        )
        print("audit path: \(proof.proof.count) hashes")
        if let output {
            print(
                "saved to \(output); check it offline with `agritrace verify-proof \(output) --authority <public key>`")
        }
    }
}

struct VerifyProof: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-proof",
        abstract: "Check a saved inclusion proof offline: tree-head signature, record, audit path.")

    @Argument(help: "The proof file written by `agritrace proof --output`.") var proofFile: String
    @Option(name: .long, help: "The authority public key (hex, or a file holding it).") var authority: String
    @Option(name: .long, help: "A saved tree head the proof must be against (from `agritrace tree-head --output`).")
    var treeHead: String?
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() throws {
        let key = try Keys.readPublicKey(authority)
        let proof = try JSONFile.read(SavedInclusionProof.self, from: proofFile, holding: "a saved proof")
        try proof.treeHead.checkReadableFields(named: "treeHead", in: "INVALID proof")
        var trusted: SavedTreeHead?
        if let treeHead {
            trusted = try JSONFile.read(SavedTreeHead.self, from: treeHead, holding: "a saved tree head")
            try trusted?.checkReadableFields(named: treeHead, in: "INVALID tree head")
        }
        struct Answer: Encodable {
            var valid: Bool
            var recordID: String
            var leafIndex: UInt64
            var logSize: UInt64
            var height: UInt64
            var error: String?
        }
        do {
            let (record, header) = try proof.verify(authority: key, trustedTreeHead: trusted)
            if json {
                print(
                    try Output.json(
                        Answer(
                            valid: true, recordID: record.id.hex, leafIndex: proof.leafIndex, logSize: header.logSize,
                            height: header.height)))
            } else {
                print(
                    "valid: record \(record.id) (lot \(record.lot), \(record.stage.rawValue)) is leaf \(proof.leafIndex) of the log of size \(header.logSize) signed in block \(header.height)"
                )
            }
        } catch {
            if json {
                print(
                    try Output.json(
                        Answer(
                            valid: false, recordID: proof.recordID, leafIndex: proof.leafIndex,
                            logSize: proof.treeHead.logSize, height: proof.treeHead.height, error: "\(error)")))
            }
            throw UserError("INVALID proof: \(error)")
        }
    }
}

struct TreeHead: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tree-head",
        abstract: "The latest signed tree head (block header), to save and check proofs against later.")

    @Option(name: .long, help: "The tree head of this log size instead of the latest.") var treeSize: UInt64?
    @Option(name: .long, help: "Write it (JSON) to this file.") var output: String?
    @OptionGroup var options: StoreOptions

    func run() async throws {
        let head: SavedTreeHead = try await options.read(
            "/v1/tree-head", query: ["tree-size": treeSize.map(String.init)]
        ) { SavedTreeHead(try options.queries().treeHead(size: treeSize)) }
        if try options.printedJSON(head, savingTo: output) { return }
        print(
            "block \(head.height): log size \(head.logSize), root \(head.logRoot), signed \(head.time)\(output.map { "; saved to \($0)" } ?? "")"
        )
    }
}

struct Consistency: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "The consistency proof that the log of <old> leaves is a prefix of the log of <new> leaves (default: latest), both roots checked against tree heads signed by the authority."
    )

    @Argument(help: "The older log size (a block end: a size `agritrace tree-head` shows).") var old: UInt64
    @Argument(help: "The newer log size (default: the latest).") var new: UInt64?
    @Option(
        name: .long,
        help:
            "The authority public key (hex, or a file holding it) the tree heads must be signed with; required with --api (default with --store: the one recorded in the store)."
    )
    var authority: String?
    @OptionGroup var options: StoreOptions
    @OptionGroup var trust: TrustedHeadOptions

    func run() async throws {
        let answer: ConsistencyAnswer
        let heads: (old: BlockHeader, new: BlockHeader)
        if let api = options.api {
            guard let authority else {
                throw UserError(
                    "with --api, give --authority <public key>: the server's roots are only believed when tree heads signed by that key carry them"
                )
            }
            let key = try Keys.readPublicKey(authority)
            answer = try await APIClient.get(
                api, "/v1/consistency", query: ["old": String(old), "new": new.map(String.init)])
            let newHead = try await SavedTreeHead.fetchVerified(from: api, size: answer.newSize, key: key)
            heads = (
                try await SavedTreeHead.fetchVerified(from: api, size: answer.oldSize, key: key).value, newHead.value
            )
            try answer.check(old: old, new: new, against: heads)
            // The server's newest head must be consistent with the one this client accepted before.
            try await trust.acceptedHead(of: key).accept(newHead, api: api)
        } else {
            let store = try openReadOnly(options.store)
            guard let key = try authority.map(Keys.readPublicKey) ?? store.authorityKey() else {
                throw UserError("the store records no authority key; pass --authority")
            }
            let queries = LedgerQueries(store: store)
            answer = try queries.consistency(oldSize: old, newSize: new)
            heads = (
                try SavedTreeHead(try queries.treeHead(size: answer.oldSize)).verifiedHeader(key: key),
                try SavedTreeHead(try queries.treeHead(size: answer.newSize)).verifiedHeader(key: key)
            )
            try answer.check(old: old, new: new, against: heads)
        }
        if try options.printedJSON(answer) { return }
        print(
            "log \(answer.oldSize) (root \(answer.oldRoot), signed in block \(heads.old.height)) is a prefix of log \(answer.newSize) (root \(answer.newRoot), signed in block \(heads.new.height)): proof of \(answer.proof.count) hashes verified"
        )
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute the whole chain and log from the store; name the first bad block, leaf or tree node.")

    @Option(
        name: .long, help: "The authority public key to check headers with (default: the one recorded in the store).")
    var authority: String?
    @Flag(name: .long, help: "Also re-check the devices' batch signatures over the records in the log.")
    var signatures = false
    @OptionGroup var options: StoreOptions

    func run() throws {
        let store = try options.localStore(for: "verify")
        let key: Curve25519PublicKey
        if let authority {
            key = try Keys.readPublicKey(authority)
        } else {
            guard let stored = try store.authorityKey() else {
                throw UserError("the store has no authority key yet (no block written)")
            }
            key = stored
            if !options.json {
                Output.standardError(
                    "checking against the authority key recorded in the store (\(stored.hex)); pass --authority to use your own copy"
                )
            }
        }
        let start = ContinuousClock.now
        let report = try LedgerVerifier.verify(store: store, authority: key) { done, total in
            Output.standardError("verified \(done)/\(total) blocks")
        }
        try show(
            report,
            passed: report.ok
                ? "OK: \(report.blocks) blocks, \(report.leaves) leaves, log root \(report.logRoot) (\(start.duration(to: .now)))"
                : nil)
        if signatures {
            let signatureReport = try LedgerVerifier.verifyBatchSignatures(store: store)
            try show(
                signatureReport,
                passed: signatureReport.ok
                    ? "OK: \(signatureReport.batches) device batch signatures verify over \(signatureReport.recordsSigned) of \(signatureReport.records) records (the others came in batches with refused records)"
                    : nil)
        }
    }

    /// Prints a check's report (JSON with --json, else the `passed` line when it passed) and
    /// exits with status 1 on its `fault`, named unless --json.
    func show(_ report: some VerificationOutcome, passed: String?) throws {
        if try !options.printedJSON(report), let passed { print(passed) }
        if let fault = report.fault {
            if !options.json { print("FAILED: \(fault)") }
            throw ExitCode(1)
        }
    }
}

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild the world state from the log by running the contracts, and check it equals the stored state."
    )

    @Option(name: .long, help: "The authority public key (default: the one recorded in the store).") var authority:
        String?
    @Flag(
        name: .long,
        help:
            "Print instead the state root after every block (docs/consortium.md), recomputed from the log alone in a fresh state."
    )
    var stateRoots = false
    @OptionGroup var options: StoreOptions

    func run() throws {
        let store = try options.localStore(for: "replay")
        // Replay admits registry transactions: under a consortium node's registry authority.
        guard let key = try authority.map(Keys.readPublicKey) ?? store.registryAuthorityKey() else {
            throw UserError("the store has no authority key yet")
        }
        if stateRoots { return try printStateRoots(store: store, authority: key) }
        let report = try StateReplay.replay(store: store, authority: key)
        if options.json {
            print(try Output.json(report))
        } else if report.ok {
            print(
                "OK: \(report.transactions) transactions replayed; state equal (\(report.rows.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))"
            )
        } else {
            print("FAILED: the stored state differs from the state rebuilt from the log:")
            report.differences.forEach { print("  \($0)") }
        }
        if !report.ok { throw ExitCode(1) }
    }

    /// `--state-roots`: every block's height and state root, as a table or JSON.
    func printStateRoots(store: LedgerStore, authority: Curve25519.Signing.PublicKey) throws {
        struct BlockRoot: Encodable {
            var height: UInt64
            var stateRoot: String
        }
        let roots = try StateReplay.stateRoots(from: store, authority: authority).map {
            BlockRoot(height: $0.height, stateRoot: $0.root.hex)
        }
        if options.json { return print(try Output.json(roots)) }
        print(Output.table(["height", "state root"], roots.map { [String($0.height), $0.stateRoot] }))
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Height, log size, ingest rate, devices, rejections.")
    @OptionGroup var options: StoreOptions

    func run() async throws {
        let status: LedgerStatus = try await options.read("/v1/status") { try options.queries().status() }
        if try options.printedJSON(status) { return }
        print(
            Output.table(
                ["ledger", ""],
                [
                    ["height", String(status.height)],
                    ["log size", String(status.logSize)],
                    ["log root", status.logRoot ?? "-"],
                    ["last block", status.lastBlockTime ?? "-"],
                    ["records", String(status.records)],
                    [
                        "ingest rate",
                        String(format: "%.0f transactions/s (last minute of blocks)", status.ingestRatePerSecond),
                    ],
                    ["enterprises", String(status.enterprises)],
                    ["devices", "\(status.devicesActive) active, \(status.devicesRevoked) revoked"],
                    ["pending registry submissions", String(status.pendingSubmissions)],
                ] + status.counters.sorted { $0.key < $1.key }.map { [$0.key, String($0.value)] }
                    + consortiumRows()))
    }

    /// A consortium node's applied and final heights and its divergence alarm (`--store` only).
    func consortiumRows() -> [[String]] {
        // A store from before the consortium migration has no standing to show.
        guard options.api == nil, let standing = try? options.localStore(for: "status").consortiumStanding() else {
            return []
        }
        let alarm =
            standing.divergedAt.map {
                "ALARM: diverged from the consortium's final checkpoint at height \($0); reads are not authoritative"
            } ?? "none"
        return [
            ["consortium applied height", String(standing.applied)],
            ["consortium final height", String(standing.final)], ["consortium divergence", alarm],
        ]
    }
}

struct Records: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Records by enterprise, stage, product and time window, in time order (from the record index).")

    @Option(name: .long, help: "Only this enterprise's records.") var enterprise: String?
    @Option(name: .long, help: "Only records of this stage.") var stage: String?
    @Option(name: .long, help: "Only records of this product.") var product: String?
    @Option(name: .long, help: "Record time at or after this RFC 3339 time.") var since: String?
    @Option(name: .long, help: "Record time before this RFC 3339 time.") var until: String?
    @Option(name: .long, help: "At most this many records, the earliest first.") var limit: Int = 1000
    @OptionGroup var options: StoreOptions

    func run() async throws {
        let filter = LedgerQueries.RecordFilter(
            enterprise: enterprise, stage: try OptionValue.stage(stage), product: product,
            since: try OptionValue.time(since, "since"), until: try OptionValue.time(until, "until"), limit: limit)
        guard limit >= 1 else { throw UserError("--limit \(limit) must be at least 1") }
        let rows: [TraceRow]
        if let api = options.api {
            rows = try await pages(api)
        } else {
            rows = try options.queries().records(filter).map(TraceRow.init)
        }
        if try options.printedJSON(rows) { return }
        print(
            Output.table(
                ["time", "stage", "lot", "product", "enterprise/device", "record", "block", "leaf"],
                rows.map {
                    [
                        $0.time, $0.stage, $0.lot, $0.product, "\($0.enterprise)/\($0.device)",
                        String($0.recordID.prefix(12)), String($0.height), String($0.leafIndex),
                    ]
                }))
        print("\(rows.count) records\(rows.count == limit ? " (the first \(limit); raise --limit for more)" : "")")
    }

    /// Up to `limit` rows from the API, a capped page at a time, each page after the last
    /// row of the one before (`cursor=<time ms>-<leaf index>`, docs/api/openapi.yaml).
    func pages(_ api: String) async throws -> [TraceRow] {
        var rows: [TraceRow] = []
        var cursor: String?
        while rows.count < limit {
            let page = min(limit - rows.count, 1000)
            let found: [TraceRow] = try await APIClient.get(
                api, "/v1/records",
                query: [
                    "enterprise": enterprise, "stage": stage, "product": product, "since": since, "until": until,
                    "limit": String(page), "cursor": cursor,
                ])
            rows += found
            guard found.count == page, let last = found.last, let time = Timestamp(iso8601: last.time) else { break }
            cursor = "\(time.milliseconds)-\(last.leafIndex)"
        }
        return rows
    }
}
