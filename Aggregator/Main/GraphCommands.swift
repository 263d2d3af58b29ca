import AgriTraceCore
import ArgumentParser
import Foundation
import Ledger
import LedgerClient
import SharingGraph
import SharingGraphLedger

/// `agritrace graph`: the data-sharing graph of the ledger (docs/anomalies.md).
struct Graph: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "The data-sharing graph: where a lot's private data went, what a firm sent and received, paths between principals, top senders and receivers.",
        subcommands: [Spread.self, Activity.self, Paths.self, Top.self])

    struct Spread: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Where the private data of a lot went, transitively: its grants, transfers, reads and revocations and those of the lots made from it, and who holds it."
        )
        @Argument(help: "The lot.") var lot: String
        @Option(name: .long, help: "Follow the lots made from it up to this many links (0: the lot alone).")
        var depth: Int = 8
        @OptionGroup var options: StoreOptions

        func validate() throws {
            guard (0...64).contains(depth) else { throw ValidationError("--depth \(depth) must be from 0 to 64") }
        }

        func run() async throws {
            let spread: LotSpread = try await options.read(
                "/v1/graph/spread/\(AccessLedger.escape(lot))", query: ["depth": String(depth)]
            ) { try GraphTime.graph(options).spread(lot: lot, depth: depth) }
            if try options.printedJSON(spread) { return }
            print(
                "lot \(lot): \(spread.lots.count) lot(s) ("
                    + spread.lots.map { "\($0.lot)@\($0.depth)" }.joined(separator: ", ") + ")")
            print(
                Output.table(
                    ["holder", "enterprise", "first leaf", "lots"],
                    spread.holders.map {
                        [$0.principal, $0.enterprise, String($0.firstLeaf), $0.lots.joined(separator: ",")]
                    }))
            print(GraphTime.edgeTable(spread.edges))
        }
    }

    struct Activity: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Everything a principal (or, with --enterprise, all its principals) sent and received in a window.")
        @Argument(help: "The principal, or with --enterprise the enterprise id.") var name: String
        @Flag(name: .long, help: "NAME is an enterprise: include all its principals.") var enterprise = false
        @OptionGroup var window: GraphWindow
        @OptionGroup var options: StoreOptions

        func run() async throws {
            let scope: SharingGraph.Scope = enterprise ? .enterprise : .principal
            let (from, to) = try window.milliseconds()
            let activity: SharingActivity = try await options.read(
                "/v1/graph/activity/\(AccessLedger.escape(name))",
                query: ["scope": scope.rawValue, "since": window.since, "until": window.until]
            ) { try GraphTime.graph(options).activity(of: name, scope: scope, since: from, until: to) }
            if try options.printedJSON(activity) { return }
            print("\(activity.scope) \(name): sent \(activity.sent.count), received \(activity.received.count)")
            print("sent:\n" + GraphTime.edgeTable(activity.sent))
            print("received:\n" + GraphTime.edgeTable(activity.received))
        }
    }

    struct Paths: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "The shortest paths along which private data moved (grants, delivered transfers) from one principal to another."
        )
        @Argument(help: "The principal the data starts at.") var from: String
        @Argument(help: "The principal it reached.") var to: String
        @Option(name: .long, help: "At most this many hops (1 to 16).") var maxDepth: Int = 6
        @Option(name: .long, help: "At most this many paths (1 to 1000).") var limit: Int = 10
        @OptionGroup var options: StoreOptions

        func validate() throws {
            guard (1...16).contains(maxDepth) else {
                throw ValidationError("--max-depth \(maxDepth) must be from 1 to 16")
            }
            guard (1...1000).contains(limit) else { throw ValidationError("--limit \(limit) must be from 1 to 1000") }
        }

        func run() async throws {
            let paths: [SharingPath] = try await options.read(
                "/v1/graph/paths",
                query: ["from": from, "to": to, "max-depth": String(maxDepth), "limit": String(limit)]
            ) { try GraphTime.graph(options).paths(from: from, to: to, maxDepth: maxDepth, limit: limit) }
            if try options.printedJSON(paths) { return }
            if paths.isEmpty { print("no path from \(from) to \(to) within \(maxDepth) hops") }
            for path in paths {
                print(
                    path.principals.joined(separator: " → ") + "  (leaves "
                        + path.leaves.map(String.init).joined(separator: ", ") + ")")
            }
        }
    }

    struct Top: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The principals that sent (or, with --receivers, received) the most delivered transfers.")
        @Flag(name: .long, help: "Rank receivers instead of senders.") var receivers = false
        @Option(name: .long, help: "How many (1 to 1000).") var count: Int = 10
        @OptionGroup var window: GraphWindow
        @OptionGroup var options: StoreOptions

        func validate() throws {
            guard (1...1000).contains(count) else { throw ValidationError("--count \(count) must be from 1 to 1000") }
        }

        func run() async throws {
            let direction: SharingGraph.Direction = receivers ? .receivers : .senders
            let (from, to) = try window.milliseconds()
            let totals: [SharingTotal] = try await options.read(
                "/v1/graph/top",
                query: [
                    "direction": direction.rawValue, "count": String(count), "since": window.since,
                    "until": window.until,
                ]
            ) { try GraphTime.graph(options).top(direction, count: count, since: from, until: to) }
            if try options.printedJSON(totals) { return }
            print(
                Output.table(
                    ["principal", "enterprise", "transfers", "records"],
                    totals.map { [$0.principal, $0.enterprise, String($0.transfers), String($0.records)] }))
        }
    }
}

/// The window `graph activity` and `graph top` look at: `--since` and `--until`.
struct GraphWindow: ParsableArguments {
    @Option(name: .long, help: "From this RFC 3339 time on.") var since: String?
    @Option(name: .long, help: "Before this RFC 3339 time.") var until: String?

    /// Both ends in milliseconds since 1970 (nil: open).
    func milliseconds() throws -> (since: Int64?, until: Int64?) {
        (try GraphTime.milliseconds(since, "since"), try GraphTime.milliseconds(until, "until"))
    }
}

/// What the graph and anomaly commands share: times, the graph from the store, edge tables.
enum GraphTime {
    /// `text` (RFC 3339) as milliseconds since 1970, nil when absent.
    /// - Throws: a ``UserError`` naming `--name` and the expected form.
    static func milliseconds(_ text: String?, _ name: String) throws -> Int64? {
        guard let text else { return nil }
        guard let time = Timestamp(iso8601: text) else {
            throw UserError("--\(name) \(text) is not an RFC 3339 time (e.g. 2026-07-28T00:00:00Z)")
        }
        return time.milliseconds
    }

    static func graph(_ options: StoreOptions) throws -> SharingGraph {
        try SharingGraphLoader.graph(try openReadOnly(options.store))
    }

    static func iso(_ milliseconds: Int64) -> String { Timestamp(milliseconds: milliseconds).iso8601 }

    static func edgeTable(_ edges: [SharingEdge]) -> String {
        Output.table(
            ["leaf", "time", "kind", "from", "to", "lot", "level", "outcome", "records"],
            edges.map {
                [
                    String($0.leaf), iso($0.time), $0.kind.rawValue, $0.from, $0.to, $0.lot, $0.level,
                    $0.outcome.rawValue,
                    String($0.records),
                ]
            })
    }
}
