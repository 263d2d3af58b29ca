import AgriTraceCore

/// Converts the common RFC 3339 form of reading times to epoch milliseconds before
/// validation, so `Reading.parse(json:)` takes its integer path instead of Foundation's
/// (slow on Linux) ISO 8601 parser.
///
/// Only `YYYY-MM-DDTHH:MM:SS[.fff]` followed by `Z` or `±HH:MM`, with a valid calendar
/// date, is converted; every other string is left as it is, for the shared parser to accept
/// or refuse with its own error.
enum TimeFastPath {
    /// Epoch milliseconds of `text`, or nil if it is not in the fast form.
    static func milliseconds(_ text: String) -> Int64? {
        var utf8 = text.utf8
        return utf8.withContiguousStorageIfAvailable { parse($0) }
            ?? {
                var copy = text
                copy.makeContiguousUTF8()
                utf8 = copy.utf8
                return utf8.withContiguousStorageIfAvailable { parse($0) } ?? nil
            }()
    }

    static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Int64? { RFC3339.milliseconds(b) }

    /// Rewrites the reading's time strings in place: `time`, fields of kind `time`, and the
    /// `time` of each series sample and track position.
    static func rewrite(_ value: JSONValue, catalog: FieldCatalog) -> JSONValue {
        guard case .object(var object) = value else { return value }
        func convert(_ item: JSONValue) -> JSONValue {
            if case .string(let text) = item, let milliseconds = milliseconds(text) {
                return .number(Double(milliseconds))
            }
            return item
        }
        if let time = object["time"] { object["time"] = convert(time) }
        guard case .string(let stageName)? = object["stage"], let stage = Stage(name: stageName),
            case .object(var fields)? = object["fields"]
        else { return .object(object) }
        for (name, raw) in fields {
            guard let definition = catalog.field(name, in: stage) else { continue }
            switch (definition.kind, raw) {
            case (.time, _):
                fields[name] = convert(raw)
            case (.series, .array(var items)), (.track, .array(var items)):
                for index in items.indices {
                    if case .object(var sample) = items[index], let time = sample["time"] {
                        sample["time"] = convert(time)
                        items[index] = .object(sample)
                    }
                }
                fields[name] = .array(items)
            default:
                continue
            }
        }
        object["fields"] = .object(fields)
        return .object(object)
    }
}
