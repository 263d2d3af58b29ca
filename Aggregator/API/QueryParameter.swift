import AgriTraceCore
import Hummingbird
import Ledger

/// Optional query parameters read strictly: a value that is given but is not what the route
/// takes is a 400 naming the parameter, the value and the rule, never silently ignored (an
/// ignored `tree-size=-5` answered with the latest tree head, an ignored `direction=up` with
/// the lot alone; found by schemathesis, RELIABILITY.md).
enum QueryParameter {
    /// The largest leaf, height or size a route takes: the store's integers are SQLite's
    /// signed 64-bit ones (a larger `leaf=18446744073709551615` trapped converting it and
    /// ended `serve`; found by schemathesis).
    static let largest = UInt64(Int64.max)

    /// The RFC 3339 time `name` of `query`, or nil when it is absent.
    /// - Throws: a 400 `HTTPError` when it is not a time.
    static func time(_ name: String, of query: Parameters) throws -> Timestamp? {
        guard let text = query.get(name) else { return nil }
        guard let time = Timestamp(iso8601: text) else {
            throw HTTPError(.badRequest, message: "\(name)=\(text) is not an RFC 3339 time")
        }
        return time
    }

    /// The `stage` of `query`, or nil when it is absent.
    /// - Throws: a 400 `HTTPError` when it is not a stage.
    static func stage(of query: Parameters) throws -> Stage? {
        guard let name = query.get("stage") else { return nil }
        guard let stage = Stage(rawValue: name) else {
            throw HTTPError(
                .badRequest,
                message: "stage=\(name) is not a stage (\(Stage.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return stage
    }

    /// The integer `name` of `query`, or nil when it is absent.
    /// - Throws: a 400 `HTTPError` when it is not a whole number within `range`.
    static func integer<Value: FixedWidthInteger>(
        _ name: String, of query: Parameters, in range: ClosedRange<Value>
    ) throws -> Value? {
        guard let text = query.get(name) else { return nil }
        guard let value = Value(text), range.contains(value) else {
            throw HTTPError(
                .badRequest,
                message: "\(name)=\(text) is not a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// The integer `name` of `query`, which the route needs.
    /// - Parameter usage: the 400's message when it is absent (how to give it).
    /// - Throws: a 400 `HTTPError` when it is absent or not a whole number within `range`.
    static func requiredInteger<Value: FixedWidthInteger>(
        _ name: String, of query: Parameters, in range: ClosedRange<Value>, usage: String
    ) throws -> Value {
        guard let value = try integer(name, of: query, in: range) else {
            throw HTTPError(.badRequest, message: usage)
        }
        return value
    }

    /// The `redeem-leaf` of a transfer route: the leaf of the redeem transaction.
    static func redeemLeaf(of query: Parameters) throws -> UInt64 {
        try requiredInteger(
            "redeem-leaf", of: query, in: 0...largest, usage: "give ?redeem-leaf=<leaf of the redeem transaction>")
    }

    /// The `direction` of a trace or export: `none` (the default), `backward` or `forward`.
    /// - Throws: a 400 `HTTPError` naming `direction` for any other value.
    static func direction(of query: Parameters) throws -> LedgerQueries.Direction {
        guard let text = query.get("direction") else { return .none }
        guard let direction = LedgerQueries.Direction(rawValue: text) else {
            throw HTTPError(
                .badRequest, message: "direction=\(text) is not a direction: give none, backward or forward")
        }
        return direction
    }
}
