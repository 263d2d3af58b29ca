import AgriTraceCore
import ArgumentParser
import Ledger
import LedgerClient

/// `agritrace correct`: an enterprise corrects one of its records (docs/governance.md,
/// "Corrections"). The correcting record is an ordinary record its device already put on the
/// ledger; this signs the `correctRecord` transaction that links the two.
struct Correct: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Enterprise: name the record that supersedes one of your records of a lot (correctRecord). Nothing is deleted; trace and the exports mark the superseded record."
    )

    @Argument(help: "The record being corrected (32 hex characters).") var superseded: String
    @Option(name: .customLong("by"), help: "The record that replaces it: same lot, same enterprise, later.")
    var correction: String
    @Option(name: .long, help: "The lot both records belong to (checked before signing).") var lot: String
    @Option(name: .long, help: "Why the record is corrected.") var reason: String
    @OptionGroup var signer: PrincipalOptions

    func run() async throws {
        let change = try await checkedCorrection()
        try await signer.submit(.correctRecord(change))
    }

    /// The correction, after the checks the contract makes that the CLI can make before
    /// signing: both ids well formed, both records in the lot, of one enterprise, in order.
    func checkedCorrection() async throws -> RecordCorrection {
        guard let old = RecordID(hex: superseded) else {
            throw UserError("superseded: \(superseded) is not a record id (32 hex characters)")
        }
        guard let new = RecordID(hex: correction) else {
            throw UserError("--by: \(correction) is not a record id (32 hex characters)")
        }
        guard old != new else { throw UserError("--by: a record cannot supersede itself; name the new record") }
        guard AccessAdmission.isValidName(reason, maximum: 512) else {
            throw UserError("--reason: give 1-512 printable bytes saying why the record is corrected")
        }
        let options = signer.options
        let rows: [TraceRow] = try await options.read("/v1/trace/\(AccessLedger.escape(lot))") {
            try options.queries().traceRows(lot: lot)
        }
        guard let oldRow = rows.first(where: { $0.recordID == old.hex }) else {
            throw UserError("superseded: record \(old) is not a record of lot \(lot) (agritrace trace \(lot))")
        }
        guard let newRow = rows.first(where: { $0.recordID == new.hex }) else {
            throw UserError("--by: record \(new) is not a record of lot \(lot); record the corrected reading first")
        }
        guard oldRow.enterprise == newRow.enterprise else {
            throw UserError(
                "--by: record \(new) belongs to enterprise \(newRow.enterprise), the superseded one to \(oldRow.enterprise); an enterprise corrects only its own records"
            )
        }
        guard newRow.leafIndex > oldRow.leafIndex else {
            throw UserError(
                "--by: record \(new) (leaf \(newRow.leafIndex)) is not later than \(old) (leaf \(oldRow.leafIndex))")
        }
        if let by = oldRow.supersededBy {
            throw UserError("superseded: record \(old) is already superseded by \(by); correct \(by) instead")
        }
        return RecordCorrection(superseded: old, correction: new, reason: reason)
    }
}

extension Audit {
    /// `agritrace audit corrections`: every applied correction with its ledger proof.
    struct Corrections: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Corrected records: which record supersedes which, who corrected it, why, and the proof.")
        @Option(name: .long, help: "Only this lot's corrections.") var lot: String?
        @OptionGroup var options: StoreOptions

        func run() async throws {
            let corrections: [CorrectionRow] = try await options.read(
                "/v1/access/corrections", query: ["lot": lot]
            ) { try options.queries().corrections(lot: lot) }
            let rows = try await AccessLedger(options: options).proven(corrections, leaf: \.leafIndex)
            try options.printRows(rows, none: "no corrections on the ledger") { row in
                let c = row.entry
                print(
                    "leaf \(c.leafIndex)  \(c.time)  lot \(c.lot)  \(c.superseded) superseded by \(c.correction)  by \(c.corrector): \(c.reason)  proof \(row.proof.verified ? "verified" : "NOT VERIFIED")"
                )
            }
        }
    }
}

extension Transfer {
    /// `agritrace transfer countersign`: the receiver signs what it received.
    struct Countersign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Receiver: countersign a transfer you received (countersignTransfer); the transfer is complete only then. `agritrace fetch --countersign` does it after verifying."
        )
        @Option(name: .long, help: "The request id.") var request: String
        @Option(name: .long, help: "The leaf of the owner's transfer (addTransfer).") var transferLeaf: UInt64
        @Option(name: .long, help: "The digest of the blob ids you received (64 hex characters).") var digest: String
        @Option(name: .long, help: "How many records you received.") var records: UInt32
        @OptionGroup var signer: PrincipalOptions

        func run() async throws {
            guard AccessAdmission.isValidID(request) else {
                throw UserError("--request: \(request) is not a request id (32 lower-case hex characters)")
            }
            guard let received = Digest32(hex: digest) else {
                throw UserError("--digest: \(digest) is not a SHA-256 digest (64 hex characters)")
            }
            try await signer.submit(
                .countersignTransfer(
                    TransferCountersignature(
                        requestID: request, transferLeaf: transferLeaf, receivedDigest: received, recordCount: records))
            )
        }
    }
}

extension Audit {
    /// `agritrace audit transfers`: every delivered transfer, complete, awaiting or overdue.
    struct Transfers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Delivered transfers and their receivers' countersignatures: complete, complete-late, awaiting-countersignature or overdue (at the latest block time), with proofs."
        )
        @Option(name: .long, help: "Hours the receiver has to countersign (1 to 8784).") var deadlineHours: Int64 = 72
        @Option(name: .long, help: "Only this status.") var status: String?
        @OptionGroup var options: StoreOptions

        func run() async throws {
            guard (1...8784).contains(deadlineHours) else {
                throw UserError("--deadline-hours: \(deadlineHours) is out of range: give 1 to 8784 hours (366 days)")
            }
            let wanted = try status.map { text in
                guard let status = TransferCompletion(rawValue: text) else {
                    throw UserError(
                        "--status: \(text) is not a status; use \(TransferCompletion.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                return status
            }
            let all: [TransferCompletionRow] = try await options.read(
                "/v1/audit/transfers", query: ["deadline-hours": String(deadlineHours)]
            ) { try options.queries().transferCompletions(deadline: deadlineHours * 3_600_000) }
            let rows = try await AccessLedger(options: options).proven(
                all.filter { wanted == nil || $0.status == wanted }, leaf: \.transferLeaf)
            try options.printRows(rows, none: "no delivered transfers on the ledger") { row in
                let t = row.entry
                let signed =
                    t.countersignatureLeaf.map { " countersigned at leaf \($0) (\(t.countersignedAt ?? ""))" } ?? ""
                print(
                    "leaf \(t.transferLeaf)  \(t.time)  \(t.sender) → \(t.receiver)  \(t.recordCount) records of \(t.lot) \(t.level)  \(t.status.rawValue) (due \(t.due))\(signed)  proof \(row.proof.verified ? "verified" : "NOT VERIFIED")"
                )
            }
        }
    }
}
