import AgriTraceCore
import Foundation
import Ledger

/// A query of the EPCIS 2.0 REST interface (`GET /epcis/events`): the common parameters of
/// the standard's `SimpleEventQuery`, answered from the ledger's indexes (a lot, an
/// enterprise and stage, a time range), with pages of at most ``perPage`` events.
public struct EPCISQuery: Sendable, Hashable {
    public var eventTypes: Set<String>?
    public var bizSteps: Set<String>?
    public var dispositions: Set<String>?
    /// Class-level identifiers (lot URIs): events about any of them.
    public var anyEPC: [String]?
    public var bizLocations: Set<String>?
    public var readPoints: Set<String>?
    public var since: Timestamp?
    public var until: Timestamp?
    public var perPage: Int = 30
    /// Where the previous page ended (its `nextPageToken`).
    public var after: Cursor?

    /// A position in event order (record time, then leaf).
    public struct Cursor: Sendable, Hashable, Comparable {
        public var time: Int64
        public var leafIndex: UInt64

        /// The opaque `nextPageToken` form.
        public var token: String { "\(time).\(leafIndex)" }

        init(time: Int64, leafIndex: UInt64) {
            self.time = time
            self.leafIndex = leafIndex
        }

        init?(token: String) {
            let parts = token.split(separator: ".")
            guard parts.count == 2, let time = Int64(parts[0]), let leaf = UInt64(parts[1]) else { return nil }
            self.init(time: time, leafIndex: leaf)
        }

        public static func < (lhs: Cursor, rhs: Cursor) -> Bool {
            (lhs.time, lhs.leafIndex) < (rhs.time, rhs.leafIndex)
        }
    }

    /// The parameters this interface answers; any other is refused (not ignored).
    public static let parameters: Set<String> = [
        "eventType", "EQ_bizStep", "EQ_disposition", "MATCH_anyEPC", "MATCH_epcClass", "EQ_bizLocation",
        "EQ_readPoint", "GE_eventTime", "LT_eventTime", "perPage", "nextPageToken",
    ]

    public init() {}

    /// Parses query parameters (lists comma-separated, as the EPCIS 2.0 OpenAPI gives them).
    /// - Throws: ``ExportError`` naming the parameter, its value and the fix.
    public static func parse(_ items: [(String, String)]) throws(ExportError) -> EPCISQuery {
        var query = EPCISQuery()
        for (name, value) in items {
            let list = value.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
            switch name {
            case "eventType": query.eventTypes = Set(list)
            case "EQ_bizStep": query.bizSteps = Set(list.map(bareCBV))
            case "EQ_disposition": query.dispositions = Set(list.map(bareCBV))
            case "MATCH_anyEPC", "MATCH_epcClass": query.anyEPC = (query.anyEPC ?? []) + list
            case "EQ_bizLocation": query.bizLocations = Set(list)
            case "EQ_readPoint": query.readPoints = Set(list)
            case "GE_eventTime": query.since = try time(value, name)
            case "LT_eventTime": query.until = try time(value, name)
            case "perPage":
                guard let count = Int(value), (1...1000).contains(count) else {
                    throw ExportError(value: "perPage=\(value)", problem: "is out of range", fix: "give 1 to 1000")
                }
                query.perPage = count
            case "nextPageToken":
                guard let cursor = Cursor(token: value) else {
                    throw ExportError(
                        value: "nextPageToken=\(value)", problem: "is not a token this server gave",
                        fix: "pass the token from the previous page's Link header unchanged")
                }
                query.after = cursor
            default:
                throw ExportError(
                    value: "query parameter \(name)", problem: "is not supported",
                    fix: "use \(parameters.sorted().joined(separator: ", "))")
            }
        }
        if let since = query.since, let until = query.until, until <= since {
            throw ExportError(
                value: "GE_eventTime \(since.iso8601) and LT_eventTime \(until.iso8601)",
                problem: "make an empty or inverted window", fix: "give GE_eventTime earlier than LT_eventTime")
        }
        return query
    }

    static func time(_ text: String, _ name: String) throws(ExportError) -> Timestamp {
        guard let time = Timestamp(iso8601: text) else {
            throw ExportError(
                value: "\(name)=\(text)", problem: "is not an RFC 3339 time", fix: "give e.g. 2026-07-01T00:00:00Z")
        }
        return time
    }

    /// `commissioning` from `commissioning`, `https://ref.gs1.org/cbv/BizStep-commissioning`
    /// or `urn:epcglobal:cbv:bizstep:commissioning`.
    static func bareCBV(_ value: String) -> String {
        if let range = value.range(of: "-", options: .backwards), value.hasPrefix("http") {
            return String(value[range.upperBound...])
        }
        return value.split(separator: ":").last.map(String.init) ?? value
    }

    /// The lot code named by a lot URI (Digital Link or AgriTrace URN), percent-decoded.
    static func lot(ofEPC epc: String) -> String? {
        if let range = epc.range(of: "/10/"), epc.hasPrefix(GS1Identifiers.resolver + "/01/") {
            return String(epc[range.upperBound...].prefix { $0 != "/" && $0 != "?" }).removingPercentEncoding
        }
        let prefix = "urn:agritrace:lot:"
        guard epc.hasPrefix(prefix), let last = epc.split(separator: ":").last else { return nil }
        return String(last).removingPercentEncoding
    }
}

/// One page of a query's answer.
public struct EPCISQueryPage: Sendable {
    public var events: [JSONOutput]
    /// The token of the next page, nil on the last.
    public var nextPageToken: String?

    /// The page as an `EPCISQueryDocument`.
    public func document(createdAt: Timestamp = .now()) -> JSONOutput {
        .object([
            "@context": EPCIS.context, "type": .string("EPCISQueryDocument"), "schemaVersion": .string(EPCIS.version),
            "creationDate": .string(createdAt.iso8601),
            "epcisBody": .object([
                "queryResults": .object([
                    "queryName": .string("SimpleEventQuery"),
                    "resultsBody": .object(["eventList": .array(events)]),
                ])
            ]),
        ])
    }
}

extension EPCISExporter {
    /// One page of the events matching `query`, in time order.
    public func answer(_ query: EPCISQuery) throws -> EPCISQueryPage {
        let scan = try scan(query)
        var matched = scan.matched
        var next: EPCISQuery.Cursor?
        if matched.count > query.perPage {
            matched.removeLast(matched.count - query.perPage)
            next = matched.last.map(Self.cursor)
        } else if !scan.exhausted {
            next = scan.lastScanned
        }
        return EPCISQueryPage(events: try events(matched), nextPageToken: next?.token)
    }

    static func cursor(_ item: AnchoredRecord) -> EPCISQuery.Cursor {
        .init(time: item.record.time.milliseconds, leafIndex: item.leafIndex)
    }

    /// The matching records after the cursor: up to one more than a page, from a lot's records
    /// (`MATCH_anyEPC`) or from the record index, reading more rows until a page is full.
    func scan(_ query: EPCISQuery) throws -> (
        matched: [AnchoredRecord], lastScanned: EPCISQuery.Cursor?, exhausted: Bool
    ) {
        if let epcs = query.anyEPC {
            var rows: [AnchoredRecord] = []
            for lot in Set(epcs.compactMap(EPCISQuery.lot(ofEPC:))) {
                rows += try queries.trace(lot: lot).map(AnchoredRecord.init)
            }
            rows.sort { Self.cursor($0) < Self.cursor($1) }
            return (Array(rows.filter { matches($0, query) }.prefix(query.perPage + 1)), nil, true)
        }
        var limit = (query.perPage + 1) * 4
        while true {
            let since = [query.since, query.after.map { Timestamp(milliseconds: $0.time) }].compactMap { $0 }.max()
            let filter = LedgerQueries.RecordFilter(
                enterprise: enterprise(query.bizLocations), stage: stage(query), since: since, until: query.until,
                limit: limit)
            let rows = try queries.records(filter).map(AnchoredRecord.init)
            let matched = rows.filter { matches($0, query) }
            let exhausted = rows.count < limit
            if matched.count > query.perPage || exhausted || limit >= 1 << 20 {
                return (matched, rows.last.map(Self.cursor), exhausted)
            }
            limit *= 4
        }
    }

    /// Whether the event of `item` answers `query` (after its cursor).
    func matches(_ item: AnchoredRecord, _ query: EPCISQuery) -> Bool {
        let record = item.record
        let mapping = EPCIS.mapping(of: record.stage)
        if let after = query.after, Self.cursor(item) <= after { return false }
        if let since = query.since, record.time < since { return false }
        if let until = query.until, record.time >= until { return false }
        if let types = query.eventTypes, !types.contains(mapping.eventType) { return false }
        if let steps = query.bizSteps, !steps.contains(mapping.bizStep) { return false }
        if let dispositions = query.dispositions, !dispositions.contains(mapping.disposition) { return false }
        if let locations = query.bizLocations {
            guard let location = try? identifiers.location(record.enterprise), locations.contains(location) else {
                return false
            }
        }
        if let points = query.readPoints {
            guard let point = try? identifiers.readPoint(record.device, enterprise: record.enterprise),
                points.contains(point)
            else { return false }
        }
        return true
    }

    /// The one enterprise a set of business locations names, to narrow the index search.
    func enterprise(_ locations: Set<String>?) -> String? {
        guard let locations, locations.count == 1, let location = locations.first else { return nil }
        let prefix = "urn:agritrace:enterprise:"
        if location.hasPrefix(prefix) { return String(location.dropFirst(prefix.count)).removingPercentEncoding }
        return identifiers.enterprises.first { "\(GS1Identifiers.resolver)/414/\($0.value.gln ?? "")" == location }?.key
    }

    /// The one stage a query's business steps and event types allow, to narrow the index search.
    func stage(_ query: EPCISQuery) -> Stage? {
        let stages = Stage.allCases.filter { stage in
            let mapping = EPCIS.mapping(of: stage)
            return (query.bizSteps?.contains(mapping.bizStep) ?? true)
                && (query.eventTypes?.contains(mapping.eventType) ?? true)
        }
        return stages.count == 1 ? stages[0] : nil
    }
}
