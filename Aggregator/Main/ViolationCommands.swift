import AccessFlow
import AgriTraceCore
import ArgumentParser
import Foundation
import Ledger
import LedgerClient

/// `agritrace violation report|confirm|dismiss|list` (docs/governance.md).
struct Violation: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Report a violation (reporter, offender, data, evidence hash, severity); the regulator confirms (revoking the offender's grants on the owner's data in the same block) or dismisses it.",
        subcommands: [Report.self, Confirm.self, Dismiss.self, List.self])

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Report a violation (reportViolation).")
        @Option(name: .long, help: "The registered principal who violated the terms.") var offender: String
        @Option(name: .long, help: "The enterprise whose data is concerned.") var owner: String
        @Option(name: .long) var lot: String
        @Option(name: .long, help: "level-2 or level-1.") var level: String = "level-2"
        @Option(name: .long, help: "The evidence file (only its SHA-256 goes on the ledger).") var evidence: String
        @Option(name: .long, help: "low, medium or high.") var severity: String = "medium"
        @Option(name: .long, help: "What happened, in a sentence.") var summary: String
        @OptionGroup var signer: PrincipalOptions

        func run() async throws {
            guard let severity = ViolationReport.Severity(rawValue: severity) else {
                throw UserError("severity: \(self.severity) is not low, medium or high (--severity)")
            }
            guard let bytes = FileManager.default.contents(atPath: evidence) else {
                throw UserError(
                    "evidence: cannot read \(evidence) (--evidence names the file whose SHA-256 is reported)")
            }
            if signer.options.api == nil, try signer.queries().principal(offender) == nil {
                throw UserError("offender: \(offender) is not a registered principal (agritrace principals list)")
            }
            let report = ViolationReport(
                reportID: AccessIDs.random(), offender: offender, owner: owner, lot: lot, level: try parseLevel(level),
                evidence: Digest32.sha256([UInt8](bytes)), severity: severity, summary: summary)
            if !signer.options.json { print("report \(report.reportID)") }
            try await signer.submit(.reportViolation(report))
        }
    }

    /// The regulator's decision on one report: its id, a note, the signer.
    struct DecisionOptions: ParsableArguments {
        @Argument(help: "The report id.") var reportID: String
        @Option(name: .long, help: "Why (kept with the decision).") var note: String = "decided by the regulator"
        @OptionGroup var signer: PrincipalOptions
    }

    struct Confirm: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Regulator: confirm a report; the offender's grants on the owner's data are revoked at once.")
        @OptionGroup var decision: DecisionOptions

        func run() async throws {
            try await decision.signer.submit(.confirmViolation(reportID: decision.reportID, note: decision.note))
        }
    }

    struct Dismiss: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Regulator: dismiss a report.")
        @OptionGroup var decision: DecisionOptions

        func run() async throws {
            try await decision.signer.submit(.dismissViolation(reportID: decision.reportID, note: decision.note))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Violation reports, newest first, with the proof of each report's leaf.")
        @Option(name: .long, help: "Only the reports about this principal.") var offender: String?
        @OptionGroup var options: StoreOptions

        func run() async throws {
            let ledger = AccessLedger(options: options)
            let rows = try await ledger.proven(try await ledger.violations(offender: offender), leaf: \.leafIndex)
            if try options.printedJSON(rows) { return }
            print(
                Output.table(
                    ["report", "offender", "owner", "lot", "severity", "status", "block", "leaf", "revoked", "proof"],
                    rows.map {
                        let r = $0.entry
                        return [
                            r.reportID, r.offender, r.owner, "\(r.lot) \(r.level)", r.severity.rawValue,
                            r.status.rawValue, String(r.height), String(r.leafIndex), String(r.revokedGrants),
                            $0.proof.verified ? "verified" : "FAILED",
                        ]
                    }))
        }
    }
}

extension Audit {
    /// `audit history --principal P`: a requester's whole thread.
    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "A principal's whole thread: requests, grants, redemptions, transfers, reads, revocations and violations, oldest first, each with its leaf's proof."
        )
        @Option(name: .long, help: "The principal, e.g. Firm/li@ZS123.") var principal: String
        @OptionGroup var options: StoreOptions

        func run() async throws {
            let ledger = AccessLedger(options: options)
            let rows = try await ledger.proven(try await ledger.history(principal: principal), leaf: \.leafIndex)
            if try options.printedJSON(rows) { return }
            print(
                Output.table(
                    ["leaf", "time", "submitter", "method", "subject", "outcome", "proof", "detail"],
                    rows.map {
                        let e = $0.entry
                        return [
                            String(e.leafIndex), e.time, e.submitter, e.method, String(e.subject.prefix(32)),
                            e.outcome.rawValue, $0.proof.verified ? "verified" : "FAILED", String(e.detail.prefix(80)),
                        ]
                    }))
        }
    }
}
