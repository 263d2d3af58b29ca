import AgriTraceCore
import Foundation
import Hummingbird
import Ledger
import SharingGraph
import SharingGraphLedger

/// The data-sharing graph and the anomaly audit (docs/anomalies.md): where a lot's private
/// data went, what a principal or enterprise sent and received, paths, top senders and
/// receivers, and the detectors' alarms. The graph is kept in memory and updated with each
/// request from the leaves after the last one applied (``GraphCache``), never rebuilt.
enum GraphRoutes {
    static func add(to router: Router<GatewayRequestContext>, reader: StoreReader) {
        let cache = GraphCache()
        router.get("/v1/graph/spread/:lot") { request, context in
            let lot = try context.parameters.require("lot")
            let depth = try QueryParameter.integer("depth", of: request.uri.queryParameters, in: 0...64) ?? 8
            return try JSON(try await cache.current(reader).graph.spread(lot: lot, depth: depth))
        }
        router.get("/v1/graph/activity/:name") { request, context in
            let name = try context.parameters.require("name")
            let query = request.uri.queryParameters
            let scope = try Self.choice("scope", of: query, SharingGraph.Scope.self) ?? .principal
            let since = try Self.time("since", of: query)
            let until = try Self.time("until", of: query)
            return try JSON(
                try await cache.current(reader).graph.activity(of: name, scope: scope, since: since, until: until))
        }
        router.get("/v1/graph/paths") { request, _ in
            let query = request.uri.queryParameters
            guard let from = query.get("from"), let to = query.get("to") else {
                throw HTTPError(
                    .badRequest, message: "give ?from=<principal>&to=<principal>[&max-depth=1..16][&limit=1..1000]")
            }
            let depth = try QueryParameter.integer("max-depth", of: query, in: 1...16) ?? 6
            let limit = try QueryParameter.integer("limit", of: query, in: 1...1000) ?? 10
            return try JSON(
                try await cache.current(reader).graph.paths(from: from, to: to, maxDepth: depth, limit: limit))
        }
        router.get("/v1/graph/top") { request, _ in
            let query = request.uri.queryParameters
            let direction = try Self.choice("direction", of: query, SharingGraph.Direction.self) ?? .senders
            let count = try QueryParameter.integer("count", of: query, in: 1...1000) ?? 10
            let since = try Self.time("since", of: query)
            let until = try Self.time("until", of: query)
            return try JSON(
                try await cache.current(reader).graph.top(direction, count: count, since: since, until: until))
        }
        addAnomalies(to: router, reader: reader, cache: cache)
    }

    /// `/v1/audit/anomalies`: the detectors' alarms, computed once per state of the ledger and
    /// set of parameters.
    static func addAnomalies(to router: Router<GatewayRequestContext>, reader: StoreReader, cache: GraphCache) {
        router.get("/v1/audit/anomalies") { request, _ in
            let query = request.uri.queryParameters
            let since = try Self.time("since", of: query)
            var kinds: Set<AnomalyAlarm.Kind>?
            if let text = query.get("kind") {
                do { kinds = try AnomalyAudit.kinds(text) } catch { throw HTTPError(.badRequest, message: "\(error)") }
            }
            let audit = try Self.audit(query)
            let state = try await cache.current(reader)
            // The detectors run once per state of the ledger and set of parameters: a watcher
            // polling with nothing new gets the alarms computed before.
            let key = [
                "\(state.graph.lastLeaf.map(String.init) ?? "-")", "\(state.facts.throughLeaf.map(String.init) ?? "-")",
                "\(audit.traceability.parameters.coldThreshold)", "\(audit.traceability.parameters.coldDuration)",
                (kinds ?? Set(AnomalyAlarm.Kind.allCases)).map(\.rawValue).sorted().joined(separator: ","),
            ].joined(separator: "|")
            let alarms: [AnomalyAlarm]
            if let known = await cache.alarms(key) {
                alarms = known
            } else {
                alarms = state.alarms(audit, kinds: kinds)
                await cache.remember(alarms, key)
            }
            return try JSON(alarms.filter { $0.time >= (since ?? .min) })
        }
    }

    /// The audit with the query's cold-chain parameters (`cold-threshold` °C, `cold-minutes`).
    static func audit(_ query: Parameters) throws -> AnomalyAudit {
        var parameters = TraceabilityDetector.Parameters()
        if let text = query.get("cold-threshold") {
            guard let value = Double(text), value.isFinite, (-100...100).contains(value) else {
                throw HTTPError(.badRequest, message: "cold-threshold=\(text) is not a temperature from -100 to 100 °C")
            }
            parameters.coldThreshold = value
        }
        if let minutes = try QueryParameter.integer("cold-minutes", of: query, in: Int64(1)...10_080) {
            parameters.coldDuration = minutes * 60_000
        }
        return AnomalyAudit(traceability: TraceabilityDetector(parameters: parameters))
    }

    /// The RFC 3339 time `name` of `query` in milliseconds, nil when absent.
    static func time(_ name: String, of query: Parameters) throws -> Int64? {
        guard let text = query.get(name) else { return nil }
        guard let time = Timestamp(iso8601: text) else {
            throw HTTPError(.badRequest, message: "\(name)=\(text) is not an RFC 3339 time (e.g. 2026-07-28T00:00:00Z)")
        }
        return time.milliseconds
    }

    /// The value `name` of `query` as one of `Choice`'s cases, nil when absent.
    static func choice<Choice: RawRepresentable & CaseIterable>(_ name: String, of query: Parameters, _: Choice.Type)
        throws -> Choice? where Choice.RawValue == String
    {
        guard let text = query.get(name) else { return nil }
        guard let value = Choice(rawValue: text) else {
            throw HTTPError(
                .badRequest,
                message: "\(name)=\(text) is not one of " + Choice.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return value
    }
}

/// The API's sharing graph and records' facts, brought up to date from the store on each
/// use: only the leaves after the last one applied are read.
actor GraphCache {
    private var state = SharingLedgerState()
    /// The last alarms computed and what they were computed for (ledger state and parameters).
    private var computed: (key: String, alarms: [AnomalyAlarm])?

    /// The alarms computed for `key`, if they are the last ones computed.
    func alarms(_ key: String) -> [AnomalyAlarm]? { computed?.key == key ? computed?.alarms : nil }

    /// Keeps `alarms` as computed for `key`.
    func remember(_ alarms: [AnomalyAlarm], _ key: String) { computed = (key, alarms) }

    /// The state with every leaf of the store applied.
    func current(_ reader: StoreReader) async throws -> SharingLedgerState {
        let graphAfter = state.graph.lastLeaf
        let factsAfter = state.facts.throughLeaf
        let (delta, facts) = try await reader.read { store in
            (
                try SharingGraphLoader.delta(store, after: graphAfter),
                try TraceabilityLoader.facts(store, after: factsAfter)
            )
        }
        state.apply(delta, facts, factsAfter: factsAfter)
        return state
    }
}
