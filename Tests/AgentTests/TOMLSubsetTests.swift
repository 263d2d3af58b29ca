import EdgeAgent
import Testing

/// The agent's TOML subset reads what it accepts as TOML 1.0 does, and refuses the rest: each
/// case here was read differently from Python's `tomllib` before (found by
/// `scripts/toml-differential.py`, RELIABILITY.md).
@Suite struct TOMLSubsetTests {
    static func parse(_ text: String) throws -> [String: TOMLDocument.Value] { try TOMLDocument(parsing: text).root }

    static func refuses(_ text: String, _ words: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let root = try parse(text)
            Issue.record("accepted \(text.debugDescription) as \(root)", sourceLocation: sourceLocation)
        } catch {
            #expect("\(error)".contains(words), "\(text.debugDescription): \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func windowsLineEndingsAreLineEndings() throws {
        #expect(try Self.parse("a = 1\r\nb = 'x'\r\n") == ["a": .integer(1), "b": .string("x")])
        Self.refuses("a = 1\rb = 2\n", "control character U+D")
    }

    @Test func numbersFollowTheTOMLGrammar() throws {
        for word in ["007", "0x-1", "-0x10", "+0x1", "1__0", "_1", "1_", "1.", ".5", "1.e5", "1._5", "0x1.8p1", "1e"] {
            Self.refuses("a = \(word)", "invalid value")
        }
        #expect(
            try Self.parse("a = 0o17\nb = 0b101\nc = 1_000\nd = -0.5e-3\ne = 0xdead_BEEF\nf = -inf")
                == [
                    "a": .integer(15), "b": .integer(5), "c": .integer(1000), "d": .float(-0.0005),
                    "e": .integer(0xdead_beef), "f": .float(-.infinity),
                ])
        Self.refuses("a = 9223372036854775808", "64 bits")
    }

    @Test func aQuoteWithACombiningMarkStillEndsTheString() {
        // `"x"` followed by U+0301 is one Character; scanning Characters read `x"́` as the value.
        Self.refuses("a = \"x\"\u{301}\"", "unexpected text")
        Self.refuses("a =\u{301} 1", "invalid value")
    }

    @Test func bareKeysAreASCII() throws {
        Self.refuses("ключ = 1", "expected a key")
        #expect(try Self.parse("\"ключ\" = 1\nA-b_9 = 2") == ["ключ": .integer(1), "A-b_9": .integer(2)])
    }

    @Test func controlCharactersAndEscapes() throws {
        Self.refuses("a = \"x\u{1}y\"", "control character U+1")
        Self.refuses("a = 1 # \u{7F}", "control character U+7F")
        Self.refuses("a = \"\\u+041\"", "invalid unicode escape")
        #expect(try Self.parse("a = \"\\b\\f\\u00e9\"") == ["a": .string("\u{8}\u{C}é")])
        Self.refuses("a = '''x'''", "multi-line strings")
    }

    @Test func tablesAreDefinedOnce() throws {
        Self.refuses("[a]\nx = 1\n[a]\ny = 2", "defined twice")
        Self.refuses("[[a]]\nx = 1\n[a]\ny = 2", "array of tables")
        Self.refuses("a.b = 1\n[a]", "defined twice")
        Self.refuses("[a.b]\nc = 1\n[a]\nb.d = 2", "already defined")
        #expect(
            try Self.parse("[a.b]\nc = 1\n[a]\nd = 2\n[[t]]\n[t.u]\n[[t]]\n[t.u]")
                == [
                    "a": .table(["b": .table(["c": .integer(1)]), "d": .integer(2)]),
                    "t": .tableArray([["u": .table([:])], ["u": .table([:])]]),
                ])
    }
}
