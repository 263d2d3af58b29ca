/// Exact RFC 3339 parsing and formatting of ``Timestamp``s with integer arithmetic.
///
/// Going through `Date` (a `Double` of seconds) can land a millisecond low; these functions
/// never do. Parsing takes `YYYY-MM-DDTHH:MM:SS[.f…]` followed by `Z` or `±HH:MM` (fractions
/// beyond milliseconds are truncated) and checks the calendar date; formatting writes
/// `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC.
public enum RFC3339 {
    /// Epoch milliseconds of an RFC 3339 date-time, or nil if `bytes` is not one.
    public static func milliseconds(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        let b = bytes
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
        guard b.count >= 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x74, b[13] == 0x3A, b[16] == 0x3A,
            let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2),
            let hour = digits(11, 2), let minute = digits(14, 2), let second = digits(17, 2),
            year >= 1, (1...12).contains(month), hour < 24, minute < 60, second < 60,
            day >= 1, day <= daysInMonth(year: year, month: month)
        else { return nil }
        var index = 19
        var fraction: Int64 = 0
        if b[index] == 0x2E {
            index += 1
            var scale: Int64 = 100
            let start = index
            while index < b.count, b[index] >= 0x30, b[index] <= 0x39 {
                fraction += Int64(b[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        var offsetMinutes: Int64 = 0
        guard index < b.count else { return nil }
        if b[index] == 0x5A || b[index] == 0x7A {
            index += 1
        } else if b[index] == 0x2B || b[index] == 0x2D {
            guard index + 6 <= b.count, b[index + 3] == 0x3A, let offsetHour = digits(index + 1, 2),
                let offsetMinute = digits(index + 4, 2), offsetHour < 24, offsetMinute < 60
            else { return nil }
            offsetMinutes = (offsetHour * 60 + offsetMinute) * (b[index] == 0x2B ? 1 : -1)
            index += 6
        } else {
            return nil
        }
        guard index == b.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return ((days * 86_400 + hour * 3_600 + minute * 60 + second) - offsetMinutes * 60) * 1_000 + fraction
    }

    /// Epoch milliseconds of an RFC 3339 date-time string, or nil.
    public static func milliseconds(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { milliseconds($0) }
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` of epoch milliseconds (years 0001-9999).
    public static func format(_ milliseconds: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        append(milliseconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the UTF-8 of ``format(_:)`` to `bytes` without making a string (exports
    /// writing a time per row).
    public static func append(_ milliseconds: Int64, to bytes: inout [UInt8]) {
        let millis = ((milliseconds % 1000) + 1000) % 1000
        let totalSeconds = (milliseconds - millis) / 1000
        let secondsOfDay = ((totalSeconds % 86_400) + 86_400) % 86_400
        let days = (totalSeconds - secondsOfDay) / 86_400
        let (year, month, day) = civilFromDays(days)
        appendPadded(year, 4, then: "-", to: &bytes)
        appendPadded(month, 2, then: "-", to: &bytes)
        appendPadded(day, 2, then: "T", to: &bytes)
        appendPadded(secondsOfDay / 3600, 2, then: ":", to: &bytes)
        appendPadded(secondsOfDay / 60 % 60, 2, then: ":", to: &bytes)
        appendPadded(secondsOfDay % 60, 2, then: ".", to: &bytes)
        appendPadded(millis, 3, then: "Z", to: &bytes)
    }

    /// `value` in decimal left-padded with zeros to `width` characters (a longer value, or a
    /// negative one with its sign, as `String(value)` writes it after the zeros), then `separator`.
    static func appendPadded(_ value: Int64, _ width: Int, then separator: Unicode.Scalar, to bytes: inout [UInt8]) {
        defer { bytes.append(UInt8(ascii: separator)) }
        guard value >= 0 else {
            let text = String(value).utf8
            bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: max(0, width - text.count)))
            bytes.append(contentsOf: text)
            return
        }
        let start = bytes.count
        var rest = value
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        while bytes.count - start < width { bytes.append(UInt8(ascii: "0")) }
        bytes[start...].reverse()
    }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01.
    static func civilFromDays(_ days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
