import AccessFlow
import AgriTraceCore
import ArgumentParser
import Blobs
import Crypto
import Foundation
import Ledger
import LedgerClient

// The off-chain transfer of private data (docs/transfer.md): the owner's key and transfer
// service, the requester's fetch, grants and provenance.

enum TransferKeys {
    static func readPrivateKey(_ path: String) throws -> Curve25519.KeyAgreement.PrivateKey {
        let bytes = try SecretFile.read(path, what: "owner X25519 key")
        guard let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: bytes) else {
            throw UserError("\(path) does not hold a 32-byte X25519 private key in hex")
        }
        return key
    }

    /// The owner's token file (`owner-tokens.json`, mode 0600): each entry's access token in
    /// hex, by data id, written by `policy create` and read by the transfer service.
    static func readTokens(_ path: String) throws -> [String: [UInt8]] {
        guard let data = FileManager.default.contents(atPath: path),
            let saved = try? JSONDecoder().decode([String: String].self, from: data)
        else { throw UserError("cannot read the owner's token file \(path) (written by `agritrace policy create`)") }
        return saved.compactMapValues { [UInt8](hexString: $0) }
    }

    /// Writes the owner's token file (mode 0600), replacing it.
    static func writeTokens(_ tokens: [String: [UInt8]], to path: String) throws {
        try SecretFile.write(text: try Output.json(tokens.mapValues(\.hexString)), to: path)
    }
}

struct Transfer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The owner's side of the off-chain transfer: its X25519 key and the transfer service.",
        subcommands: [Keygen.self, Serve.self, Countersign.self])

    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Create the enterprise's X25519 key pair the agents wrap data keys to (put FILE.pub in the agents' [sharing] owner_key)."
        )
        @Option(name: .long, help: "Where to write the private key (hex, mode 0600); the public key goes to FILE.pub.")
        var output: String
        @Flag(
            name: .long, help: "Overwrite an existing key file (data wrapped to the old key can no longer be shared).")
        var force = false

        func run() throws {
            let key = Curve25519.KeyAgreement.PrivateKey()
            try SecretFile.writeKeyPair(
                privateKey: Array(key.rawRepresentation),
                publicKeyHex: Array(key.publicKey.rawRepresentation).hexString,
                to: output, force: force, orphaning: "keys wrapped to it would be orphaned")
            print("owner key written to \(output) (mode 0600); public key in \(output).pub:")
            print(Array(key.publicKey.rawRepresentation).hexString)
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "The owner's transfer service: answers redemptions of its entries by re-wrapping the data keys for the requester (addTransfer). On the server's store (--store), or from the owner's own machine (--api with --authority: every fact checked against signed tree heads). --follow keeps it running."
        )
        @Option(name: .long, help: "The enterprise's X25519 private key (`transfer keygen`).") var ownerKey: String
        @Option(name: .long, help: "The owner's token file from `policy create`.") var tokens: String =
            "owner-tokens.json"
        @Flag(name: .long, help: "Keep running, picking up new redemptions as they arrive.") var follow = false
        @Option(name: .long, help: "Seconds between polls with --follow.") var interval: Double = 0.2
        @Option(
            name: .long,
            help:
                "With --api: the aggregator's authority public key (hex or file); every leaf the service answers from is checked against a tree head it signed."
        )
        var authority: String?
        @OptionGroup var signer: PrincipalOptions

        func run() async throws {
            let owner = TransferOwner(
                principal: signer.principal, ownerKey: try TransferKeys.readPrivateKey(ownerKey),
                tokens: try TransferKeys.readTokens(tokens))
            if let api = signer.options.api {
                guard let authority else {
                    throw UserError(
                        "with --api, give --authority (the aggregator's public key): every redemption is checked against signed tree heads"
                    )
                }
                return try await serveRemotely(
                    RemoteTransferOwner(owner: owner, authority: try Keys.readPublicKey(authority)),
                    source: APITransferSource(api: api))
            }
            var answered: Set<UInt64> = []
            // One connection for the whole service: each poll's queries see the latest commits.
            let store = try LedgerStore(path: signer.options.store)
            repeat {
                var service = owner
                if let fresh = try? TransferKeys.readTokens(tokens) { service.tokens = fresh }
                for redemption in try LedgerQueries(store: store).openRedemptions(owner: signer.principal)
                where !answered.contains(redemption.leafIndex) {
                    answered.insert(redemption.leafIndex)
                    let operation = try service.answer(redemption, store: store)
                    // Not submitAndReport: a refusal (e.g. a revocation in between) must not stop the service.
                    report(
                        redemption.leafIndex, operation,
                        try Submitter.submit(try signer.sign(operation), options: signer.options, wait: signer.wait))
                }
                if follow { try await Task.sleep(for: .seconds(interval)) }
            } while follow
        }

        /// The service over the API: each open redemption's facts and the owner's keys from
        /// verified leaves, the decision here, the re-wrapped keys delivered signed
        /// (`POST /v1/transfers/keys`), then `addTransfer`. A redemption whose leaves do not
        /// verify is not answered (reported on standard error, not retried); one whose keys the
        /// API refuses (e.g. the grant was revoked meanwhile) is answered `refused` with the
        /// API's reason. With --follow, a poll that fails (the API unreachable) is tried again.
        func serveRemotely(_ remote: RemoteTransferOwner, source: APITransferSource) async throws {
            var cursor: UInt64?
            var service = remote
            repeat {
                if let fresh = try? TransferKeys.readTokens(tokens) { service.owner.tokens = fresh }
                do {
                    for open in try await source.openRedemptions(owner: signer.principal, after: cursor) {
                        try await answer(open, service: service, source: source)
                        cursor = max(cursor ?? 0, open.redeemLeaf)
                    }
                } catch  where follow {
                    Output.standardError("agritrace transfer serve: \(error) (trying again)")
                }
                if follow { try await Task.sleep(for: .seconds(interval)) }
            } while follow
        }

        func answer(_ open: OpenRedemptionLeaves, service: RemoteTransferOwner, source: APITransferSource)
            async throws
        {
            var decision: TransferDecision
            do {
                decision = try await service.answer(open, from: source)
            } catch let error as AccessFlowError {
                Output.standardError("agritrace transfer serve: redemption \(open.redeemLeaf) NOT ANSWERED: \(error)")
                return
            }
            // Read once per answer: it signs the key delivery and the transaction.
            let signingKey = try Keys.readPrivateKey(file: signer.key)
            if case .addTransfer(var transfer) = decision.operation, transfer.status == .delivered {
                let delivery = try Signed(
                    TransferKeyDelivery(owner: signer.principal, redeemLeaf: open.redeemLeaf, keys: decision.keys),
                    domain: .transferKeys, key: signingKey)
                let answer = try await APIClient.postForAnswer(
                    source.api, "/v1/transfers/keys", body: Data(Canonical.encode(delivery)))
                // 409: keys of an earlier run of this service are stored (the same data keys).
                if !(200..<300).contains(answer.status) && answer.status != 409 {
                    transfer.recordCount = 0
                    transfer.blobDigest = TransferRecord.digest(of: [])
                    transfer.status = .refused
                    transfer.reason =
                        "the aggregator refused the keys (\(answer.status)): \(String(decoding: answer.body.prefix(400), as: UTF8.self))"
                    decision.keys = []
                    decision.operation = .addTransfer(transfer)
                }
            }
            report(
                open.redeemLeaf, decision.operation,
                try await signer.ledger.submit(
                    Canonical.encode(try signer.sign(decision.operation, with: signingKey)), wait: signer.wait)
            )
        }

        func report(_ leaf: UInt64, _ operation: AccessTransaction.Operation, _ answer: Submitter.Answer) {
            guard !signer.options.json, case .addTransfer(let transfer) = operation else { return }
            // Written at once (not through print's buffer), so a service's log is current even
            // when it is stopped with a signal.
            FileHandle.standardOutput.write(
                Data(
                    ("redemption \(leaf) of request \(transfer.requestID) by \(transfer.receiver): \(transfer.status.rawValue) \(transfer.recordCount) records of \(transfer.lot) \(transfer.level.rawValue)"
                        + (transfer.reason.isEmpty ? "" : " (\(transfer.reason))")
                        + " → \(answer.outcome?.rawValue ?? answer.status.rawValue)\n").utf8))
        }
    }
}

/// The aggregator's API as the owner's remote transfer service reads it (nothing trusted:
/// ``RemoteTransferOwner`` verifies every leaf).
struct APITransferSource: TransferLedgerSource {
    let api: String

    func openRedemptions(owner: String, after: UInt64?) async throws -> [OpenRedemptionLeaves] {
        try await APIClient.get(api, "/v1/transfers/open", query: ["owner": owner, "after": after.map { String($0) }])
    }
    func leaf(_ index: UInt64) async throws -> SavedLeafProof {
        try await APIClient.get(api, "/v1/leaves/\(index)/entry")
    }
    func blobReferenceLeaves(lot: String, level: PrivacyLevel) async throws -> [UInt64] {
        struct Row: Decodable { var leafIndex: UInt64 }
        let rows: [Row] = try await APIClient.get(api, "/v1/blobs/owned", query: ["lot": lot, "level": level.rawValue])
        return rows.map(\.leafIndex)
    }
    func recordProof(_ id: RecordID) async throws -> SavedInclusionProof {
        try await APIClient.get(api, "/v1/proof/\(id.hex)")
    }
}

struct Fetch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Redeem a granted request, wait for the owner's transfer, and open and verify every value against the ledger."
    )
    @Argument(help: "The request id (from `agritrace request`).") var requestID: String
    @Option(name: .long, help: "The access token file (`request --token-out`).") var token: String
    @Option(name: .long, help: "What the data is for (recorded on the ledger).") var purpose: String = "traceability"
    @Option(name: .long, help: "Show only these fields (comma-separated catalog keys), each with its disclosure proof.")
    var fields: String?
    @Option(name: .long, help: "Write the verified values here as JSON (mode 0600).") var out: String?
    @Option(name: .long, help: "Seconds to wait for the owner's transfer.") var timeout: Double = 30
    @Option(name: .long, help: "The blob store (default: <store>.blobs).") var blobs: String?
    @Option(
        name: .long,
        help:
            "With --api: the aggregator's authority public key (hex or file); every record is checked against a signed tree head."
    )
    var authority: String?
    @Option(
        name: .long,
        help:
            "Where an unfinished fetch keeps its one-time key (mode 0600) so a re-run resumes the same redemption (default: $XDG_STATE_HOME/agritrace/fetch or ~/.local/state/agritrace/fetch)."
    )
    var state: String?
    @Flag(
        name: .long,
        help:
            "After every value verified, countersign the transfer (countersignTransfer): the receiver's signature that completes it."
    )
    var countersign = false
    @OptionGroup var signer: PrincipalOptions
    @OptionGroup var trust: TrustedHeadOptions

    func run() async throws {
        let token = try SecretFile.read(self.token, what: "access token")
        let selected = fields.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        if signer.options.api != nil, authority == nil {
            throw UserError(
                "with --api, give --authority (the aggregator's public key): records are checked against signed tree heads"
            )
        }
        let statePath = FetchState.path(folder: state, requestID: requestID)
        let (key, redeemLeaf) = try await redemption(token: token, statePath: statePath)
        let row = try await transfer(redeemLeaf: redeemLeaf, statePath: statePath)
        // The transfer answers the redemption: whatever the outcome, the key is not needed again.
        defer { FetchState.remove(statePath) }
        // The values go to a temporary file (mode 0600) as they are opened; only once every
        // check passed is it renamed to --out (or copied to standard output with --json).
        let temporary =
            ((out.map { ($0 as NSString).deletingLastPathComponent } ?? NSTemporaryDirectory()) as NSString)
            .appendingPathComponent(".agritrace-fetch-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).partial")
        defer { unlink(temporary) }
        var sink = try FetchedValuesWriter(
            path: out != nil || signer.options.json ? temporary : nil, selected: selected)
        let fetched = try await verifiedValues(row, key: key, selected: selected, into: &sink)
        let verified = readRecord(row, recordCount: fetched.count, selected: selected, outcome: .verified)
        let read = try await signer.ledger.submit(
            Canonical.encode(try signer.sign(.recordRead(verified))), wait: signer.wait)
        if countersign { try await countersign(row, recordCount: fetched.count) }
        if try deliver(temporary) { return }
        report(row, fetched: fetched, shown: sink.shown, selected: selected, read: read)
    }

    /// `--countersign`: the receiver's countersignature of what it received and verified (the
    /// fetch checked that the blobs have the digest the transfer names).
    func countersign(_ row: TransferRow, recordCount: Int) async throws {
        guard let digest = Digest32(hex: row.blobDigest) else {
            throw UserError("the transfer at leaf \(row.leafIndex) has a malformed blob digest")
        }
        let signed = TransferCountersignature(
            requestID: row.requestID, transferLeaf: row.leafIndex, receivedDigest: digest,
            recordCount: UInt32(clamping: recordCount))
        let answer = try await signer.ledger.submit(
            Canonical.encode(try signer.sign(.countersignTransfer(signed))), wait: signer.wait)
        if !signer.options.json {
            FileHandle.standardError.write(
                Data(
                    "countersigned the transfer at leaf \(row.leafIndex): \(answer.outcome?.rawValue ?? answer.status.rawValue) \(answer.detail ?? answer.reason ?? "")\n"
                        .utf8))
        }
    }

    /// The redemption's one-time key and leaf: resumed from the state file of an unfinished
    /// fetch, or a new redemption submitted (its key saved first, so an interruption at any
    /// point leaves it on disk).
    func redemption(token: [UInt8], statePath: String) async throws -> (
        key: Curve25519.KeyAgreement.PrivateKey, leaf: UInt64
    ) {
        let saved = try FetchState.load(statePath)
        if let saved, saved.principal != signer.principal {
            throw UserError(
                "\(statePath) holds an unfinished fetch of \(saved.principal), not \(signer.principal): give another --state"
            )
        }
        if let resumed = saved, let leaf = resumed.redeemLeaf {
            if !signer.options.json {
                print("resuming redemption leaf \(leaf) of request \(requestID) (its key kept in \(statePath))")
            }
            return (try resumed.privateKey(statePath), leaf)
        }
        let key = try saved?.privateKey(statePath) ?? Curve25519.KeyAgreement.PrivateKey()
        var fresh = FetchState(
            requestID: requestID, principal: signer.principal, key: Array(key.rawRepresentation).hexString)
        try fresh.save(statePath)
        let (operation, _) = TransferRequester.redeem(requestID: requestID, token: token, purpose: purpose, key: key)
        let redeemed = try await signer.ledger.submit(Canonical.encode(try signer.sign(operation)), wait: signer.wait)
        guard redeemed.status == .applied, redeemed.outcome == .accepted, let leaf = redeemed.leafIndex else {
            FetchState.remove(statePath)
            throw UserError("redemption refused: \(redeemed.detail ?? redeemed.reason ?? redeemed.status.rawValue)")
        }
        fresh.redeemLeaf = leaf
        try fresh.save(statePath)
        if !signer.options.json {
            print("redeemed request \(requestID) (leaf \(leaf)); waiting for the owner's transfer")
        }
        return (key, leaf)
    }

    /// Waits up to --timeout for the owner's transfer answering `redeemLeaf`.
    func transfer(redeemLeaf: UInt64, statePath: String) async throws -> TransferRow {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let transfer: TransferRow? =
                if let api = signer.options.api {
                    try? await APIClient.get(api, "/v1/transfers", query: ["redeem-leaf": String(redeemLeaf)])
                } else {
                    try signer.queries().transfer(redeemLeaf: redeemLeaf)
                }
            if let transfer { return transfer }
            guard Date() < deadline else {
                throw UserError(
                    "no transfer from the owner within \(Int(timeout)) s (is `agritrace transfer serve` running?); run fetch again to resume redemption leaf \(redeemLeaf) (its key is kept in \(statePath))"
                )
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Opens and verifies every value of the transfer into `sink`; on a mismatch, records the
    /// failed read on the ledger and exits with status 1.
    func verifiedValues(
        _ row: TransferRow, key: Curve25519.KeyAgreement.PrivateKey, selected: [String]?,
        into sink: inout FetchedValuesWriter
    ) async throws -> [StreamedRecord] {
        var downloads: String?
        defer { if let downloads { try? FileManager.default.removeItem(atPath: downloads) } }
        do {
            let material: any TransferMaterial
            if let api = signer.options.api, let authority {
                let folder = NSTemporaryDirectory() + "agritrace-fetch-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
                downloads = folder
                let key = try Keys.readPublicKey(authority)
                material = try await Self.download(
                    row, api: api, authority: key, accepting: trust.acceptedHead(of: key), into: folder)
            } else {
                material = StoreTransferMaterial(
                    queries: try signer.queries(),
                    blobs: BlobStore(directory: blobs ?? signer.options.store + ".blobs"))
            }
            let fetched = try TransferRequester.fetch(
                transfer: row, key: key, material: material, fields: selected, into: &sink)
            try sink.finish()
            return fetched
        } catch {
            let mismatch = readRecord(
                row, recordCount: row.recordCount, selected: selected, outcome: .mismatch,
                detail: String("\(error)".prefix(900)))
            _ = try? await signer.submit(.recordRead(mismatch), quiet: true)
            Output.standardError("agritrace fetch: VERIFICATION FAILED: \(error)")
            throw ExitCode(1)
        }
    }

    /// The read of the transfer (`verified` or `mismatch`) to put on the ledger.
    func readRecord(
        _ row: TransferRow, recordCount: Int, selected: [String]?, outcome: ReadOutcome, detail: String = ""
    )
        -> ReadRecord
    {
        ReadRecord(
            requestID: requestID, transferLeaf: row.leafIndex, recordCount: UInt32(recordCount),
            fields: selected ?? [], outcome: outcome.rawValue, detail: detail)
    }

    /// Moves the verified values from `temporary` to --out, and with --json copies them to
    /// standard output; true when nothing is left to print.
    func deliver(_ temporary: String) throws -> Bool {
        if let out {
            guard rename(temporary, out) == 0 else { throw UserError("cannot write \(out): errno \(errno)") }
            if signer.options.json { try FetchedValuesWriter.copy(out, to: FileHandle.standardOutput) }
        } else if signer.options.json {
            try FetchedValuesWriter.copy(temporary, to: FileHandle.standardOutput)
        }
        return signer.options.json
    }

    /// The human summary: the transfer, each record with the values shown, and the read's leaf.
    func report(
        _ row: TransferRow, fetched: [StreamedRecord], shown: [[(String, String)]], selected: [String]?,
        read: Submitter.Answer
    ) {
        print(
            "transfer leaf \(row.leafIndex): \(row.recordCount) records of \(row.lot) \(row.level) from \(row.sender), purpose \(row.purpose)"
        )
        for (item, shown) in zip(fetched, shown) {
            print(
                "record \(item.record.id.hex) (\(item.record.stage.rawValue), \(item.verified.level.rawValue), blob \(item.verified.blobID.hex.prefix(16))…)"
            )
            for (name, text) in shown {
                print("  \(name) = \(text)" + (selected == nil ? "" : "  [disclosure proof verified]"))
            }
        }
        print(
            "verified: every value of \(fetched.count) records matches its commitment on the ledger, every blob its hash; read recorded at leaf \(read.leafIndex.map(String.init) ?? "?")"
                + (out.map { "; written to \($0)" } ?? ""))
    }
}

/// The one-time redemption key of an unfinished fetch, kept so that a re-run resumes the same
/// redemption instead of making a new one: `<folder>/<request id>.json`, mode 0600 in a 0700
/// folder, written before the redemption is submitted and removed once the owner's transfer
/// answers it (verified, mismatch or refused) or the redemption is refused.
struct FetchState: Codable {
    var requestID: String
    var principal: String
    /// The ephemeral X25519 private key, hex.
    var key: String
    var redeemLeaf: UInt64?

    static func path(folder: String?, requestID: String) -> String {
        let environment = ProcessInfo.processInfo.environment
        let base =
            folder
            ?? ((environment["XDG_STATE_HOME"] ?? ((environment["HOME"] ?? ".") + "/.local/state")) + "/agritrace/fetch")
        let name = String(requestID.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
        return base + "/" + name + ".json"
    }

    static func load(_ path: String) throws -> FetchState? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path),
            let state = try? JSONDecoder().decode(FetchState.self, from: data)
        else { throw UserError("\(path) is not a fetch state file: remove it to start a new redemption") }
        return state
    }

    func privateKey(_ path: String) throws -> Curve25519.KeyAgreement.PrivateKey {
        guard let bytes = [UInt8](hexString: key),
            let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: bytes)
        else { throw UserError("\(path) does not hold an X25519 key: remove it to start a new redemption") }
        return key
    }

    /// Writes the file (0600, through a temporary file renamed into place).
    func save(_ path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw UserError("cannot create the fetch state folder \(folder): \(error)")
        }
        let temporary = path + ".tmp-\(getpid())"
        guard
            FileManager.default.createFile(
                atPath: temporary, contents: try JSONEncoder().encode(self), attributes: [.posixPermissions: 0o600]),
            rename(temporary, path) == 0
        else {
            unlink(temporary)
            throw UserError("cannot write the fetch state \(path)")
        }
    }

    static func remove(_ path: String) { unlink(path) }
}

/// Writes a fetch's values as JSON (the array of ``Fetch`` values: record, lot, stage, level,
/// blob, fields, disclosed) as they are opened, long values in chunks, so no value is held
/// whole; and keeps the short values for the terminal.
struct FetchedValuesWriter: FetchSink {
    let handle: FileHandle?
    let selected: [String]?
    var buffer: [UInt8] = []
    var records = 0
    var fieldsInRecord = 0
    var showing = false
    /// Per record, the values shown on the terminal (long text as its size).
    var shown: [[(String, String)]] = []

    init(path: String?, selected: [String]?) throws {
        self.selected = selected
        if let path {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
                let handle = FileHandle(forWritingAtPath: path)
            else { throw UserError("cannot write \(path)") }
            self.handle = handle
        } else {
            handle = nil
        }
        emit("[")
    }

    mutating func emit(_ text: String) {
        guard handle != nil else { return }
        buffer += text.utf8
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        guard let handle, !buffer.isEmpty else { return }
        handle.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }

    mutating func emitString(_ text: String) {
        guard handle != nil else { return }
        buffer.append(UInt8(ascii: "\""))
        Self.escape(text, into: &buffer)
        buffer.append(UInt8(ascii: "\""))
        if buffer.count >= 1 << 16 { flush() }
    }

    static func escape(_ text: String, into buffer: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): buffer += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): buffer += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"): buffer += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): buffer += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): buffer += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20: buffer += Array(String(format: "\\u%04x", byte).utf8)
            default: buffer.append(byte)
            }
        }
    }

    func wanted(_ key: String) -> Bool { selected.map { $0.contains(key) } ?? true }

    mutating func beginRecord(_ record: Record, level: PrivacyLevel, blobID: Digest32) throws {
        emit(records == 0 ? "\n  {\n" : ",\n  {\n")
        for (name, value) in [
            ("record", record.id.hex), ("lot", record.lot), ("stage", record.stage.rawValue), ("level", level.rawValue),
            ("blob", blobID.hex),
        ] {
            emit("    \"\(name)\": ")
            emitString(value)
            emit(",\n")
        }
        emit("    \"fields\": {")
        records += 1
        fieldsInRecord = 0
        shown.append([])
    }

    mutating func beginField(_ key: String) {
        emit(fieldsInRecord == 0 ? "\n      " : ",\n      ")
        emitString(key)
        emit(": ")
        fieldsInRecord += 1
    }

    mutating func field(_ key: String, display: String) throws {
        guard wanted(key) else { return }
        beginField(key)
        emitString(display)
        shown[shown.count - 1].append((key, display))
    }

    mutating func beginText(_ key: String, byteCount: Int) throws {
        showing = wanted(key)
        guard showing else { return }
        beginField(key)
        emit("\"")
        shown[shown.count - 1].append(
            (key, "<\(byteCount) bytes of text" + (handle == nil ? "; --out FILE writes it>" : ">")))
    }

    mutating func text(_ chunk: String) throws {
        guard showing, handle != nil else { return }
        Self.escape(chunk, into: &buffer)
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func endText() throws {
        guard showing else { return }
        emit("\"")
        showing = false
    }

    mutating func endRecord(_ verified: StreamedFields) throws {
        emit(fieldsInRecord == 0 ? "}" : "\n    }")
        if selected != nil {
            emit(",\n    \"disclosed\": [")
            for (index, name) in verified.disclosed.enumerated() {
                if index > 0 { emit(", ") }
                emitString(name)
            }
            emit("]")
        }
        emit("\n  }")
    }

    mutating func finish() throws {
        emit(records == 0 ? "]\n" : "\n]\n")
        flush()
        if let handle {
            try handle.synchronize()
            try handle.close()
        }
    }

    /// Copies a file to `destination` a piece at a time.
    static func copy(_ path: String, to destination: FileHandle) throws {
        guard let source = FileHandle(forReadingAtPath: path) else { throw UserError("cannot read \(path)") }
        defer { try? source.close() }
        while let piece = try source.read(upToCount: 1 << 16), !piece.isEmpty { destination.write(piece) }
    }
}

extension Fetch {
    /// Downloads a transfer's material from the API. Each record comes with its inclusion proof
    /// and is accepted only if the proof verifies against a tree head signed by `authority`;
    /// each blob is downloaded in pieces to a file in `folder` (its hash is checked by the fetch
    /// against the record's blob reference); keys and blobs are then checked against those
    /// records by the fetch itself.
    static func download(
        _ transfer: TransferRow, api: String, authority: Curve25519PublicKey, accepting accepted: AcceptedTreeHead,
        into folder: String
    ) async throws -> FetchedTransferMaterial {
        struct Keys: Decodable { var keys: [String] }
        struct Reference: Decodable { var blobID: String }
        try FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let listed: Keys = try await APIClient.get(
            api, "/v1/transfers/keys", query: ["redeem-leaf": String(transfer.redeemLeaf)])
        var material = FetchedTransferMaterial(keys: [], records: [:], blobIDs: [:], blobs: [:])
        var checkedHeads: Set<String> = []
        for hex in listed.keys {
            guard let bytes = [UInt8](hexString: hex),
                let wrapped = try? Canonical.decode(WrappedDataKey.self, from: bytes)
            else { throw UserError("\(api) served a malformed wrapped key") }
            material.keys.append(wrapped)
            if material.records[wrapped.recordID] == nil {
                let proof: SavedInclusionProof = try await APIClient.get(api, "/v1/proof/\(wrapped.recordID.hex)")
                do {
                    material.records[wrapped.recordID] = try proof.verify(authority: authority).0
                } catch {
                    throw UserError("record \(wrapped.recordID.hex): its inclusion proof from \(api) fails: \(error)")
                }
                // The head the proof is against must be consistent with the one this client accepted
                // before; records proved against one head check it once.
                if checkedHeads.insert(proof.treeHead.signedHeader).inserted {
                    try await accepted.accept(try proof.treeHead.verified(authority: authority), api: api)
                }
            }
            let reference: Reference = try await APIClient.get(
                api, "/v1/blobs/reference", query: ["record": wrapped.recordID.hex, "level": wrapped.level.rawValue])
            guard let blobID = Digest32(hex: reference.blobID) else {
                throw UserError("\(api) served a malformed blob id")
            }
            material.blobIDs[FetchedTransferMaterial.key(wrapped.recordID, wrapped.level)] = blobID
            material.blobs[blobID] = try await downloadBlob(blobID, api: api, into: folder)
        }
        return material
    }

    /// Downloads blob `blobID` from the API in pieces of 1 MiB to a file (mode 0600) in
    /// `folder`, named by its id; returns its path.
    static func downloadBlob(_ blobID: Digest32, api: String, into folder: String) async throws -> String {
        struct Piece: Decodable {
            var blob: String
            var size: Int?
        }
        let path = folder + "/" + blobID.hex
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
            let file = FileHandle(forWritingAtPath: path)
        else { throw UserError("cannot write \(path)") }
        defer { try? file.close() }
        var offset = 0
        var size = Int.max
        while offset < size {
            let piece: Piece = try await APIClient.get(
                api, "/v1/blobs/\(blobID.hex)", query: ["offset": String(offset), "length": String(1 << 20)])
            guard let bytes = [UInt8](hexString: piece.blob), let total = piece.size,
                bytes.count > 0 || offset == total
            else { throw UserError("\(api) served a malformed piece of blob \(blobID.hex)") }
            size = total
            file.write(Data(bytes))
            offset += bytes.count
        }
        return path
    }
}

struct Grants: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "The owner's grants: list them, or revoke one (redemption then fails; the revocation is on the ledger).",
        subcommands: [List.self, Revoke.self])

    struct List: AsyncParsableCommand {
        @Option(name: .customLong("as"), help: "The owner's principal.") var principal: String
        @OptionGroup var options: StoreOptions

        func run() async throws {
            let rows: [GrantRow] = try await options.read("/v1/access/grants", query: ["owner": principal]) {
                try options.queries().grants(owner: principal)
            }
            try options.printRows(rows, none: "no grants of \(principal)") { row in
                print(
                    "\(row.requestID)  \(row.requester)  \(row.lot) \(row.level)  from \(row.source)  granted \(row.resultTime ?? "?")  \(row.revoked ? "REVOKED" : "active")  transfers \(row.transfers)"
                )
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Owner: revoke a grant (revokeGrant); redemptions after it are refused on the ledger.")
        @Argument(help: "The request id.") var requestID: String
        @Option(name: .long) var reason: String = "revoked by the owner"
        @OptionGroup var signer: PrincipalOptions

        func run() async throws { try await signer.submit(.revokeGrant(requestID: requestID, reason: reason)) }
    }
}

struct Provenance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Who received a lot's private data, when and for what purpose: redemptions, transfers, reads, revocations.")
    @Argument(help: "The lot.") var lot: String
    @OptionGroup var options: StoreOptions

    func run() async throws {
        let rows: [ProvenanceRow] = try await options.read("/v1/access/provenance", query: ["lot": lot]) {
            try options.queries().provenance(lot: lot)
        }
        try options.printRows(rows, none: "no transfer of \(lot) on the ledger") { row in
            let counterpart = row.counterpart.isEmpty ? "" : " → \(row.counterpart)"
            print(
                "leaf \(row.leafIndex)  \(row.time)  \(row.kind.rawValue)  \(row.who)\(counterpart)  \(row.level)  \(row.status.rawValue)  \(row.detail)  (request \(row.requestID))"
            )
        }
    }
}
