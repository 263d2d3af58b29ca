import AccessFlow
import AgriTraceCore
import ArgumentParser
import Crypto
import Foundation
import Ledger
import LedgerClient
import Provisioning

/// Who signs: a registered principal's name and its Ed25519 key file (`agritrace keygen`).
struct PrincipalOptions: ParsableArguments {
    @Option(name: .customLong("as"), help: "Your principal name as registered (e.g. Firm/zhang@ZS123).")
    var principal: String
    @Option(name: .long, help: "Your Ed25519 signing key file (from `agritrace keygen`).")
    var key: String
    @Option(name: .long, help: "Seconds to wait for the server to order each transaction (0: do not wait).")
    var wait: Double = 20
    @OptionGroup var options: StoreOptions

    func sign(_ operation: AccessTransaction.Operation) throws -> Signed<AccessTransaction> {
        try sign(operation, with: try Keys.readPrivateKey(file: key))
    }

    /// Signs with a key already read from `key` (a command that signs more than once per
    /// step reads the file once).
    func sign(_ operation: AccessTransaction.Operation, with signingKey: Curve25519.Signing.PrivateKey) throws
        -> Signed<AccessTransaction>
    {
        try Signed(AccessTransaction(submitter: principal, operation: operation), domain: .transaction, key: signingKey)
    }

    /// The ledger: the store on the server, or the API.
    var ledger: AccessLedger { AccessLedger(options: options) }

    /// The store on the server, read-only (commands that need the server's files).
    func queries() throws -> LedgerQueries { try options.queries() }

    /// Signs, submits, waits; prints unless `quiet`.
    @discardableResult
    func submit(_ operation: AccessTransaction.Operation, quiet: Bool = false) async throws -> Submitter.Answer {
        let answer = try await ledger.submit(Canonical.encode(try sign(operation)), wait: wait)
        try Submitter.report(answer, options: options, quiet: quiet)
        return answer
    }
}

/// Enrollment records written by `agritrace enroll` (JSON).
enum EnrollmentFile {
    static func read(_ path: String) throws -> EnrollmentRecord {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try JSONFile.read(
            EnrollmentRecord.self, from: path, holding: "an enrollment record",
            unreadable: "cannot read the enrollment record \(path)", decoder: decoder)
    }
}

/// Secret files: written with mode 0600, never printed.
/// Files holding secrets (keys, tokens): written mode 0600, and refused when every user on
/// the machine may read them.
enum SecretFile {
    /// Throws when users outside the file's owner and group may access `path` (as ssh and
    /// PostgreSQL refuse such keys); the error names the file, its mode and the fix. A file
    /// that cannot be examined is left to the read that follows, which names it.
    static func checkPermissions(_ path: String, what: String) throws {
        var status = stat()
        guard stat(path, &status) == 0 else { return }
        let mode = UInt32(status.st_mode) & 0o777
        if mode & 0o007 != 0 {
            throw UserError(
                "\(path) (\(what)) can be read by every user on this machine (mode \(String(mode, radix: 8))); fix: chmod 600 \(path) (640 if a service group must read it)"
            )
        }
    }

    /// Writes `bytes` in hex, one line, mode 0600 (replacing the file).
    static func write(_ bytes: [UInt8], to path: String) throws { try write(text: bytes.hexString + "\n", to: path) }

    /// Writes a new key pair: the private key to `path` (hex, mode 0600), the public key's
    /// hex to `path.pub`. An existing `path` is refused unless `force`, the error saying what
    /// overwriting it would do (`orphaning`).
    static func writeKeyPair(
        privateKey: [UInt8], publicKeyHex: String, to path: String, force: Bool, orphaning: String
    ) throws {
        if FileManager.default.fileExists(atPath: path) && !force {
            throw UserError("\(path) exists; \(orphaning). Use --force to overwrite.")
        }
        try write(privateKey, to: path)
        try Output.write(publicKeyHex, to: path + ".pub")
    }

    /// Writes `text`, mode 0600 (replacing the file).
    static func write(text: String, to path: String) throws {
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw UserError("cannot write \(path)") }
    }

    /// What `parse` makes of the secret file at `path` (read as ``read(_:what:)`` does);
    /// an error naming the file as not `kind` when it does not parse.
    static func load<Value>(
        _ path: String, what: String, as kind: String, _ parse: ([UInt8]) throws -> Value
    ) throws -> Value {
        let bytes = try read(path, what: what)
        do { return try parse(bytes) } catch { throw UserError("\(path) is not \(kind): \(error)") }
    }

    static func read(_ path: String, what: String) throws -> [UInt8] {
        try checkPermissions(path, what: what)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let bytes = [UInt8](hexString: text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { throw UserError("cannot read the \(what) file \(path)") }
        return bytes
    }
}

func parseLevel(_ text: String) throws -> ABAC.Sensitivity {
    guard let level = ABAC.Sensitivity(rawValue: text) else {
        throw UserError("\(text) is not a level; use level-2 or level-1")
    }
    return level
}

func accessParameters(_ queries: LedgerQueries) throws -> AccessParameters {
    guard let parameters = try queries.accessParameters()?.parameters else {
        throw UserError("the regulator has not published its parameters yet (agritrace regulator setup)")
    }
    return parameters
}

// MARK: - principals

struct Principals: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The principal registry: firms and regulators with their transaction-signing keys.",
        subcommands: [Add.self, List.self, Revoke.self])

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Revoke a principal (signed by the authority key): its transactions are refused from then on; with --ca its certificates too."
        )
        @Option(name: .long, help: "The principal name.") var name: String
        @Option(name: .long) var reason: String = "revoked by the operator"
        @OptionGroup var certificates: Devices.CertificateRevocation
        @OptionGroup var submission: Devices.Submission

        func run() throws {
            try certificates.revoke("principal \(name)") { $0.principalName == name }
            try Devices.submit(.revokePrincipal(name: name, reason: reason), submission)
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Register a principal (signed by the authority key): the enrollment record on the ledger. Give --enrollment (the JSON `agritrace enroll` wrote) or every field."
        )
        @Option(name: .long, help: "An enrollment record from `agritrace enroll firm|regulator|device`.")
        var enrollment: String?
        @Option(name: .long, help: "Principal name, e.g. Firm/zhang@ZS123 or Regulator/inspector@AGENCY.")
        var name: String?
        @Option(name: .long, help: "firm, regulator or device.") var kind: String?
        @Option(name: .long) var enterprise: String?
        @Option(name: .long, help: "ABAC role (firms, devices) or `regulator`.") var role: String?
        @Option(name: .long) var stage: String?
        @Option(name: .long, help: "The principal's Ed25519 public key (hex, or a file holding it).")
        var publicKey: String?
        @OptionGroup var submission: Devices.Submission

        func run() throws {
            var entry: PrincipalEntry
            if let enrollment {
                let record = try EnrollmentFile.read(enrollment)
                guard record.status == .active else { throw UserError("\(record.principalName) is revoked") }
                guard let hex = record.signingPublicKeyHex ?? publicKey else {
                    throw UserError(
                        "\(enrollment) has no signing key: enroll with --signing-key, or give --public-key")
                }
                entry = PrincipalEntry(
                    name: record.principalName, kind: PrincipalEntry.Kind(rawValue: record.kind.rawValue) ?? .firm,
                    enterprise: record.enterprise, role: record.role, stage: record.stage,
                    publicKey: Array(try Keys.readPublicKey(hex).rawRepresentation))
            } else {
                guard let name, let kind, let enterprise, let role, let publicKey else {
                    throw UserError("give --enrollment, or all of --name, --kind, --enterprise, --role, --public-key")
                }
                guard let parsed = PrincipalEntry.Kind(rawValue: kind) else {
                    throw UserError("\(kind) is not a principal kind (firm, regulator, device, aggregator)")
                }
                entry = PrincipalEntry(
                    name: name, kind: parsed, enterprise: enterprise, role: role, stage: nil,
                    publicKey: Array(try Keys.readPublicKey(publicKey).rawRepresentation))
            }
            if let stage {
                guard let value = Stage(name: stage) else { throw UserError("\(stage) is not a stage") }
                entry.stage = value
            }
            try Devices.submit(.addPrincipal(entry), submission)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered principals.")
        @OptionGroup var options: StoreOptions

        func run() throws {
            struct Row: Encodable {
                var name: String
                var kind: PrincipalEntry.Kind
                var enterprise, role: String
                var status: RegistrationStatus
                var stage: String?
            }
            let queries = LedgerQueries(store: try options.localStore(for: "principals list"))
            var rows: [Row] = []
            while true {
                let page = try queries.principals(after: rows.last?.name, limit: 1000)
                rows += page.map {
                    Row(
                        name: $0.name, kind: $0.kind, enterprise: $0.enterprise, role: $0.role, status: $0.status,
                        stage: $0.stage)
                }
                if page.count < 1000 { break }
            }
            if try options.printedJSON(rows) { return }
            print(
                Output.table(
                    ["name", "kind", "enterprise", "role", "stage", "status"],
                    rows.map {
                        [$0.name, $0.kind.rawValue, $0.enterprise, $0.role, $0.stage ?? "-", $0.status.rawValue]
                    }))
        }
    }
}

// MARK: - regulator

struct Regulator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The regulator: scheme setup, attribute grants, the matcher service, manual strikes.",
        subcommands: [Setup.self, Attributes.self, Match.self, Strike.self, Watch.self])

    struct SecretsOption: ParsableArguments {
        @Option(name: .long, help: "The regulator's secrets file (master keys; mode 0600).")
        var secrets: String = "regulator.secrets"

        func load() throws -> RegulatorSecrets {
            try SecretFile.load(secrets, what: "regulator secrets", as: "a regulator secrets file") {
                try RegulatorSecrets(serialized: $0)
            }
        }
    }

    struct Setup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "TSetup: fresh ABSE and CP-ABE master keys and a trapdoor key (kept in --secrets); publish the public parameters and the punishment rules on the ledger."
        )
        @OptionGroup var secrets: SecretsOption
        @Option(name: .long, help: "Strikes before a permanent block (1 to 100).") var maximumStrikes: UInt32 = 5
        @Option(name: .long, help: "Minutes each strike blocks the address and the principal (1 to 527040).")
        var blockMinutes: Int64 = 10
        @Option(name: .long, help: "Trapdoors one principal may submit per minute (1 to 10000).")
        var trapdoorsPerMinute: UInt32 = 10
        @Flag(name: .long, help: "Keep existing secrets (republish their parameters with new rules).")
        var reuse = false
        @OptionGroup var signer: PrincipalOptions

        /// The punishment rules are checked before anything is generated or signed.
        func validate() throws {
            let (minutes, overflow) = blockMinutes.multipliedReportingOverflow(by: 60_000)
            let rules = AccessRules(
                maximumStrikes: Int64(maximumStrikes), blockMilliseconds: overflow ? .max : minutes,
                trapdoorsPerMinute: Int64(trapdoorsPerMinute))
            if let problem = rules.problem { throw ValidationError("the punishment rules: \(problem)") }
        }

        func run() async throws {
            let regulator: RegulatorSecrets
            if reuse {
                regulator = try secrets.load()
            } else {
                if FileManager.default.fileExists(atPath: secrets.secrets) {
                    throw UserError("\(secrets.secrets) exists; use --reuse to keep it, or remove it first")
                }
                regulator = try RegulatorSecrets.generate()
                try SecretFile.write(regulator.serialized, to: secrets.secrets)
            }
            try await signer.submit(
                .publishParameters(
                    regulator.publicParameters(
                        maximumStrikes: maximumStrikes, blockMinutes: blockMinutes,
                        trapdoorsPerMinute: trapdoorsPerMinute)))
        }
    }

    struct Attributes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Certify a principal's attributes (AttG) or withdraw them.",
            subcommands: [Grant.self, Revoke.self])

        struct Grant: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract:
                    "Grant attributes: record them on the ledger and write the principal's attribute keys to --output (hand it over out of band)."
            )
            @Option(name: .long, help: "The principal the attributes are for.") var principal: String
            @Option(name: .long) var enterprise: String
            @Option(name: .long) var role: String
            @Option(name: .long) var stage: String
            @Option(name: .long, help: "Product category, e.g. \"fresh corn\".") var category: String
            @Option(name: .long, help: "The region its requests come from, e.g. Beijing.") var region: String
            @Option(name: .long, help: "Where to write the principal's attribute keys (mode 0600).") var output: String
            @OptionGroup var effective: PeriodOptions
            @OptionGroup var secrets: SecretsOption
            @OptionGroup var signer: PrincipalOptions

            func run() async throws {
                let period = try effective.period()
                guard let role = ABAC.Role(rawValue: role) else {
                    throw UserError(
                        "\(role) is not a role (\(ABAC.Role.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                guard let stage = Stage(name: stage) else { throw UserError("\(stage) is not a stage") }
                let grant = AttributeGrant(
                    principal: principal, enterprise: enterprise, role: role, stage: stage, productCategory: category,
                    region: region, period: period)
                let keys = try secrets.load().issueKeys(for: grant)
                try await signer.submit(.grantAttributes(grant))
                try SecretFile.write(keys.serialized, to: output)
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Withdraw a principal's attributes: its trapdoors are denied from the next block on.")
            @Option(name: .long) var principal: String
            @Option(name: .long) var reason: String = "withdrawn by the regulator"
            @OptionGroup var signer: PrincipalOptions

            func run() async throws { try await signer.submit(.revokeAttributes(principal: principal, reason: reason)) }
        }
    }

    struct Match: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "The matcher service: runs TEST on every pending request and records the result (addResult). --follow keeps it running."
        )
        @OptionGroup var secrets: SecretsOption
        @Flag(name: .long, help: "Keep running, picking up new trapdoors as they arrive.") var follow = false
        @Option(name: .long, help: "Seconds between polls with --follow.") var interval: Double = 0.2
        @OptionGroup var signer: PrincipalOptions

        func run() async throws {
            let regulator = try secrets.load()
            // The cursor: the last request leaf answered. Each poll asks only for requests
            // after it, so one whose result is not yet in a block is not fetched again.
            var answered: UInt64?
            repeat {
                for pending in try await signer.ledger.pending(after: answered) {
                    let row = pending.row
                    let match = regulator.match(pending.trapdoor, candidates: pending.candidates)
                    answered = max(answered ?? 0, row.requestLeaf)
                    let answer = try await signer.submit(
                        .addResult(requestID: row.requestID, dataID: match?.dataID, token: match?.token), quiet: true)
                    if !signer.options.json {
                        print(
                            "request \(row.requestID) from \(row.requester) for \(row.lot) \(row.level): "
                                + (match == nil ? "no match" : "match")
                                + " → \(answer.outcome?.rawValue ?? answer.status.rawValue)")
                    }
                }
                if follow { try await Task.sleep(for: .milliseconds(Int(interval * 1000))) }
            } while follow
        }
    }

    struct Strike: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "addToBlacklist by hand: one strike (and a block) for a network address, or for a principal (--principal)."
        )
        @Argument(help: "The network address to strike.") var source: String?
        @Option(name: .long, help: "Strike this registered principal instead of an address.") var principal: String?
        @Option(name: .long) var reason: String = "added by the regulator"
        @OptionGroup var signer: PrincipalOptions

        func validate() throws {
            guard (source == nil) != (principal == nil) else {
                throw ValidationError("give either the address to strike or --principal NAME, not both")
            }
        }

        func run() async throws {
            let subject: Punishment.Subject = principal.map { .principal($0) } ?? .address(source ?? "")
            try await signer.submit(.addToBlacklist(source: subject.key, reason: reason))
        }
    }
}

// MARK: - policy (owner)

struct Policy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Owner: protect a lot's private data under hidden policies (addEncryptedData), list and revoke them.",
        subcommands: [Create.self, List.self, Revoke.self, MinimumCredit.self, Check.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Encrypt an access token under each policy of --file (CP-ABE), hide the policy in a searchable ciphertext (ABSE) and put it on the ledger."
        )
        @Option(name: .long, help: "The lot the policies protect.") var lot: String
        @Option(name: .long, help: "level-2 or level-1.") var level: String = "level-2"
        @Option(name: .long, help: "The policy file (docs/access-control.md).") var file: String
        @Option(
            name: .long,
            help: "The owner's token file (JSON, mode 0600): each entry's access token, for the transfer service.")
        var tokens: String = "owner-tokens.json"
        @OptionGroup var effective: PeriodOptions
        @OptionGroup var signer: PrincipalOptions

        func run() async throws {
            let level = try parseLevel(level)
            let period = try effective.period()
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw UserError("cannot read the policy file \(file)")
            }
            let policies = try PolicySyntax.parse(text)
            guard let lot = try await signer.ledger.lotSummary(self.lot) else {
                throw UserError("lot \(self.lot) has no record on the ledger yet; protect it once its records are in")
            }
            let parameters = try DataOwner.DecodedParameters(try await signer.ledger.parameters())
            // A token file that is missing or unreadable starts empty.
            var saved = (try? TransferKeys.readTokens(tokens)) ?? [:]
            for policy in policies {
                let protected = try DataOwner.protect(
                    lot: self.lot, product: lot.product, stage: lot.stage, level: level, policy: policy,
                    parameters: parameters)
                var entry = protected.entry
                entry.period = period
                let token = protected.token
                saved[entry.dataID] = token
                try TransferKeys.writeTokens(saved, to: tokens)
                if !signer.options.json {
                    print(
                        "policy \(policy.id): entry \(entry.dataID) for \(self.lot) \(level.rawValue) (\(entry.searchableCiphertext.count)-byte hidden-policy ciphertext)"
                    )
                }
                try await signer.submit(.addEncryptedData(entry))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encrypted-data entries on the ledger (the policies stay hidden).")
        @Option(name: .long, help: "Only this owner's.") var owner: String?
        @Option(name: .long, help: "Only this lot's.") var lot: String?
        @OptionGroup var options: StoreOptions

        func run() async throws {
            let rows = try await AccessLedger(options: options).entries(owner: owner, lot: lot)
            if try options.printedJSON(rows) { return }
            print(
                Output.table(
                    ["entry", "owner", "lot", "level", "window", "actions", "status", "leaf", "bytes"],
                    rows.map {
                        [
                            $0.dataID, $0.owner, $0.lot, $0.level, $0.window ?? "any time",
                            $0.actions.joined(separator: ","), $0.status.rawValue, String($0.leafIndex),
                            String($0.ciphertextBytes),
                        ]
                    }))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Withdraw an entry: requests for it are no longer matched.")
        @Argument(help: "The entry id.") var dataID: String
        @Option(name: .long) var reason: String = "revoked by the owner"
        @OptionGroup var signer: PrincipalOptions

        func run() async throws { try await signer.submit(.revokeEncryptedData(dataID: dataID, reason: reason)) }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a policy file and print it back in canonical form (nothing is submitted).")
        @Argument(help: "The policy file.") var file: String

        func run() throws {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw UserError("cannot read the policy file \(file)")
            }
            do {
                print(PolicySyntax.format(try PolicySyntax.parse(text)), terminator: "")
            } catch {
                throw UserError("\(file): \(error)")
            }
        }
    }
}

// MARK: - request (requester)

struct Request: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Ask for a lot's private data: make a trapdoor with your attribute keys, wait for the decision and the regulator's match, and open the released access token."
    )
    @Argument(help: "The lot.") var lot: String
    @Option(name: .long, help: "level-2 or level-1.") var level: String = "level-2"
    @Option(name: .long, help: "read, write, edit, copy or delete.") var action: String = "read"
    @Option(name: .long, help: "This request's source address (as your edge node reports it).") var source: String
    @Option(name: .long, help: "Your attribute keys file (from the regulator).") var keys: String
    @Option(name: .long, help: "Seconds to wait for the match.") var timeout: Double = 30
    @Option(name: .long, help: "Write the access token (hex, mode 0600) here on a grant.") var tokenOut: String?
    @OptionGroup var signer: PrincipalOptions

    func run() async throws {
        let level = try parseLevel(level)
        guard let action = ABAC.Action(rawValue: action) else { throw UserError("\(action) is not an action") }
        let keys = try SecretFile.load(self.keys, what: "attribute keys", as: "an attribute keys file") {
            try RequesterKeys(serialized: $0)
        }
        let ledger = signer.ledger
        guard let summary = try await ledger.lotSummary(lot) else { throw UserError("lot \(lot) is not on the ledger") }
        let request = try keys.trapdoorRequest(
            lot: lot, product: summary.product, stage: summary.stage, level: level, action: action, source: source,
            parameters: try await ledger.parameters())
        let answer = try await signer.submit(.addTrapdoor(request), quiet: true)
        guard answer.status == .applied else {
            throw UserError("the request was not ordered in time (\(answer.status.rawValue)); check `agritrace serve`")
        }
        var row = try await ledger.request(request.requestID)
        let deadline = Date().addingTimeInterval(timeout)
        while row?.status == .pending && Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
            row = try await ledger.request(request.requestID)
        }
        guard let row else { throw UserError("request \(request.requestID) is not on the ledger") }
        struct Answer: Encodable {
            var request: AccessRequestRow
            var tokenDigest: String?
        }
        var digest: String?
        if row.status == .granted, let hex = row.token, let released = [UInt8](hexString: hex) {
            let token = try keys.openToken(released)
            digest = Digest32.sha256(token).hex
            if let tokenOut { try SecretFile.write(token, to: tokenOut) }
        }
        if signer.options.json {
            print(try Output.json(Answer(request: row, tokenDigest: digest)))
        } else {
            print("request \(row.requestID) for \(lot) \(level.rawValue) from \(source): \(row.status.rawValue)")
            if let reason = row.reason { print("  \(reason)") }
            if let digest {
                print(
                    "  access token opened with your attribute keys (SHA-256 \(digest.prefix(16))…)"
                        + (tokenOut.map { ", written to \($0)" } ?? ""))
            }
        }
        if row.status != .granted { throw ExitCode(row.status == .pending ? 2 : 1) }
    }
}

// MARK: - audit (regulator)

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "The regulator's audit: the blacklist, match results, every access transaction (each with its ledger proof), and anomalies.",
        subcommands: [
            Blacklist.self, Expiries.self, Matches.self, Events.self, History.self, CreditScores.self,
            Corrections.self, Transfers.self, Anomalies.self,
        ])

    struct Blacklist: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Blocked addresses and principals: strikes, until when, and the proof of the last strike.")
        @OptionGroup var options: StoreOptions

        func run() async throws {
            let audit = AccessLedger(options: options)
            let rows = try await audit.proven(try await audit.blacklist(), leaf: \.lastLeaf)
            if try options.printedJSON(rows) { return }
            print(
                Output.table(
                    ["kind", "subject", "strikes", "blocked until", "last strike", "leaf", "proof"],
                    rows.map {
                        [
                            $0.entry.kind, $0.entry.subject, String($0.entry.strikes),
                            $0.entry.blockedUntil ?? "permanently",
                            $0.entry.lastStrike, String($0.entry.lastLeaf),
                            $0.proof.verified ? "verified (size \($0.proof.treeSize))" : "FAILED",
                        ]
                    }))
        }
    }

    struct Expiries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "What expires when: policies, attribute grants and grants with an effective period, soonest first, each with the proof of the leaf that set it."
        )
        @OptionGroup var options: StoreOptions

        func run() async throws {
            let audit = AccessLedger(options: options)
            let rows = try await audit.proven(try await audit.expiries(), leaf: \.leafIndex)
            if try options.printedJSON(rows) { return }
            print(
                Output.table(
                    ["kind", "subject", "holder", "lot", "not before", "not after", "status", "leaf", "proof"],
                    rows.map {
                        let e = $0.entry
                        return [
                            e.kind.rawValue, String(e.subject.prefix(32)), e.holder,
                            e.lot.map { "\($0) \(e.level ?? "")" } ?? "", e.notBefore ?? "", e.notAfter ?? "never",
                            e.status.rawValue, String(e.leafIndex), $0.proof.verified ? "verified" : "FAILED",
                        ]
                    }))
        }
    }

    struct Matches: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Who asked for what, when, from where, and the outcome, with proofs of the request and result leaves.")
        @Option(name: .long) var lot: String?
        @Option(name: .long) var requester: String?
        @OptionGroup var options: StoreOptions

        func run() async throws {
            struct Row: Encodable {
                var request: AccessRequestRow
                var requestProof: LeafProof
                var resultProof: LeafProof?
            }
            let audit = AccessLedger(options: options)
            var rows: [Row] = []
            for request in try await audit.requests(lot: lot, requester: requester) {
                var resultProof: LeafProof?
                if let leaf = request.resultLeaf { resultProof = try await audit.proof(leaf) }
                rows.append(
                    Row(
                        request: request, requestProof: try await audit.proof(request.requestLeaf),
                        resultProof: resultProof))
            }
            if try options.printedJSON(rows) { return }
            print(
                Output.table(
                    ["time", "requester", "lot", "level", "action", "source", "outcome", "leaves", "proofs", "reason"],
                    rows.map { row in
                        let r = row.request
                        let verified = row.requestProof.verified && (row.resultProof?.verified ?? true)
                        return [
                            r.requestTime, r.requester, r.lot, r.level, r.action, r.source, r.status.rawValue,
                            "\(r.requestLeaf)" + (r.resultLeaf.map { "→\($0)" } ?? ""),
                            verified ? "verified" : "FAILED",
                            String((r.reason ?? "").prefix(60)),
                        ]
                    }))
        }
    }

    struct Events: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every access-control transaction and its outcome.")
        @Option(name: .long, help: "Only this method (addTrapdoor, addResult, ...).") var method: String?
        @OptionGroup var options: StoreOptions

        func run() async throws {
            let rows = try await AccessLedger(options: options).events(method: method)
            if try options.printedJSON(rows) { return }
            print(
                Output.table(
                    ["leaf", "time", "submitter", "method", "subject", "outcome", "detail"],
                    rows.map {
                        [
                            String($0.leafIndex), $0.time, $0.submitter, $0.method, String($0.subject.prefix(32)),
                            $0.outcome.rawValue, String($0.detail.prefix(80)),
                        ]
                    }))
        }
    }
}
