import AgriTraceCore
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
