import AgriTraceCore
import PropertyBased
import Testing

@Suite struct ReadingTests {
    func parse(_ json: String) throws(ReadingError) -> Reading {
        try Reading.parse(jsonLine: Array(json.utf8))
    }

    func error(_ json: String) -> ReadingError? {
        do {
            _ = try parse(json)
            return nil
        } catch {
            return error
        }
    }

    @Test func validReadingParsesEveryKind() throws {
        let reading = try parse(
            """
            {"stage":"transport","lot":"TR-1","product":"fresh corn","time":"2026-05-01T08:30:00Z","inputs":["WH-1"],
             "fields":{"route":"Harbin-Beijing","transport_time":1777624200000,"transported_quantity":1200.5,
                       "temperature_humidity":[{"time":"2026-05-01T08:00:00Z","type":"Temperature","value":4.5,"unit":"CEL"}],
                       "positioning_track":[{"time":"2026-05-01T08:00:00Z","lat":45.75,"lon":126.63}],
                       "transport_cost":3100}}
            """)
        #expect(reading.stage == .transport)
        #expect(reading.inputLots == ["WH-1"])
        #expect(reading.fields["transport.route"] == .text("Harbin-Beijing"))
        #expect(reading.fields["transport.transported_quantity"] == .number(1200.5))
        #expect(reading.fields["transport.transport_time"] == .time(Timestamp(milliseconds: 1_777_624_200_000)))
        #expect(reading.time == Timestamp(iso8601: "2026-05-01T08:30:00.000Z"))
        guard case .series(let samples)? = reading.fields["transport.temperature_humidity"] else {
            Issue.record("series missing")
            return
        }
        #expect(
            samples == [
                SensorSample(
                    time: Timestamp(iso8601: "2026-05-01T08:00:00Z")!, type: "Temperature", value: 4.5, unit: "CEL")
            ])
    }

    @Test func unknownFieldNamesFieldStageAndFix() throws {
        let failure = try #require(
            error(
                #"{"stage":"planting","lot":"PL-1","product":"corn","time":"2026-05-01T08:00:00Z","fields":{"cost_prise":1}}"#
            ))
        #expect(failure.kind == .unknownField)
        #expect(failure.field == "fields.cost_prise")
        #expect(failure.stage == "planting")
        #expect(failure.reason.contains("did you mean \"cost_price\""))
        #expect(failure.description.contains("fix:"))
    }

    @Test func wrongTypeNamesTheExpectedKind() throws {
        let failure = try #require(
            error(
                #"{"stage":"planting","lot":"PL-1","product":"corn","time":"2026-05-01T08:00:00Z","fields":{"planted_quantity":"a lot"}}"#
            ))
        #expect(failure.kind == .wrongType)
        #expect(failure.field == "fields.planted_quantity")
        #expect(failure.fix.contains("JSON number"))
    }

    @Test func missingLotIsRefused() throws {
        let failure = try #require(
            error(#"{"stage":"sales","product":"corn","time":"2026-05-01T08:00:00Z","fields":{}}"#))
        #expect(failure.kind == .missingField)
        #expect(failure.field == "lot")
        #expect(failure.stage == "sales")
    }

    @Test func unknownStageAndMalformedJSONAreRefused() throws {
        #expect(error(#"{"stage":"harvesting","lot":"X","product":"corn","time":0}"#)?.kind == .unknownStage)
        #expect(error(#"{"stage":"sales","lot":"X",#"#)?.kind == .malformedJSON)
        #expect(error(#"[1,2]"#)?.kind == .malformedJSON)
        #expect(error(#"{"stage":"sales","lot":"X","product":"corn","time":"yesterday"}"#)?.field == "time")
        #expect(error(#"{"stage":"sales","lot":"","product":"corn","time":0}"#)?.kind == .invalidValue)
        #expect(error(#"{"stage":"sales","lot":"X","product":"corn","time":0,"quantity":3}"#)?.field == "quantity")
        #expect(
            error(
                #"{"stage":"transport","lot":"X","product":"corn","time":0,"fields":{"positioning_track":[{"time":0,"lat":95,"lon":0}]}}"#
            )?.kind == .invalidValue)
    }

    @Test func logisticsIsAnAliasOfTransport() throws {
        #expect(try parse(#"{"stage":"logistics","lot":"X","product":"corn","time":0}"#).stage == .transport)
    }
}

@Suite struct TimestampTests {
    @Test func rfc3339IsExactToTheMillisecond() {
        #expect(Timestamp(iso8601: "2026-05-01T08:30:00.123Z")?.milliseconds == 1_777_624_200_123)
        #expect(Timestamp(iso8601: "2026-05-01T16:30:00.123+08:00")?.milliseconds == 1_777_624_200_123)
        #expect(Timestamp(iso8601: "1970-01-01T00:00:00Z")?.milliseconds == 0)
        #expect(Timestamp(iso8601: "1969-12-31T23:59:59.999Z")?.milliseconds == -1)
        #expect(Timestamp(iso8601: "2024-02-29T00:00:00Z") != nil)
        #expect(Timestamp(iso8601: "2026-02-29T00:00:00Z") == nil)
        #expect(Timestamp(iso8601: "2026-05-01T08:30:00") == nil, "an offset is required")
        #expect(Timestamp(milliseconds: 1_777_624_200_123).iso8601 == "2026-05-01T08:30:00.123Z")
        #expect(Timestamp(milliseconds: -1).iso8601 == "1969-12-31T23:59:59.999Z")
    }

    @Test func appendWritesTheBytesOfFormatPastTheFourDigitYears() {
        let days = 86_400_000 as Int64
        let year1 = Timestamp(iso8601: "0001-01-01T00:00:00Z")!.milliseconds
        let year9999 = Timestamp(iso8601: "9999-12-31T23:59:59.999Z")!.milliseconds
        let cases: [(Int64, String)] = [
            (year1, "0001-01-01T00:00:00.000Z"), (year1 - days, "0000-12-31T00:00:00.000Z"),
            (year1 - 367 * days, "00-1-12-31T00:00:00.000Z"), (year9999, "9999-12-31T23:59:59.999Z"),
            (year9999 + 1, "10000-01-01T00:00:00.000Z"), (1_777_624_200_123, "2026-05-01T08:30:00.123Z"),
        ]
        for (milliseconds, text) in cases {
            var bytes: [UInt8] = [UInt8(ascii: ">")]
            RFC3339.append(milliseconds, to: &bytes)
            #expect(bytes == [UInt8(ascii: ">")] + Array(text.utf8))
            #expect(RFC3339.format(milliseconds) == text)
        }
    }

    @Test func formatThenParseRoundTripsEveryMillisecond() async {
        await propertyCheck(count: 1000, input: Gen.int64(in: -60_000_000_000_000...250_000_000_000_000)) {
            milliseconds in
            let text = Timestamp(milliseconds: milliseconds).iso8601
            #expect(Timestamp(iso8601: text)?.milliseconds == milliseconds, "\(text)")
        }
    }
}
