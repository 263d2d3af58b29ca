import Testing

@testable import SharingGraph

@Suite("Traceability anomalies")
struct TraceabilityDetectorTests {
    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000
    static let farm = GeoPoint(latitude: 39.90, longitude: 116.40)
    /// About 1,070 km south of the farm.
    static let shanghai = GeoPoint(latitude: 31.23, longitude: 121.47)

    @Test func haversineAndParsing() {
        #expect(abs(Self.farm.kilometres(to: Self.shanghai) - 1068) < 10)
        #expect(GeoPoint(text: "39.9, 116.4") == GeoPoint(latitude: 39.9, longitude: 116.4))
        #expect(GeoPoint(text: "Beijing") == nil)
        #expect(GeoPoint(text: "95,10") == nil)
    }

    @Test func lotAtTwoPlacesAtOnce() {
        let records = [
            TraceRecord(leaf: 1, lot: "W1", stage: 3, time: 0, enterprise: "W", device: "a", location: Self.farm),
            TraceRecord(
                leaf: 2, lot: "W1", stage: 3, time: 10 * Self.minute, enterprise: "W", device: "b",
                location: Self.shanghai),
            // A truck at highway speed is fine: ~80 km in an hour.
            TraceRecord(leaf: 3, lot: "T1", stage: 4, time: 0, enterprise: "T", device: "t", location: Self.farm),
            TraceRecord(
                leaf: 4, lot: "T1", stage: 4, time: Self.hour, enterprise: "T", device: "t",
                location: GeoPoint(latitude: 39.2, longitude: 116.6)),
        ]
        let alarms = TraceabilityDetector().twoPlaces(records)
        #expect(alarms.map(\.subject) == ["W1"])
        #expect(alarms.first?.evidence == [1, 2])
        #expect((alarms.first?.score ?? 0) > 10)
    }

    @Test func stageAndTimeOrderAlongTheLotGraph() {
        let records = [
            TraceRecord(leaf: 1, lot: "PL1", stage: 1, time: 10 * Self.hour, enterprise: "F", device: "f"),
            // Made from PL1 five hours before PL1 was first recorded.
            TraceRecord(
                leaf: 2, lot: "PR1", stage: 2, time: 5 * Self.hour, enterprise: "M", device: "m", inputLots: ["PL1"]),
            TraceRecord(leaf: 3, lot: "SA1", stage: 5, time: 20 * Self.hour, enterprise: "S", device: "s"),
            // A planting lot made from a sales lot.
            TraceRecord(
                leaf: 4, lot: "PL2", stage: 1, time: 30 * Self.hour, enterprise: "F", device: "f", inputLots: ["SA1"]),
            // In order: no alarm.
            TraceRecord(
                leaf: 5, lot: "PR2", stage: 2, time: 31 * Self.hour, enterprise: "M", device: "m", inputLots: ["PL2"]),
        ]
        let alarms = TraceabilityDetector().alarms(records: records)
        #expect(alarms.map(\.kind) == [.timeOrder, .stageOrder])
        #expect(alarms[0].subject == "PR1")
        #expect(alarms[0].evidence == [2, 1])
        #expect(alarms[1].subject == "PL2")
        #expect(alarms[1].score == 4)
    }

    @Test func recordFarFromItsFixedDevice() {
        var records = (0..<10).map { index in
            TraceRecord(
                leaf: UInt64(index), lot: "L\(index)", stage: 3, time: Int64(index) * Self.hour, enterprise: "W",
                device: "shed", location: GeoPoint(latitude: 39.9 + Double(index % 3) * 0.001, longitude: 116.4))
        }
        records.append(
            TraceRecord(
                leaf: 10, lot: "L10", stage: 3, time: 10 * Self.hour, enterprise: "W", device: "shed",
                location: Self.shanghai))
        let alarms = TraceabilityDetector().locations(records)
        #expect(alarms.map(\.subject) == ["shed"])
        #expect(alarms.first?.evidence == [10])
    }

    @Test func burstOfRecords() {
        var records: [TraceRecord] = []
        var leaf: UInt64 = 0
        for hour in Int64(0)..<24 {
            let count = hour == 20 ? 60 : 4
            for index in 0..<count {
                leaf += 1
                records.append(
                    TraceRecord(
                        leaf: leaf, lot: "L", stage: 1, time: hour * Self.hour + Int64(index) * 1000, enterprise: "F",
                        device: "box"))
            }
        }
        let alarms = TraceabilityDetector().rates(records)
        #expect(alarms.map(\.feature) == ["records-per-hour"])
        #expect(alarms.first?.time == 20 * Self.hour)
        #expect(alarms.first?.evidence.count == 50)
    }

    @Test func coldChainExcursionLongerThanAllowed() {
        func series(_ values: [Double]) -> SensorSeries {
            SensorSeries(
                leaf: 7, lot: "T1", device: "truck",
                samples: values.enumerated().map { .init(time: Int64($0.offset) * 10 * Self.minute, value: $0.element) }
            )
        }
        let detector = TraceabilityDetector()
        // Above 8 °C from minute 10 to minute 60 (back at 4 °C): 50 minutes > 30.
        let long = detector.coldChain(series([4, 9, 10, 11, 9.5, 8.5, 4]))
        #expect(long?.evidence == [7])
        #expect(long?.time == 10 * Self.minute)
        #expect(long?.detail.contains("for 50 min") == true)
        // 20 minutes above: allowed.
        #expect(detector.coldChain(series([4, 9, 9, 4, 9, 4])) == nil)
        // Still above at the end of the series: counted to the last sample (40 min).
        #expect(detector.coldChain(series([4, 4, 12, 12, 12, 12, 12])) != nil)
        var strict = TraceabilityDetector.Parameters()
        strict.coldDuration = 60 * Self.minute
        #expect(TraceabilityDetector(parameters: strict).coldChain(series([4, 9, 10, 11, 9.5, 8.5, 4])) == nil)
    }
}
