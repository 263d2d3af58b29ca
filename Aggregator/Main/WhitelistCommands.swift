import AgriTraceCore
import ArgumentParser
import Ledger

/// `agritrace whitelist add|remove|list` (docs/governance.md): the owner of a lot names
/// principals whose requests for a level of it are granted without the regulator's match.
struct Whitelist: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Owner: whitelist named principals for a lot and level (granted without a match, logged like any request, still refused while blacklisted).",
        subcommands: [Add.self, Remove.self, List.self])

    /// The lot, level and principal of one whitelist line.
    struct EntryOptions: ParsableArguments {
        @Option(name: .long, help: "The lot (one of your enterprise's).") var lot: String
        @Option(name: .long, help: "level-2 or level-1.") var level: String = "level-2"
        @Option(name: .long, help: "The registered principal to whitelist, e.g. Firm/li@ZS123.")
        var principal: String

        func entry() throws -> WhitelistEntry {
            WhitelistEntry(lot: lot, level: try parseLevel(level), principal: principal)
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Whitelist a principal (addToWhitelist).")
        @OptionGroup var entry: EntryOptions
        @OptionGroup var signer: PrincipalOptions

        func run() async throws { try await signer.submit(.addToWhitelist(try entry.entry())) }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take a principal off (removeFromWhitelist).")
        @OptionGroup var entry: EntryOptions
        @OptionGroup var signer: PrincipalOptions

        func run() async throws { try await signer.submit(.removeFromWhitelist(try entry.entry())) }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every whitelist line, with the proof of the transaction that added it.")
        @Option(name: .long, help: "Only this lot's.") var lot: String?
        @OptionGroup var options: StoreOptions

        func run() async throws {
            let ledger = AccessLedger(options: options)
            let rows = try await ledger.proven(try await ledger.whitelist(lot: lot), leaf: \.leafIndex)
            if try options.printedJSON(rows) { return }
            print(
                Output.table(
                    ["lot", "level", "principal", "whitelisted by", "enterprise", "leaf", "proof"],
                    rows.map {
                        let e = $0.entry
                        return [
                            e.lot, e.level, e.principal, e.owner, e.enterprise, String(e.leafIndex),
                            $0.proof.verified ? "verified" : "FAILED",
                        ]
                    }))
        }
    }
}
