import AgriTraceCore
import Hummingbird
import Ledger

/// The `limit` and `cursor` query parameters of the API's list endpoints.
///
/// Every list is capped: `limit` must be an integer from 1 to ``maximumLimit`` (a clear 400
/// naming the parameter otherwise), and a full page carries the cursor of its last row in the
/// ``nextCursorHeader`` response header; the next page is asked with `cursor=<that value>`.
public enum ListPaging {
    /// The largest page any list endpoint returns.
    public static let maximumLimit = 1000
    /// The page size when `limit` is not given.
    public static let defaultLimit = 1000
    /// The response header carrying the cursor of the next page (absent on the last page).
    public static let nextCursorHeader = "Next-Cursor"

    /// The validated `limit` of `query`.
    /// - Throws: a 400 `HTTPError` naming `limit`, the value given and the range.
    static func limit(_ query: Parameters) throws -> Int {
        guard let text = query.get("limit") else { return defaultLimit }
        guard let value = Int(text), (1...maximumLimit).contains(value) else {
            throw HTTPError(
                .badRequest,
                message:
                    "limit=\(text) is not an integer from 1 to \(maximumLimit); ask for at most \(maximumLimit) rows and follow the \(nextCursorHeader) header (cursor=...) for the next page"
            )
        }
        return value
    }

    /// The position after which the `/v1/records` page starts (`cursor=<time ms>-<leaf index>`).
    /// - Throws: a 400 `HTTPError` naming `cursor` when it is not one this API wrote.
    static func recordCursor(_ query: Parameters) throws -> RecordPosition? {
        guard let text = query.get("cursor") else { return nil }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let time = Int64(parts[0]), let leaf = UInt64(parts[1]), leaf <= UInt64(Int64.max)
        else {
            throw HTTPError(
                .badRequest,
                message:
                    "cursor=\(text) is not a cursor of /v1/records; pass the \(nextCursorHeader) header of the previous page unchanged"
            )
        }
        return RecordPosition(timeMilliseconds: time, leafIndex: leaf)
    }

    /// A record's place in the order of `/v1/records`: its time, then its leaf index.
    struct RecordPosition: Equatable {
        var timeMilliseconds: Int64
        var leafIndex: UInt64

        init(timeMilliseconds: Int64, leafIndex: UInt64) {
            self.timeMilliseconds = timeMilliseconds
            self.leafIndex = leafIndex
        }

        init(_ item: TracedRecord) {
            self.init(timeMilliseconds: item.record.time.milliseconds, leafIndex: item.leafIndex)
        }

        /// The cursor text naming this position (what ``ListPaging/recordCursor(_:)`` reads back).
        var cursor: String { "\(timeMilliseconds)-\(leafIndex)" }
    }

    /// The page of `filter.limit` records after `after`, in (time, leaf) order: the query
    /// starts at the cursor's time and skips the records at that time up to its leaf, asking
    /// for more rows while the skipped ones leave the page short.
    static func records(
        _ filter: LedgerQueries.RecordFilter, after: RecordPosition?, queries: LedgerQueries
    ) throws -> [TracedRecord] {
        guard let after else { return try queries.records(filter) }
        var query = filter
        let start = Timestamp(milliseconds: after.timeMilliseconds)
        if (query.since?.milliseconds ?? .min) < start.milliseconds { query.since = start }
        var extra = 0
        while true {
            query.limit = filter.limit + extra
            let found = try queries.records(query)
            let page = found.drop(while: {
                $0.record.time.milliseconds == after.timeMilliseconds && $0.leafIndex <= after.leafIndex
            })
            if page.count >= filter.limit || found.count < query.limit { return Array(page.prefix(filter.limit)) }
            extra = extra * 2 + filter.limit
        }
    }
}
