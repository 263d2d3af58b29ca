import AgriTraceCore
import ArgumentParser
import Ledger
import LedgerClient

/// `agritrace directory`: the resource directory (docs/governance.md, "Resource directory").
struct Directory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "The resource directory: what protected datasets and blobs exist and whom to ask (never who may have them).",
        subcommands: [Publish.self, Search.self])

    /// `agritrace directory publish`: the owner publishes or replaces an entry.
    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Owner: publish (or replace) the directory entry of one of your lots at a level, or of a blob.")
        @Option(name: .long, help: "The lot of a dataset entry (with --level).") var lot: String?
        @Option(name: .long, help: "The level of a dataset entry: level-2 or level-1.") var level: String?
        @Option(name: .long, help: "The blob id of a blob entry (64 hex characters).") var blob: String?
        @Option(name: .long, help: "A short name.") var name: String
        @Option(name: .long, help: "What the data is (up to 1024 bytes).") var overview: String
        @Option(name: .long, help: "The producing enterprise (the owner).") var producer: String
        @Option(name: .long, help: "The stage: breeding, planting, processing, warehousing, transport, sales.")
        var stage: String
        @Option(name: .long, help: "The product.") var product: String
        @Option(name: .long, help: "The media type, e.g. application/json.") var mediaType: String = "application/json"
        @Option(name: .long, help: "The format, e.g. \"agritrace fetch JSON\".") var format: String
        @Option(name: .long, help: "The size in bytes.") var size: UInt64
        @Option(name: .long, help: "Which party's service holds it (e.g. the owner's transfer service).")
        var heldBy: String
        @Option(name: .long, help: "How long it is kept, in days (1 to 36600).") var retentionDays: UInt32
        @OptionGroup var signer: PrincipalOptions

        func run() async throws {
            try await signer.submit(.publishDirectoryEntry(try entry()))
        }

        /// The entry, each field checked before signing (the contract's admission checks the same).
        func entry() throws -> DirectoryEntry {
            let resource: DirectoryEntry.Resource
            switch (lot, level, blob) {
            case (let lot?, let level?, nil): resource = .dataset(lot: lot, level: try parseLevel(level))
            case (nil, nil, let blob?):
                guard let id = Digest32(hex: blob) else {
                    throw UserError("--blob: \(blob) is not a blob id (64 hex characters)")
                }
                resource = .blob(id)
            default: throw UserError("--lot with --level (a dataset), or --blob (a blob): one of the two")
            }
            guard let stage = try OptionValue.stage(self.stage) else { throw UserError("--stage is required") }
            let entry = DirectoryEntry(
                resource: resource, name: name, overview: overview, producer: producer, stage: stage,
                product: product, mediaType: mediaType, format: format, size: size, heldBy: heldBy,
                retentionDays: retentionDays)
            if let problem = AccessAdmission.directoryMalformation(entry) { throw UserError(problem) }
            return entry
        }
    }

    /// `agritrace directory search`: what exists and whom to ask.
    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Find datasets and blobs by product, stage, enterprise and publication time, and whom to ask.")
        @Option(name: .long) var product: String?
        @Option(name: .long, help: "breeding, planting, processing, warehousing, transport, sales.") var stage: String?
        @Option(name: .long, help: "The producing enterprise.") var enterprise: String?
        @Option(name: .long, help: "Published at or after (RFC 3339).") var since: String?
        @Option(name: .long, help: "Published before (RFC 3339).") var until: String?
        @OptionGroup var options: StoreOptions

        func run() async throws {
            let filter = try self.filter()
            let rows: [DirectoryRow] = try await options.read(
                "/v1/directory",
                query: [
                    "product": product, "stage": stage, "enterprise": enterprise, "since": since, "until": until,
                ]
            ) { try options.queries().directory(filter) }
            try options.printRows(rows, none: "no directory entries match") { row in
                print(
                    "\(row.resource)  \(row.name): \(row.product) \(row.stage) by \(row.producer), \(row.mediaType) (\(row.format)), \(row.size) bytes, held by \(row.heldBy) for \(row.retentionDays) days; ask \(row.publisher)  (leaf \(row.leafIndex), \(row.time))"
                )
            }
        }

        func filter() throws -> LedgerQueries.DirectoryFilter {
            LedgerQueries.DirectoryFilter(
                product: product, stage: try OptionValue.stage(stage), enterprise: enterprise,
                since: try OptionValue.time(since, "since"), until: try OptionValue.time(until, "until"))
        }
    }
}
