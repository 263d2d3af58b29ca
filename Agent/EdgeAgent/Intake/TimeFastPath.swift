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

    static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        func digits(_ start: Int, _ count: Int) -> Int64? {
            guard start + count <= b.count else { return nil }
            var value: Int64 = 0
            for index in start..<(start + count) {
                let byte = b[index]
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            return value
        }
        guard b.count >= 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A,
            let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2),
            let hour = digits(11, 2), let minute = digits(14, 2), let second = digits(17, 2),
            year >= 1, (1...12).contains(month), hour < 24, minute < 60, second < 60
        else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let monthDays: [Int64] = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard day >= 1, day <= monthDays[Int(month - 1)] else { return nil }
        var index = 19
        var fraction: Int64 = 0
        if b[index] == 0x2E {
            guard let value = digits(index + 1, 3) else { return nil }
            fraction = value
            index += 4
        }
        var offsetMinutes: Int64 = 0
        guard index < b.count else { return nil }
        if b[index] == 0x5A {
            index += 1
        } else if b[index] == 0x2B || b[index] == 0x2D {
            guard index + 6 <= b.count, b[index + 3] == 0x3A, let offsetHour = digits(index + 1, 2),
                let offsetMinute = digits(index + 4, 2),
                offsetHour < 24, offsetMinute < 60
            else { return nil }
            offsetMinutes = (offsetHour * 60 + offsetMinute) * (b[index] == 0x2B ? 1 : -1)
            index += 6
        } else {
            return nil
        }
        guard index == b.count else { return nil }
        // Days from the civil date (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return ((days * 86_400 + hour * 3_600 + minute * 60 + second) - offsetMinutes * 60) * 1_000 + fraction
    }

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
