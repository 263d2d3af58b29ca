import AgriTraceCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A strict RFC 8259 parser from UTF-8 bytes to ``JSONValue``, about 20 times faster than
/// going through `JSONDecoder` on Linux (which builds and throws an error for every type it
/// tries). Numbers become `Double`; nesting is limited. Stricter than RFC 8259 where a
/// reading could be misread (I-JSON, RFC 7493): a key given twice in an object is refused,
/// and so is a number a `Double` cannot hold (see ``NumberProblem``).
public struct JSONLineParser {
    /// Why a line is not accepted JSON (callers report `malformed-json`, or, for a duplicate
    /// key or an unrepresentable number, the key path in ``path``).
    public struct SyntaxError: Error, Equatable {
        public var offset: Int
        public var reason: String
        /// What kind of problem it is.
        public var problem: Problem = .syntax
        /// Where it is: object keys and `[index]` components, outermost first.
        public var path: [String] = []

        /// The path as readings name fields: `fields.temperature_humidity[0].value`.
        public var pathText: String {
            var text = ""
            for component in path {
                if component.hasPrefix("[") || text.isEmpty { text += component } else { text += "." + component }
            }
            return text
        }
    }

    /// The kinds of ``SyntaxError``.
    public enum Problem: Equatable, Sendable {
        case syntax
        /// The key appears twice in one object.
        case duplicateKey(String)
        /// The number (its text) cannot be held by a `Double` as written.
        case number(String, NumberProblem)
    }

    /// Numbers refused although RFC 8259 grammar allows them.
    public enum NumberProblem: Equatable, Sendable {
        /// Beyond ±1.8e308.
        case overflow
        /// Not zero, but smaller in magnitude than the smallest `Double` (it would read as 0).
        case underflow
        /// An integer written without a fraction or exponent beyond ±2^53: it would be rounded.
        case inexactInteger

        /// What is wrong with `text`.
        public func reason(_ text: String) -> String {
            switch self {
            case .overflow: "\(text) overflows: it is larger than any number a reading holds (about 1.8e308)"
            case .underflow:
                "\(text) underflows: it is not zero but smaller than any number a reading holds (about 4.9e-324), so it would read as 0"
            case .inexactInteger:
                "\(text) has more digits than a number holds exactly (whole numbers up to 9007199254740992, 2^53), so it would be rounded"
            }
        }
    }

    /// The largest integer a `Double` holds with every smaller one: 2^53, in decimal.
    static let largestExactInteger = Array("9007199254740992".utf8)

    /// Nesting deeper than this is refused (readings need 4 levels).
    public static let maximumDepth = 64

    /// Parses one JSON text (surrounding whitespace allowed).
    public static func parse(_ bytes: [UInt8]) throws(SyntaxError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer throws(SyntaxError) -> JSONValue in
            var parser = Cursor(bytes: buffer)
            parser.skipWhitespace()
            let value = try parser.parseValue(depth: 0)
            parser.skipWhitespace()
            guard parser.position == buffer.count else {
                throw SyntaxError(offset: parser.position, reason: "text after the value")
            }
            return value
        }
    }

    /// Parses and validates a reading line as `Reading.parse(jsonLine:catalog:)` does, faster,
    /// and stricter: duplicate keys, numbers a `Double` cannot hold as written, and times
    /// outside ``ReadingTimeWindow`` are refused, naming the field.
    public static func reading(_ bytes: [UInt8], catalog: FieldCatalog) throws(ReadingError) -> Reading {
        let value: JSONValue
        do {
            value = try parse(bytes)
        } catch {
            if let refusal = readingError(error) { throw refusal }
            throw ReadingError(
                kind: .malformedJSON, field: nil, stage: nil,
                reason: "the line is not valid JSON (\(error.reason) at byte \(error.offset))",
                fix:
                    "write one JSON object per line, e.g. {\"stage\":\"planting\",\"lot\":\"PL-1\",\"product\":\"fresh corn\",\"time\":\"2026-05-01T08:00:00Z\",\"fields\":{}}"
            )
        }
        let reading: Reading
        do {
            reading = try Reading.parse(json: TimeFastPath.rewrite(value, catalog: catalog), catalog: catalog)
        } catch {
            throw ReadingTimeWindow.clarified(error)
        }
        try ReadingTimeWindow.check(reading)
        return reading
    }

    /// The reading error for a duplicate key or an unrepresentable number at `error.path`.
    static func readingError(_ error: SyntaxError) -> ReadingError? {
        let field = error.pathText
        switch error.problem {
        case .syntax:
            return nil
        case .duplicateKey(let key):
            return ReadingError(
                kind: .malformedJSON, field: field, stage: nil,
                reason: "the key \"\(key)\" appears twice in one object; a reading names each key once",
                fix: "remove one of the two \"\(key)\" entries (JSON parsers disagree on which one wins)")
        case .number(let text, let problem):
            let isTime = error.path.last == "time" || field.hasSuffix("_time")
            return ReadingError(
                kind: .invalidValue, field: field, stage: nil, reason: problem.reason(text),
                fix: isTime
                    ? ReadingTimeWindow.fix
                    : "give a number a reading holds exactly (whole numbers up to 2^53, magnitudes from about 2.2e-308 to 1.8e308), or an identifier as text"
            )
        }
    }

    struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        func error(_ reason: String) -> SyntaxError { SyntaxError(offset: position, reason: reason) }

        mutating func skipWhitespace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return
                }
            }
        }

        mutating func expect(_ literal: StaticString) throws(SyntaxError) {
            let count = literal.utf8CodeUnitCount
            guard position + count <= bytes.count else { throw error("truncated literal") }
            let start = literal.utf8Start
            for index in 0..<count where bytes[position + index] != start[index] { throw error("invalid literal") }
            position += count
        }

        mutating func parseValue(depth: Int) throws(SyntaxError) -> JSONValue {
            guard depth < JSONLineParser.maximumDepth else { throw error("nesting too deep") }
            guard position < bytes.count else { throw error("unexpected end") }
            switch bytes[position] {
            case UInt8(ascii: "{"): return try parseObject(depth: depth)
            case UInt8(ascii: "["): return try parseArray(depth: depth)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
            default: throw error("unexpected character")
            }
        }

        mutating func parseObject(depth: Int) throws(SyntaxError) -> JSONValue {
            if openEmpty(closing: UInt8(ascii: "}")) { return .object([:]) }
            var object: [String: JSONValue] = [:]
            while true {
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                    throw error("expected a key")
                }
                let key = try parseString()
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("expected ':'") }
                position += 1
                skipWhitespace()
                let value: JSONValue
                do { value = try parseValue(depth: depth + 1) } catch { throw error.inside(key) }
                guard object.updateValue(value, forKey: key) == nil else {
                    throw SyntaxError(
                        offset: position, reason: "duplicate key", problem: .duplicateKey(key), path: [key])
                }
                if try endOfMember(closing: UInt8(ascii: "}"), in: "object") { return .object(object) }
            }
        }

        mutating func parseArray(depth: Int) throws(SyntaxError) -> JSONValue {
            if openEmpty(closing: UInt8(ascii: "]")) { return .array([]) }
            var items: [JSONValue] = []
            while true {
                skipWhitespace()
                do { items.append(try parseValue(depth: depth + 1)) } catch { throw error.inside("[\(items.count)]") }
                if try endOfMember(closing: UInt8(ascii: "]"), in: "array") { return .array(items) }
            }
        }

        /// Steps past an object's or array's opening bracket; true (and past `closing` too) when
        /// the container is empty.
        mutating func openEmpty(closing: UInt8) -> Bool {
            position += 1
            skipWhitespace()
            guard position < bytes.count, bytes[position] == closing else { return false }
            position += 1
            return true
        }

        /// After a member of an object or an element of an array: true past `closing` (the
        /// container ends), false past a comma (another follows); anything else is refused.
        mutating func endOfMember(closing: UInt8, in container: String) throws(SyntaxError) -> Bool {
            skipWhitespace()
            guard position < bytes.count else { throw error("unterminated \(container)") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                return false
            }
            guard bytes[position] == closing else {
                throw error("expected ',' or '\(Character(Unicode.Scalar(closing)))'")
            }
            position += 1
            return true
        }

        mutating func hexDigit() throws(SyntaxError) -> UInt32 {
            guard position < bytes.count else { throw error("truncated escape") }
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid \\u escape")
            }
        }

        mutating func hex4() throws(SyntaxError) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 { value = value << 4 | (try hexDigit()) }
            return value
        }

        mutating func parseString() throws(SyntaxError) -> String {
            position += 1
            let start = position
            // Fast path: no escapes.
            position = bytes.plainJSONStringEnd(from: start)
            if position < bytes.count, bytes[position] == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<position])
                position += 1
                guard let text = UTF8Text.string(validating: slice) else { throw error("invalid UTF-8") }
                return text
            }
            if position < bytes.count, bytes[position] < 0x20 { throw error("control character in string") }
            var scratch = Array(UnsafeBufferPointer(rebasing: bytes[start..<position]))
            while position < bytes.count {
                let byte = bytes[position]
                position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard let text = scratch.withUnsafeBufferPointer({ UTF8Text.string(validating: $0) }) else {
                        throw error("invalid UTF-8")
                    }
                    return text
                case UInt8(ascii: "\\"):
                    guard position < bytes.count else { throw error("truncated escape") }
                    let escape = bytes[position]
                    position += 1
                    switch escape {
                    case UInt8(ascii: "\""): scratch.append(0x22)
                    case UInt8(ascii: "\\"): scratch.append(0x5C)
                    case UInt8(ascii: "/"): scratch.append(0x2F)
                    case UInt8(ascii: "b"): scratch.append(0x08)
                    case UInt8(ascii: "f"): scratch.append(0x0C)
                    case UInt8(ascii: "n"): scratch.append(0x0A)
                    case UInt8(ascii: "r"): scratch.append(0x0D)
                    case UInt8(ascii: "t"): scratch.append(0x09)
                    case UInt8(ascii: "u"):
                        var code = try hex4()
                        if (0xD800...0xDBFF).contains(code) {
                            guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                                bytes[position + 1] == UInt8(ascii: "u")
                            else {
                                throw error("unpaired surrogate")
                            }
                            position += 2
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw error("unpaired surrogate") }
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00...0xDFFF).contains(code) {
                            throw error("unpaired surrogate")
                        }
                        guard let scalar = Unicode.Scalar(code) else { throw error("invalid code point") }
                        scratch.append(contentsOf: Array(String(Character(scalar)).utf8))
                    default: throw error("invalid escape")
                    }
                default:
                    if byte < 0x20 { throw error("control character in string") }
                    scratch.append(byte)
                }
            }
            throw error("unterminated string")
        }

        mutating func parseNumber() throws(SyntaxError) -> Double {
            let start = position
            if bytes[position] == UInt8(ascii: "-") { position += 1 }
            func digits(_ cursor: inout Cursor) -> Int {
                let begin = cursor.position
                while cursor.position < cursor.bytes.count,
                    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(cursor.bytes[cursor.position])
                { cursor.position += 1 }
                return cursor.position - begin
            }
            guard position < bytes.count else { throw error("truncated number") }
            let integerStart = position
            if bytes[position] == UInt8(ascii: "0") {
                position += 1
            } else if digits(&self) == 0 {
                throw error("invalid number")
            }
            let integerDigits = UnsafeBufferPointer(rebasing: bytes[integerStart..<position])
            var isInteger = true
            if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
                position += 1
                isInteger = false
                guard digits(&self) > 0 else { throw error("invalid number") }
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
                position += 1
                isInteger = false
                if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")
                {
                    position += 1
                }
                guard digits(&self) > 0 else { throw error("invalid number") }
            }
            var text = [CChar](repeating: 0, count: position - start + 1)
            for index in start..<position { text[index - start] = CChar(bitPattern: bytes[index]) }
            let value = strtod(text, nil)
            if let problem = JSONLineParser.numberProblem(
                value, isInteger: isInteger, integerDigits: integerDigits,
                literal: UnsafeBufferPointer(rebasing: bytes[start..<position]))
            {
                let literal = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
                throw SyntaxError(offset: start, reason: "number", problem: .number(literal, problem))
            }
            return value
        }
    }

    /// Why `value`, read by `strtod` from `literal`, does not stand for what was written (nil
    /// when it does): infinite, zero from non-zero digits, or an integer beyond 2^53.
    static func numberProblem(
        _ value: Double, isInteger: Bool, integerDigits: UnsafeBufferPointer<UInt8>,
        literal: UnsafeBufferPointer<UInt8>
    ) -> NumberProblem? {
        if !value.isFinite { return .overflow }
        if value == 0 {
            let mantissa = literal.prefix { $0 != UInt8(ascii: "e") && $0 != UInt8(ascii: "E") }
            return mantissa.contains { $0 >= UInt8(ascii: "1") && $0 <= UInt8(ascii: "9") } ? .underflow : nil
        }
        if isInteger, exceedsExactIntegers(integerDigits) { return .inexactInteger }
        return nil
    }

    /// Whether the decimal `digits` (no sign, no leading zero) exceed 2^53.
    static func exceedsExactIntegers(_ digits: UnsafeBufferPointer<UInt8>) -> Bool {
        let limit = largestExactInteger
        if digits.count != limit.count { return digits.count > limit.count }
        return limit.lexicographicallyPrecedes(digits)
    }
}

extension JSONLineParser.SyntaxError {
    /// The same error one level further in: `component` (a key or `[index]`) goes in front of its path.
    func inside(_ component: String) -> Self {
        var copy = self
        if copy.problem != .syntax { copy.path.insert(component, at: 0) }
        return copy
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// Where the run of plain JSON string bytes from `start` stops: at the first quote,
    /// backslash or control character, or at the end. Both intake parsers scan strings with it.
    @inline(__always)
    func plainJSONStringEnd(from start: Int) -> Int {
        var index = start
        while index < count {
            let byte = self[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            index += 1
        }
        return index
    }
}
