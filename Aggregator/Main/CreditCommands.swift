import ArgumentParser
import LedgerCore

// MARK: - credit (docs/governance.md "Credit")

extension Policy {
    struct MinimumCredit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "minimum-credit",
            abstract:
                "setMinimumCredit: a public condition on an entry: requests from enterprises whose credit is below --minimum are denied (0 lifts it)."
        )
        @Argument(help: "The entry id.") var dataID: String
        @Option(name: .long, help: "The minimum credit, 0 to 1 (e.g. 0.6); 0 lifts the condition.")
        var minimum: String
        @OptionGroup var signer: PrincipalOptions

        /// `--minimum` in basis points, or an error naming the option and the fix.
        static func basisPoints(_ text: String) throws -> UInt16 {
            guard let value = Double(text), value.isFinite, (0...1).contains(value) else {
                throw ValidationError(
                    "--minimum \"\(text)\" is not a credit from 0 to 1: give e.g. --minimum 0.6 (0 lifts the condition)"
                )
            }
            return UInt16((value * Double(LedgerCore.Credit.scale)).rounded())
        }

        func validate() throws { _ = try Self.basisPoints(minimum) }

        func run() async throws {
            try await signer.submit(.setMinimumCredit(dataID: dataID, basisPoints: try Self.basisPoints(minimum)))
        }
    }
}

extension Audit {
    struct CreditScores: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "credit",
            abstract:
                "Every enterprise's credit: its behaviour on the ledger (grants, denials, strikes, violations, transfers), raw score and min-max normalised score, as of the latest block."
        )
        @OptionGroup var options: StoreOptions

        func run() async throws {
            let rows = try await AccessLedger(options: options).credit()
            if try options.printedJSON(rows) { return }
            print(
                Output.table(
                    ["enterprise", "credit", "raw", "grants", "denials", "strikes", "violations", "transfers"],
                    rows.map {
                        [
                            $0.enterprise, Self.fraction($0.basisPoints), String($0.raw), String($0.grants),
                            String($0.denials), String($0.strikes), String($0.violations), String($0.transfers),
                        ]
                    }))
        }

        /// Basis points as a fraction with four decimals: 6000 → `0.6000`.
        static func fraction(_ basisPoints: Int64) -> String {
            let whole = basisPoints / LedgerCore.Credit.scale
            let rest = String(basisPoints % LedgerCore.Credit.scale)
            return "\(whole)." + String(repeating: "0", count: 4 - rest.count) + rest
        }
    }
}
