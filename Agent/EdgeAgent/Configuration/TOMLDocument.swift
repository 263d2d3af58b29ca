/// A parsed TOML document, restricted to what the agent configuration uses.
///
/// Supported: comments, `[table]` and `[a.b]` headers, `[[array.of.tables]]`, bare and quoted
/// keys, dotted keys, basic and literal strings (single line), integers (decimal, `0x`, `0o`,
/// `0b`, with `_`), floats (with `inf` and `nan`), booleans, and single-line or multi-line
/// arrays of those. Not supported (refused with the line number): inline tables, multi-line
/// strings, dates as values (write them as strings), `[[a.b]]` inside an array of tables, and
/// integers beyond 64 bits. What it accepts it reads as TOML 1.0 does (checked against
/// Python's `tomllib` by `scripts/toml-differential.py`): a document it does not fully
/// understand is refused, never read differently.
public struct TOMLDocument: Sendable {
    /// A TOML value.
    public indirect enum Value: Sendable, Equatable {
        case string(String)
        case integer(Int64)
        case float(Double)
        case bool(Bool)
        case array([Value])
        case table([String: Value])
        case tableArray([[String: Value]])
    }

    /// A syntax error with its 1-based line.
    public struct SyntaxError: Error, CustomStringConvertible, Sendable {
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    /// The root table.
    public var root: [String: Value]

    /// Parses TOML text.
    /// - Throws: ``SyntaxError`` naming the line.
    public init(parsing text: String) throws {
        var root: [String: Value] = [:]
        var currentPath: [String] = []
        var definitions = Definitions()
        let lines = try Self.lines(of: text)
        var index = 0
        while index < lines.count {
            let lineNumber = index + 1
            let line = Self.stripComment(lines[index]).trimmingWhitespace()
            index += 1
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                currentPath = try Self.header(line, into: &root, definitions: &definitions, line: lineNumber)
                continue
            }
            guard let equals = Self.indexOfTopLevelEquals(line) else {
                throw SyntaxError(line: lineNumber, reason: "expected `key = value`")
            }
            let scalars = line.unicodeScalars
            let keyPath = try Self.parseKeyPath(String(String.UnicodeScalarView(scalars[..<equals])), line: lineNumber)
            var valueText = String(String.UnicodeScalarView(scalars[scalars.index(after: equals)...]))
                .trimmingWhitespace()
            // Multi-line arrays: keep reading until brackets balance.
            while valueText.hasPrefix("["), !Self.bracketsBalanced(valueText), index < lines.count {
                valueText += " " + Self.stripComment(lines[index]).trimmingWhitespace()
                index += 1
            }
            var scanner = Scanner(text: valueText, line: lineNumber)
            let value = try scanner.parseValue()
            scanner.skipSpaces()
            guard scanner.atEnd else { throw SyntaxError(line: lineNumber, reason: "unexpected text after the value") }
            try definitions.dottedKey(keyPath, in: currentPath, line: lineNumber)
            try Self.assign(&root, tablePath: currentPath, keyPath: keyPath, value: value, line: lineNumber)
        }
        self.root = root
    }

    /// The lines of `text`, split at LF (a CR before it is dropped), with any other control
    /// character than tab refused (TOML allows none, in strings or comments).
    static func lines(of text: String) throws -> [String] {
        let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
        return try lines.enumerated().map { offset, line in
            let content = line.last == "\r" ? line.dropLast() : line
            if let control = content.first(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
                throw SyntaxError(
                    line: offset + 1,
                    reason:
                        "control character U+\(String(control.value, radix: 16, uppercase: true)) is not allowed; write it as an escape (\\u00XX) in a quoted string"
                )
            }
            return String(String.UnicodeScalarView(content))
        }
    }

    /// Parses a `[table]` or `[[array.of.tables]]` header line and creates what it names.
    /// - Returns: the path of the table the following keys go to.
    static func header(
        _ line: String, into root: inout [String: Value], definitions: inout Definitions, line lineNumber: Int
    ) throws -> [String] {
        let isArray = line.hasPrefix("[[")
        guard line.hasSuffix(isArray ? "]]" : "]") else {
            throw SyntaxError(line: lineNumber, reason: "unterminated \(isArray ? "[[table]]" : "[table]") header")
        }
        let inner = String(
            String.UnicodeScalarView(line.unicodeScalars.dropFirst(isArray ? 2 : 1).dropLast(isArray ? 2 : 1)))
        let path = try parseKeyPath(inner, line: lineNumber)
        if isArray {
            try appendTableArrayElement(&root, path: path, line: lineNumber)
            definitions.tableArrayElement(path)
        } else {
            try ensureTable(&root, path: path, line: lineNumber)
            try definitions.table(path, line: lineNumber)
        }
        return path
    }

    /// The tables defined so far, as TOML 1.0 rules them: a `[table]` is defined once, and a
    /// table that dotted keys created cannot be opened by a header or extended by dotted keys
    /// of a later section (what Python's `tomllib` tracks as its `EXPLICIT_NEST` flag).
    struct Definitions {
        var defined: Set<[String]> = []
        /// Tables created by dotted keys in the current section (defined when it ends).
        var pending: Set<[String]> = []

        mutating func table(_ path: [String], line: Int) throws {
            defined.formUnion(pending)
            pending = []
            guard defined.insert(path).inserted else {
                throw SyntaxError(line: line, reason: "table \(path.joined(separator: ".")) is defined twice")
            }
        }

        mutating func tableArrayElement(_ path: [String]) {
            defined.formUnion(pending)
            pending = []
            defined = defined.filter { !$0.starts(with: path) }
            defined.insert(path)
        }

        mutating func dottedKey(_ keyPath: [String], in table: [String], line: Int) throws {
            for count in keyPath.indices.dropFirst() {
                let container = table + keyPath.prefix(count)
                guard !defined.contains(container) else {
                    throw SyntaxError(
                        line: line,
                        reason:
                            "table \(container.joined(separator: ".")) is already defined; set its keys in its own section, not with a dotted key"
                    )
                }
                pending.insert(container)
            }
        }
    }

    // MARK: Lookup

    /// The value at a dotted path of table keys (`mqtt.port`), if present.
    public func value(_ path: String) -> Value? {
        var current: Value = .table(root)
        for component in path.split(separator: ".") {
            guard case .table(let table) = current, let next = table[String(component)] else { return nil }
            current = next
        }
        return current
    }

    // MARK: Parsing helpers

    static func stripComment(_ line: String) -> String {
        var inBasic = false, inLiteral = false, escaped = false
        for (offset, scalar) in line.unicodeScalars.enumerated() {
            if escaped { escaped = false; continue }
            switch scalar {
            case "\\" where inBasic: escaped = true
            case "\"" where !inLiteral: inBasic.toggle()
            case "'" where !inBasic: inLiteral.toggle()
            case "#" where !inBasic && !inLiteral:
                return String(String.UnicodeScalarView(line.unicodeScalars.prefix(offset)))
            default: break
            }
        }
        return line
    }

    /// The position of the `=` after the key, in `line.unicodeScalars`.
    static func indexOfTopLevelEquals(_ line: String) -> String.UnicodeScalarView.Index? {
        var inBasic = false, inLiteral = false, escaped = false
        let scalars = line.unicodeScalars
        var index = scalars.startIndex
        while index < scalars.endIndex {
            let scalar = scalars[index]
            if escaped {
                escaped = false
            } else if scalar == "\\" && inBasic {
                escaped = true
            } else if scalar == "\"" && !inLiteral {
                inBasic.toggle()
            } else if scalar == "'" && !inBasic {
                inLiteral.toggle()
            } else if scalar == "=" && !inBasic && !inLiteral {
                return index
            }
            index = scalars.index(after: index)
        }
        return nil
    }

    static func bracketsBalanced(_ text: String) -> Bool {
        var depth = 0, inBasic = false, inLiteral = false, escaped = false
        for scalar in text.unicodeScalars {
            if escaped { escaped = false; continue }
            switch scalar {
            case "\\" where inBasic: escaped = true
            case "\"" where !inLiteral: inBasic.toggle()
            case "'" where !inBasic: inLiteral.toggle()
            case "[" where !inBasic && !inLiteral: depth += 1
            case "]" where !inBasic && !inLiteral: depth -= 1
            default: break
            }
        }
        return depth <= 0
    }

    static func parseKeyPath(_ text: String, line: Int) throws -> [String] {
        var scanner = Scanner(text: text.trimmingWhitespace(), line: line)
        var path: [String] = []
        repeat {
            scanner.skipSpaces()
            path.append(try scanner.parseKey())
            scanner.skipSpaces()
        } while scanner.consume(".")
        guard scanner.atEnd, !path.isEmpty else { throw SyntaxError(line: line, reason: "invalid key \"\(text)\"") }
        return path
    }

    static func ensureTable(_ table: inout [String: Value], path: [String], line: Int) throws {
        guard let first = path.first else { return }
        var child: [String: Value]
        switch table[first] {
        case nil: child = [:]
        case .table(let existing): child = existing
        case .tableArray(var elements):
            guard path.count > 1 else {
                throw SyntaxError(
                    line: line, reason: "\(first) is an array of tables; add an element with [[\(first)]]")
            }
            guard !elements.isEmpty else { throw SyntaxError(line: line, reason: "empty table array \(first)") }
            var last = elements.removeLast()
            try ensureTable(&last, path: Array(path.dropFirst()), line: line)
            elements.append(last)
            table[first] = .tableArray(elements)
            return
        default: throw SyntaxError(line: line, reason: "\(first) is already a value, not a table")
        }
        try ensureTable(&child, path: Array(path.dropFirst()), line: line)
        table[first] = .table(child)
    }

    static func appendTableArrayElement(_ table: inout [String: Value], path: [String], line: Int) throws {
        guard let first = path.first else { return }
        if path.count == 1 {
            switch table[first] {
            case nil: table[first] = .tableArray([[:]])
            case .tableArray(var elements):
                elements.append([:])
                table[first] = .tableArray(elements)
            default: throw SyntaxError(line: line, reason: "\(first) is already defined and is not an array of tables")
            }
            return
        }
        try withTable(at: first, in: &table, line: line, refusing: "\(first) is not a table") {
            try appendTableArrayElement(&$0, path: Array(path.dropFirst()), line: line)
        }
    }

    /// Runs `body` on the table at `key` (a new one when there is none) and stores it back; any
    /// other value there is refused with `reason`.
    static func withTable(
        at key: String, in table: inout [String: Value], line: Int, refusing reason: @autoclosure () -> String,
        _ body: (inout [String: Value]) throws -> Void
    ) throws {
        var child: [String: Value]
        switch table[key] {
        case nil: child = [:]
        case .table(let existing): child = existing
        default: throw SyntaxError(line: line, reason: reason())
        }
        try body(&child)
        table[key] = .table(child)
    }

    static func assign(
        _ root: inout [String: Value], tablePath: [String], keyPath: [String], value: Value, line: Int
    ) throws {
        func set(_ table: inout [String: Value], _ path: ArraySlice<String>) throws {
            let key = path.first!
            if path.count == 1 {
                guard table[key] == nil else { throw SyntaxError(line: line, reason: "key \(key) is defined twice") }
                table[key] = value
                return
            }
            try withTable(at: key, in: &table, line: line, refusing: "\(key) is a value, not a table") {
                try set(&$0, path.dropFirst())
            }
        }
        func descend(_ table: inout [String: Value], _ path: ArraySlice<String>) throws {
            guard let key = path.first else {
                try set(&table, keyPath[...])
                return
            }
            switch table[key] {
            case .table(var child):
                try descend(&child, path.dropFirst())
                table[key] = .table(child)
            case .tableArray(var elements) where !elements.isEmpty:
                var last = elements.removeLast()
                try descend(&last, path.dropFirst())
                elements.append(last)
                table[key] = .tableArray(elements)
            default:
                var child: [String: Value] = [:]
                try descend(&child, path.dropFirst())
                table[key] = .table(child)
            }
        }
        try descend(&root, tablePath[...])
    }

    struct Scanner {
        var scalars: [Unicode.Scalar]
        var position = 0
        var line: Int

        init(text: String, line: Int) {
            scalars = Array(text.unicodeScalars)
            self.line = line
        }

        var atEnd: Bool { position >= scalars.count }
        var current: Unicode.Scalar? { atEnd ? nil : scalars[position] }

        mutating func skipSpaces() {
            while let scalar = current, scalar == " " || scalar == "\t" { position += 1 }
        }

        mutating func consume(_ scalar: Unicode.Scalar) -> Bool {
            if current == scalar {
                position += 1
                return true
            }
            return false
        }

        func error(_ reason: String) -> SyntaxError { SyntaxError(line: line, reason: reason) }

        /// A bare key is ASCII letters, digits, `_` and `-` (TOML 1.0); others are quoted.
        mutating func parseKey() throws -> String {
            if current == "\"" { return try parseBasicString() }
            if current == "'" { return try parseLiteralString() }
            var key = String.UnicodeScalarView()
            while let scalar = current,
                scalar.properties.isASCIIHexDigit || ("g"..."z").contains(scalar)
                    || ("G"..."Z").contains(scalar) || scalar == "_" || scalar == "-"
            {
                key.append(scalar)
                position += 1
            }
            guard !key.isEmpty else { throw error("expected a key (bare keys are A-Z a-z 0-9 _ -; quote others)") }
            return String(key)
        }

        mutating func parseValue() throws -> Value {
            skipSpaces()
            guard let scalar = current else { throw error("missing value") }
            switch scalar {
            case "\"":
                if scalars.count > position + 2, scalars[position + 1] == "\"", scalars[position + 2] == "\"" {
                    throw error("multi-line strings are not supported")
                }
                return .string(try parseBasicString())
            case "'":
                if scalars.count > position + 2, scalars[position + 1] == "'", scalars[position + 2] == "'" {
                    throw error("multi-line strings are not supported")
                }
                return .string(try parseLiteralString())
            case "[": return try parseArray()
            case "{": throw error("inline tables are not supported; use a [table] section")
            default: return try parseWord()
            }
        }

        mutating func parseArray() throws -> Value {
            position += 1
            var items: [Value] = []
            while true {
                skipSpaces()
                if consume("]") { return .array(items) }
                items.append(try parseValue())
                skipSpaces()
                if consume(",") { continue }
                skipSpaces()
                if consume("]") { return .array(items) }
                throw error("expected , or ] in array")
            }
        }

        /// A boolean or a number: the text up to a space, tab, `,` or `]`.
        mutating func parseWord() throws -> Value {
            var text = String.UnicodeScalarView()
            while let scalar = current, !(scalar == " " || scalar == "\t" || scalar == "," || scalar == "]") {
                text.append(scalar)
                position += 1
            }
            let word = String(text)
            if word == "true" { return .bool(true) }
            if word == "false" { return .bool(false) }
            guard let number = TOMLNumber.parse(word) else {
                throw error(
                    "invalid value \"\(word)\" (strings need quotes; dates are written as strings; integers fit in 64 bits)"
                )
            }
            return number
        }

        mutating func parseBasicString() throws -> String {
            position += 1
            var result = String.UnicodeScalarView()
            while let scalar = current {
                position += 1
                switch scalar {
                case "\"": return String(result)
                case "\\": result.append(try parseEscape())
                default: result.append(scalar)
                }
            }
            throw error("unterminated string")
        }

        /// The scalar of the escape after a backslash in a basic string.
        mutating func parseEscape() throws -> Unicode.Scalar {
            guard let escaped = current else { throw error("unterminated escape") }
            position += 1
            switch escaped {
            case "n": return "\n"
            case "t": return "\t"
            case "r": return "\r"
            case "b": return "\u{08}"
            case "f": return "\u{0C}"
            case "\\": return "\\"
            case "\"": return "\""
            case "u", "U":
                let count = escaped == "u" ? 4 : 8
                guard position + count <= scalars.count,
                    scalars[position..<(position + count)].allSatisfy(\.properties.isASCIIHexDigit),
                    let code = UInt32(
                        String(String.UnicodeScalarView(scalars[position..<(position + count)])), radix: 16),
                    let scalar = Unicode.Scalar(code)
                else { throw error("invalid unicode escape (\\u and 4 or \\U and 8 hex digits of a scalar value)") }
                position += count
                return scalar
            default: throw error("invalid escape \\\(escaped)")
            }
        }

        mutating func parseLiteralString() throws -> String {
            position += 1
            var result = String.UnicodeScalarView()
            while let scalar = current {
                position += 1
                if scalar == "'" { return String(result) }
                result.append(scalar)
            }
            throw error("unterminated string")
        }
    }
}

/// TOML 1.0 integers and floats, checked against the grammar before they are converted (the
/// standard library's parsers also take forms TOML refuses: `007`, `1.`, `0x1p3`, `+0x1`).
enum TOMLNumber {
    static func parse(_ word: String) -> TOMLDocument.Value? {
        var text = Substring(word)
        let sign = text.first == "+" || text.first == "-" ? text.removeFirst() : nil
        if text == "inf" || text == "nan" {
            let magnitude = text == "inf" ? Double.infinity : Double.nan
            return .float(sign == "-" ? -magnitude : magnitude)
        }
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where text.hasPrefix(prefix) {
            let digits = text.dropFirst(2)
            guard sign == nil, isDigits(digits, radix: radix) else { return nil }
            return Int64(digits.filter { $0 != "_" }, radix: radix).map { .integer($0) }
        }
        let integerEnd = text.firstIndex { $0 == "." || $0 == "e" || $0 == "E" } ?? text.endIndex
        let integer = text[..<integerEnd]
        guard isDigits(integer, radix: 10), integer == "0" || !integer.hasPrefix("0") else { return nil }
        if integerEnd == text.endIndex {
            return Int64(word.filter { $0 != "_" }).map { .integer($0) }
        }
        var rest = text[integerEnd...]
        if rest.first == "." {
            let fractionEnd = rest.firstIndex { $0 == "e" || $0 == "E" } ?? rest.endIndex
            guard isDigits(rest.dropFirst()[..<fractionEnd], radix: 10) else { return nil }
            rest = rest[fractionEnd...]
        }
        if let marker = rest.first {
            guard marker == "e" || marker == "E" else { return nil }
            var exponent = rest.dropFirst()
            if exponent.first == "+" || exponent.first == "-" { exponent = exponent.dropFirst() }
            guard isDigits(exponent, radix: 10) else { return nil }
        }
        return Double(word.filter { $0 != "_" }).map { .float($0) }
    }

    /// Digits of `radix` with single underscores between digits.
    static func isDigits(_ text: Substring, radix: Int) -> Bool {
        guard let first = text.first, let last = text.last, first != "_", last != "_" else { return false }
        var previousUnderscore = false
        for character in text {
            if character == "_" {
                if previousUnderscore { return false }
                previousUnderscore = true
                continue
            }
            guard character.isASCII, character.hexDigitValue.map({ $0 < radix }) == true else { return false }
            previousUnderscore = false
        }
        return true
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first == " " || first == "\t" || first == "\r" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" || last == "\r" { scalars.removeLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
