import AgriTraceCore
import EdgeAgent
import Testing

/// Readings an attacker or a broken sensor would send (issue #22, findings 4 and 5): each is
/// refused by the general parser with an error naming the field, and the fast path never
/// accepts one (it leaves every unusual line to the general parser).
@Suite struct HostileReadingTests {
    let fastPath = ReadingFastPath(catalog: .standard)

    /// A planting reading with `time` and `fields` as given (JSON text).
    func line(time: String = #""2026-05-01T08:00:00Z""#, fields: String = #"{"variety":"x"}"#) -> String {
        #"{"stage":"planting","lot":"PL-1","product":"corn","time":"# + time + #","fields":"# + fields + "}"
    }

    /// The general parser's error for `text` (nil when it is accepted).
    func refusal(_ text: String) -> ReadingError? {
        do {
            _ = try JSONLineParser.reading(Array(text.utf8), catalog: .standard)
            return nil
        } catch {
            return error
        }
    }

    @Test func duplicateKeysAreRefusedNamingTheKey() throws {
        let cases: [(line: String, field: String)] = [
            (
                #"{"stage":"planting","stage":"sales","lot":"PL-1","product":"corn","time":"2026-05-01T08:00:00Z"}"#,
                "stage"
            ),
            (
                #"{"stage":"planting","lot":"PL-1","product":"corn","time":"2026-05-01T08:00:00Z","time":"2026-05-02T08:00:00Z"}"#,
                "time"
            ),
            (line(fields: #"{"variety":"a","cost_price":1,"variety":"b"}"#), "fields.variety"),
            (
                line(
                    fields:
                        #"{"temperature_humidity":[{"time":"2026-05-01T08:00:00Z","type":"t","value":1,"value":2,"unit":"Cel"}]}"#
                ),
                "fields.temperature_humidity[0].value"
            ),
        ]
        for (text, field) in cases {
            #expect(fastPath.parse(Array(text.utf8)) == nil, "the fast path took \(text)")
            let error = try #require(refusal(text), "accepted: \(text)")
            #expect(error.field == field, "\(error)")
            #expect(
                error.reason.contains("twice")
                    && error.reason.contains("\"\(field.split(separator: ".").last!.split(separator: "[").first!)\""),
                "\(error)")
        }
    }

    @Test func implausibleTimesAreRefusedWithTheRule() throws {
        let times = [
            #""1970-01-01T00:00:00Z""#, #""2200-01-01T00:00:00Z""#, "-1", "0", "99999999999999999999", "1e-400",
            "4102444800000",
        ]
        for time in times {
            let text = line(time: time)
            #expect(fastPath.parse(Array(text.utf8)) == nil, "the fast path took time \(time)")
            let error = try #require(refusal(text), "time \(time) accepted")
            #expect(error.kind == .invalidValue && error.field == "time", "\(time): \(error)")
            #expect(error.fix.contains("2000-01-01") && error.fix.contains("2100-01-01"), "\(time): \(error)")
        }
        // A field of kind time follows the same rule, named by its path.
        let sowing = line(fields: #"{"sowing_time":"1970-01-01T00:00:00Z"}"#)
        #expect(fastPath.parse(Array(sowing.utf8)) == nil)
        #expect(refusal(sowing)?.field == "fields.sowing_time")
        // The edges of the window are accepted, by both parsers alike.
        for time in [#""2000-01-01T00:00:00Z""#, #""2099-12-31T23:59:59.999Z""#, "946684800000", "1777622400000"] {
            let text = line(time: time)
            #expect(refusal(text) == nil, "\(time): \(String(describing: refusal(text)))")
            #expect(fastPath.parse(Array(text.utf8)) != nil, "\(time)")
        }
    }

    @Test func numbersADoubleCannotHoldAreRefused() throws {
        let cases: [(number: String, words: String)] = [
            ("123456789012345678901234567890", "exactly"),
            ("-9007199254740993", "exactly"),
            ("99999999999999999999", "exactly"),
            ("1e-400", "underflows"),
            ("-2.5e-330", "underflows"),
            ("1e400", "overflows"),
        ]
        for (number, words) in cases {
            let text = line(fields: #"{"planted_quantity":"# + number + "}")
            #expect(fastPath.parse(Array(text.utf8)) == nil, "the fast path took \(number)")
            let error = try #require(refusal(text), "\(number) accepted")
            #expect(error.kind == .invalidValue, "\(number): \(error)")
            #expect(error.field == "fields.planted_quantity", "\(number): \(error)")
            #expect(error.reason.contains(words) && error.reason.contains(number), "\(number): \(error)")
        }
        // Ordinary numbers still pass both ways, with the same value.
        for number in ["0", "-0.0", "1200", "9007199254740992", "1.5e3", "5e-324", "123456789012345678901234567890.5"] {
            let text = line(fields: #"{"planted_quantity":"# + number + "}")
            #expect(refusal(text) == nil, "\(number): \(String(describing: refusal(text)))")
            #expect(fastPath.parse(Array(text.utf8)) != nil, "\(number)")
        }
    }
}
