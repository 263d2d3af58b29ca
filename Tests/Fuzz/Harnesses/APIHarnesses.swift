import AgriTraceCore
import Exports
import Foundation

/// The API's decoders of request bytes: the bodies of `POST /v1/transactions` and
/// `POST /v1/transfers/keys`, and the query of `GET /epcis/events`.
extension FuzzHarnesses {
    /// Each body type a write route decodes (canonical bytes): what decodes must re-encode to
    /// exactly the body, as the routes store and forward the received bytes.
    static func apiBody(_ bytes: [UInt8]) throws(Violation) -> Outcome {
        var accepted = try decodesCanonically(Signed<AccessTransaction>.self, bytes)
        accepted = try decodesCanonically(Signed<RegistryTransaction>.self, bytes) || accepted
        accepted = try decodesCanonically(Signed<TransferKeyDelivery>.self, bytes) || accepted
        return accepted ? .accepted : .refused
    }

    /// An EPCIS query string (`a=b&c=d`, percent-encoded) through `EPCISQuery.parse`: a query
    /// it accepts has a page size of 1 to 1000, a non-empty time window, and times that print
    /// and parse back to themselves.
    static func epcisQuery(_ bytes: [UInt8]) throws(Violation) -> Outcome {
        guard let text = String(validating: bytes, as: UTF8.self) else { return .refused }
        let items = text.split(separator: "&").map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decoded(_ part: Substring) -> String { part.removingPercentEncoding ?? String(part) }
            return (decoded(parts[0]), parts.count > 1 ? decoded(parts[1]) : "")
        }
        guard let query = try? EPCISQuery.parse(items) else { return .refused }
        guard (1...1000).contains(query.perPage) else { throw Violation("perPage \(query.perPage) accepted") }
        if let since = query.since, let until = query.until, until <= since {
            throw Violation("an empty time window accepted: \(since.iso8601) ..< \(until.iso8601)")
        }
        for time in [query.since, query.until].compactMap({ $0 }) where Timestamp(iso8601: time.iso8601) != time {
            throw Violation("time \(time.milliseconds) ms prints as \(time.iso8601), which does not parse back")
        }
        return .accepted
    }

    /// Whether `bytes` decode as `type`; throws if they do but are not its canonical encoding.
    static func decodesCanonically<Value: CanonicalCodable>(_ type: Value.Type, _ bytes: [UInt8]) throws(Violation)
        -> Bool
    {
        guard let value = try? Canonical.decode(type, from: bytes) else { return false }
        guard Canonical.encode(value) == bytes else {
            throw Violation("\(type) decoded from bytes it does not encode to")
        }
        return true
    }
}
