/// A parsed TOML document, restricted to what the agent configuration uses.
///
/// Supported: comments, `[table]` and `[a.b]` headers, `[[array.of.tables]]`, bare and quoted
/// keys, dotted keys, basic and literal strings (single line), integers (with `_`), floats,
/// booleans, and single-line or multi-line arrays of those. Not supported (refused with the
/// line number): inline tables, multi-line strings, dates as values (write them as strings).
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
        var currentIsArrayElement = false
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var index = 0
        while index < lines.count {
            let lineNumber = index + 1
            var line = Self.stripComment(lines[index]).trimmingWhitespace()
            index += 1
            if line.isEmpty { continue }
            if line.hasPrefix("[[") {
                guard line.hasSuffix("]]") else {
                    throw SyntaxError(line: lineNumber, reason: "unterminated [[table]] header")
                }
                let path = try Self.parseKeyPath(String(line.dropFirst(2).dropLast(2)), line: lineNumber)
                try Self.appendTableArrayElement(&root, path: path, line: lineNumber)
                currentPath = path
                currentIsArrayElement = true
                continue
            }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else {
                    throw SyntaxError(line: lineNumber, reason: "unterminated [table] header")
                }
                currentPath = try Self.parseKeyPath(String(line.dropFirst().dropLast()), line: lineNumber)
                currentIsArrayElement = false
                try Self.ensureTable(&root, path: currentPath, line: lineNumber)
                continue
            }
            guard let equals = Self.indexOfTopLevelEquals(line) else {
                throw SyntaxError(line: lineNumber, reason: "expected `key = value`")
            }
            let keyPath = try Self.parseKeyPath(String(line[..<equals]), line: lineNumber)
            var valueText = String(line[line.index(after: equals)...]).trimmingWhitespace()
            // Multi-line arrays: keep reading until brackets balance.
            while valueText.hasPrefix("["), !Self.bracketsBalanced(valueText), index < lines.count {
                valueText += " " + Self.stripComment(lines[index]).trimmingWhitespace()
                index += 1
            }
            var scanner = Scanner(text: valueText, line: lineNumber)
            let value = try scanner.parseValue()
            scanner.skipSpaces()
            guard scanner.atEnd else { throw SyntaxError(line: lineNumber, reason: "unexpected text after the value") }
            try Self.assign(
                &root, tablePath: currentPath, arrayElement: currentIsArrayElement, keyPath: keyPath, value: value,
                line: lineNumber)
            line = ""
        }
        self.root = root
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
        for (offset, character) in line.enumerated() {
            if escaped { escaped = false; continue }
            switch character {
            case "\\" where inBasic: escaped = true
            case "\"" where !inLiteral: inBasic.toggle()
            case "'" where !inBasic: inLiteral.toggle()
            case "#" where !inBasic && !inLiteral: return String(line.prefix(offset))
            default: break
            }
        }
        return line
    }

    static func indexOfTopLevelEquals(_ line: String) -> String.Index? {
        var inBasic = false, inLiteral = false
        var index = line.startIndex
        while index < line.endIndex {
            let character = line[index]
            if character == "\"" && !inLiteral { inBasic.toggle() }
            if character == "'" && !inBasic { inLiteral.toggle() }
            if character == "=" && !inBasic && !inLiteral { return index }
            index = line.index(after: index)
        }
        return nil
    }

    static func bracketsBalanced(_ text: String) -> Bool {
        var depth = 0, inBasic = false, inLiteral = false, escaped = false
        for character in text {
            if escaped { escaped = false; continue }
            switch character {
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
        var child: [String: Value]
        switch table[first] {
        case nil: child = [:]
        case .table(let existing): child = existing
        default: throw SyntaxError(line: line, reason: "\(first) is not a table")
        }
        try appendTableArrayElement(&child, path: Array(path.dropFirst()), line: line)
        table[first] = .table(child)
    }

    static func assign(
        _ root: inout [String: Value], tablePath: [String], arrayElement: Bool, keyPath: [String], value: Value,
        line: Int
    ) throws {
        func set(_ table: inout [String: Value], _ path: ArraySlice<String>) throws {
            let key = path.first!
            if path.count == 1 {
                guard table[key] == nil else { throw SyntaxError(line: line, reason: "key \(key) is defined twice") }
                table[key] = value
                return
            }
            var child: [String: Value]
            switch table[key] {
            case nil: child = [:]
            case .table(let existing): child = existing
            default: throw SyntaxError(line: line, reason: "\(key) is a value, not a table")
            }
            try set(&child, path.dropFirst())
            table[key] = .table(child)
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
        _ = arrayElement
        try descend(&root, tablePath[...])
    }

    struct Scanner {
        var characters: [Character]
        var position = 0
        var line: Int

        init(text: String, line: Int) {
            characters = Array(text)
            self.line = line
        }

        var atEnd: Bool { position >= characters.count }
        var current: Character? { atEnd ? nil : characters[position] }

        mutating func skipSpaces() {
            while let character = current, character == " " || character == "\t" { position += 1 }
        }

        mutating func consume(_ character: Character) -> Bool {
            if current == character {
                position += 1
                return true
            }
            return false
        }

        func error(_ reason: String) -> SyntaxError { SyntaxError(line: line, reason: reason) }

        mutating func parseKey() throws -> String {
            if current == "\"" { return try parseBasicString() }
            if current == "'" { return try parseLiteralString() }
            var key = ""
            while let character = current,
                character.isLetter || character.isNumber || character == "_" || character == "-"
            {
                key.append(character)
                position += 1
            }
            guard !key.isEmpty else { throw error("expected a key") }
            return key
        }

        mutating func parseValue() throws -> Value {
            skipSpaces()
            guard let character = current else { throw error("missing value") }
            switch character {
            case "\"":
                if characters.count > position + 2, characters[position + 1] == "\"", characters[position + 2] == "\"" {
                    throw error("multi-line strings are not supported")
                }
                return .string(try parseBasicString())
            case "'": return .string(try parseLiteralString())
            case "[": return try parseArray()
            case "{": throw error("inline tables are not supported; use a [table] section")
            case "t", "f":
                let rest = String(characters[position...])
                if rest.hasPrefix("true") { position += 4; return .bool(true) }
                if rest.hasPrefix("false") { position += 5; return .bool(false) }
                throw error("invalid value")
            default: return try parseNumber()
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

        mutating func parseNumber() throws -> Value {
            var text = ""
            while let character = current,
                !(character == " " || character == "\t" || character == "," || character == "]")
            {
                text.append(character)
                position += 1
            }
            let cleaned = String(text.filter { $0 != "_" })
            if let integer = Int64(cleaned) { return .integer(integer) }
            if cleaned.hasPrefix("0x"), let integer = Int64(cleaned.dropFirst(2), radix: 16) {
                return .integer(integer)
            }
            if let float = Double(cleaned), cleaned.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
                return .float(float)
            }
            throw error("invalid value \"\(text)\" (strings need quotes; dates are written as strings)")
        }

        mutating func parseBasicString() throws -> String {
            position += 1
            var result = ""
            while let character = current {
                position += 1
                switch character {
                case "\"": return result
                case "\\":
                    guard let escaped = current else { throw error("unterminated escape") }
                    position += 1
                    switch escaped {
                    case "n": result.append("\n")
                    case "t": result.append("\t")
                    case "r": result.append("\r")
                    case "\\": result.append("\\")
                    case "\"": result.append("\"")
                    case "u", "U":
                        let count = escaped == "u" ? 4 : 8
                        guard position + count <= characters.count,
                            let code = UInt32(String(characters[position..<(position + count)]), radix: 16),
                            let scalar = Unicode.Scalar(code)
                        else { throw error("invalid unicode escape") }
                        result.unicodeScalars.append(scalar)
                        position += count
                    default: throw error("invalid escape \\\(escaped)")
                    }
                default: result.append(character)
                }
            }
            throw error("unterminated string")
        }

        mutating func parseLiteralString() throws -> String {
            position += 1
            var result = ""
            while let character = current {
                position += 1
                if character == "'" { return result }
                result.append(character)
            }
            throw error("unterminated string")
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" || first == "\r" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" || last == "\r" { scalars.removeLast() }
        return String(scalars)
    }
}
