import AgriTraceCore

/// Fixed inputs shared by the core tests.
enum Fixtures {
    static let identity = DeviceIdentity(
        enterprise: "FARM1", device: "farm-box-01", enrolledAt: Timestamp(milliseconds: 1_767_225_600_000))

    static let planting = Reading(
        stage: .planting, lot: "PL-2026-0001", product: "fresh corn", device: "soil-probe-3",
        time: Timestamp(milliseconds: 1_777_624_200_000),
        fields: [
            "planting.variety": .text("Jingke 968"),
            "planting.planting_origin": .text("Heilongjiang"),
            "planting.sowing_time": .time(Timestamp(milliseconds: 1_775_000_000_000)),
            "planting.planted_quantity": .number(1200),
            "planting.temperature_humidity": .series([
                SensorSample(
                    time: Timestamp(milliseconds: 1_777_624_000_000), type: "Temperature", value: 18.25, unit: "CEL"),
                SensorSample(
                    time: Timestamp(milliseconds: 1_777_624_000_000), type: "RelativeHumidity", value: 61, unit: "P1"),
            ]),
            "planting.mould_content": .number(0.02),
            "planting.cost_price": .number(1830.5),
            "planting.personnel": .text("Li Wei, farm manager"),
        ])

    /// The planting reading classified with fixed salts (so bytes are reproducible).
    static func classifiedPlanting() -> ClassifiedReading {
        var classified = Classifier(identity: identity).classify(
            planting, sequence: 42, bootID: "0f5e3c1e-9a59-4a8e-9a8f-7d5f3a2b1c00",
            recordedAt: Timestamp(milliseconds: 1_777_624_201_000))
        let level2 = PrivateFields(
            level: .level2, entries: classified.level2!.entries, salt: Array(repeating: 0x22, count: 32))
        let level1 = PrivateFields(
            level: .level1, entries: classified.level1!.entries, salt: Array(repeating: 0x11, count: 32))
        classified.level2 = level2
        classified.level1 = level1
        classified.record.level2 = level2.commitment()
        classified.record.level1 = level1.commitment()
        return classified
    }
}
