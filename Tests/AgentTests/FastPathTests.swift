import AgriTraceCore
import Foundation
import SQLiteStorage
import TestSupport
import Testing

@testable import EdgeAgent

/// The direct reading parser must accept exactly what the general path accepts, with the
/// same result, or defer to it.
@Suite struct ReadingFastPathTests {
    let fastPath = ReadingFastPath(catalog: .standard)

    /// The reading the fast path's split stands for.
    func reading(_ split: ReadingFastPath.Split) -> Reading {
        var fields: [String: FieldValue] = [:]
        for entry in split.publicFields + split.level2 + split.level1 { fields[entry.key] = entry.value }
        return Reading(
            stage: split.stage, lot: split.lot, product: split.product, device: split.device, time: split.time,
            inputLots: split.inputLots, fields: fields)
    }

    @Test func agreesWithTheGeneralPathOnEveryStage() throws {
        let classifier = Classifier(
            identity: DeviceIdentity(enterprise: "ZS123", device: "d", enrolledAt: Timestamp(milliseconds: 0)))
        for stage in Stage.allCases {
            var simulator = ReadingSimulator(stage: stage, lots: 7, seed: 11)
            for index in 0..<200 {
                let line = Array(simulator.next().utf8)
                let general = try JSONLineParser.reading(line, catalog: .standard)
                let split = try #require(fastPath.parse(line), "\(String(decoding: line, as: UTF8.self))")
                #expect(reading(split) == general)
                // Each level's entries come split as the catalog says, in canonical key order.
                for (entries, level) in [
                    (split.publicFields, PrivacyLevel.public), (split.level2, .level2), (split.level1, .level1),
                ] {
                    #expect(entries == entries.canonicallySorted())
                    #expect(entries.allSatisfy { FieldCatalog.standard.field(key: $0.key)?.level == level })
                }
                // The same record and private values as classifying the general path's reading.
                let now = Timestamp(milliseconds: 1_777_622_400_000)
                let fast = try #require(
                    fastPath.classify(
                        line, classifier: classifier, sequence: UInt64(index), bootID: "b", recordedAt: now))
                let slow = classifier.classify(general, sequence: UInt64(index), bootID: "b", recordedAt: now)
                #expect(fast.level2?.entries == slow.level2?.entries)
                #expect(fast.level1?.entries == slow.level1?.entries)
                // Salts are fresh per record: re-commit the slow values under the fast salts.
                var expected = slow.record
                if let fields = fast.level2 { expected.level2 = fields.commitment() }
                if let fields = fast.level1 { expected.level1 = fields.commitment() }
                #expect(Canonical.encode(fast.record) == Canonical.encode(expected))
                if let fields = fast.level2 {
                    #expect(
                        PrivateFields(level: .level2, entries: slow.level2!.entries, salt: fields.salt).commitment()
                            == fast.record.level2)
                }
            }
        }
    }

    /// A series' samples are normalised one by one even when the spelling changes inside the
    /// series (the normaliser keeps only the last spelling's answer), on both paths.
    @Test func aSeriesWhoseSpellingChangesIsNormalisedSampleBySample() throws {
        func line(_ samples: [(type: String, unit: String)]) -> [UInt8] {
            let items = samples.enumerated().map { index, sample in
                #"{"time":"2026-05-01T07:00:0\#(index)Z","type":"\#(sample.type)","value":\#(index).5,"unit":"\#(sample.unit)"}"#
            }
            return Array(
                #"{"stage":"planting","lot":"PL-1","product":"fresh corn","time":"2026-05-01T08:00:00Z","fields":{"temperature_humidity":[\#(items.joined(separator: ","))]}}"#
                    .utf8)
        }
        let given = [
            ("temperature", "Cel"), ("temperature", "Cel"), ("Temperature", "FAH"), ("relative_humidity", "%RH"),
            ("relative_humidity", "%RH"), ("temperature", "Cel"),
        ]
        let expected = [
            ("Temperature", "CEL"), ("Temperature", "CEL"), ("Temperature", "FAH"), ("RelativeHumidity", "P1"),
            ("RelativeHumidity", "P1"), ("Temperature", "CEL"),
        ]
        let mixed = line(given)
        let general = try JSONLineParser.reading(mixed, catalog: .standard)
        let split = try #require(fastPath.parse(mixed))
        #expect(reading(split) == general)
        guard case .series(let samples)? = general.fields["planting.temperature_humidity"] else {
            Issue.record("series missing")
            return
        }
        #expect(samples.map(\.type) == expected.map(\.0))
        #expect(samples.map(\.unit) == expected.map(\.1))
        // An unknown unit after known spellings: the fast path defers, the general path names it.
        let unknown = line([("temperature", "Cel"), ("temperature", "Cel"), ("temperature", "furlong")])
        #expect(fastPath.parse(unknown) == nil)
        #expect(throws: ReadingError.self) { try JSONLineParser.reading(unknown, catalog: .standard) }
    }

    @Test func defersEverythingUnusualToTheGeneralPath() throws {
        let base =
            #"{"stage":"planting","lot":"PL-1","product":"corn","time":"2026-05-01T08:00:00Z","fields":{"cost_price":1.5,"variety":"x"}}"#
        #expect(fastPath.parse(Array(base.utf8)) != nil)
        let deferred = [
            // valid for the general path, but not in the fast form
            #"{"stage":"planting","lot":"PL-1","product":"corn","time":"2026-05-01T08:00:00Z","fields":{"variety":"a\"b"}}"#,
            #"{"stage":"Planting","lot":"PL-1","product":"corn","time":"2026-05-01T08:00:00Z"}"#,
            #"{"stage":"planting","lot":"PL-1","product":"corn","time":"2026-05-01T08:00:00Z","fields":{"planting.variety":"x"}}"#,
            #"{"fields":{"variety":"x"},"stage":"planting","lot":"PL-1","product":"corn","time":"2026-05-01T08:00:00Z"}"#,
            #"{"stage":"planting","lot":"PL-1","lot":"PL-2","product":"corn","time":"2026-05-01T08:00:00Z"}"#,
            #"{"stage":"planting","lot":"PL-é","product":"corn","time":"2026-05-01T08:00:00Z"}"#,
            #"{"stage":"planting","lot":"PL-1","product":"corn","time":"2026-05-01T08:00:00Z","fields":{"temperature_humidity":[{"time":"2026-05-01T08:00:00Z","type":"t","value":1,"unit":"Cel","x":1}]}}"#,
            // refused by the general path
            #"{"stage":"planting","lot":"PL-1","product":"corn","time":"2026-05-01T08:00:00Z","extra":1}"#,
            #"{"stage":"planting","lot":"","product":"corn","time":"2026-05-01T08:00:00Z"}"#,
            #"{"stage":"planting","lot":"PL-1","product":"corn","time":"2026-02-30T08:00:00Z"}"#,
            #"{"stage":"planting","lot":"PL-1","product":"corn","time":1.5}"#,
            #"{"stage":"planting","lot":"PL-1","product":"corn"}"#,
            #"{"stage":"planting","lot":"PL-1","product":"corn","time":"2026-05-01T08:00:00Z","fields":{"cost_price":"1"}}"#,
            #"{"stage":"planting","lot":"PL-1","product":"corn","time":"2026-05-01T08:00:00Z","fields":{"nope":1}}"#,
            #"{"stage":"transport","lot":"TR-1","product":"corn","time":"2026-05-01T08:00:00Z","fields":{"positioning_track":[{"time":"2026-05-01T08:00:00Z","lat":91,"lon":0}]}}"#,
            #"{"stage":"planting","lot":"PL-1","product":"corn","time":"2026-05-01T08:00:00Z","fields":{"cost_price":01}}"#,
            #"{"stage":"planting","lot":"PL-1","product":"corn","time":"2026-05-01T08:00:00Z"} x"#,
            #"{"stage":"planting","lot":"PL-1","product":"corn","time":"2026-05-01T08:00:00Z","fields":{"cost_price":1e999}}"#,
            "", "{", "[]", "{}",
        ]
        for line in deferred {
            #expect(fastPath.parse(Array(line.utf8)) == nil, "\(line)")
        }
    }

    @Test func numbersMatchStrtodExactly() throws {
        var generator = SystemRandomNumberGenerator()
        var texts = [
            "0", "-0", "0.0", "-0.0", "1", "-1", "0.1", "1e22", "1e23", "1.7976931348623157e308", "5e-324",
            "123456789012345", "1234567890123456", "12345678901234567890.0", "0.000001", "9007199254740992",
            "9007199254740993.5",
            "2.5E-3", "2.5e+3", "100.25", "3.14159265358979", "1e-22", "1e-23",
        ]
        for _ in 0..<3000 {
            let value = Double.random(in: -1e6...1e6, using: &generator)
            texts.append("\(value)")
            texts.append("\((value * 100).rounded() / 100)")
            texts.append(String(Int64.random(in: -1_000_000_000...1_000_000_000, using: &generator)))
        }
        for text in texts {
            let line =
                #"{"stage":"planting","lot":"PL-1","product":"corn","time":"2026-05-01T08:00:00Z","fields":{"cost_price":"#
                + text + "}}"
            let split = try #require(fastPath.parse(Array(line.utf8)), "\(text)")
            let expected = strtod(text, nil)
            guard case .number(let value) = split.level1.first?.value else {
                Issue.record("no number for \(text)")
                continue
            }
            #expect(value.bitPattern == expected.bitPattern, "\(text)")
        }
    }

    /// A store written by the previous schema (vault keyed by record id) opens with every
    /// vault entry still readable.
    @Test func vaultMigrationKeepsEveryEntry() throws {
        let directory = try TemporaryDirectory()
        let key = try DeviceKey.create(path: directory.file("device.key"))
        let cipher = VaultCipher(key: key.vaultKey(enterprise: "e", device: "d"))
        let path = directory.file("store.sqlite")
        let classifier = Classifier(
            identity: DeviceIdentity(enterprise: "e", device: "d", enrolledAt: Timestamp(milliseconds: 0)))
        var expected: [(RecordID, [PrivateFields])] = []
        do {
            let db = try SQLiteConnection(path: path)
            _ = try db.migrate([AgentStore.migrations[0]])
            try db.execute("INSERT INTO agent_state(name, value) VALUES ('next_sequence', 3)")
            let lines = simulatedLines(3)
            for (sequence, line) in lines.enumerated() {
                let reading = try JSONLineParser.reading(Array(line.utf8), catalog: .standard)
                let classified = classifier.classify(
                    reading, sequence: UInt64(sequence), bootID: "b", recordedAt: .now())
                let id = Canonical.encode(classified.record.id)
                let table = sequence == 0 ? "receipted" : "outbox"
                let insert = try db.prepare(
                    table == "outbox"
                        ? "INSERT INTO outbox(sequence, record_id, body, accepted_at) VALUES (?, ?, ?, 1)"
                        : "INSERT INTO receipted(sequence, record_id, body, height, leaf_index, proof, receipted_at) VALUES (?, ?, ?, 1, 0, x'', 1)"
                )
                try insert.bind(Int64(sequence), at: 1)
                try insert.bind(id, at: 2)
                try insert.bind(Canonical.encode(classified.record), at: 3)
                try insert.run()
                var levels: [PrivateFields] = []
                for fields in [classified.level2, classified.level1].compactMap({ $0 }) {
                    let vault = try db.prepare(
                        "INSERT INTO vault(record_id, level, sealed, accepted_at) VALUES (?, ?, ?, 1)")
                    try vault.bind(id, at: 1)
                    try vault.bind(Int64(fields.level.number), at: 2)
                    try vault.bind(
                        try cipher.seal(Canonical.encode(fields), context: id + [fields.level.number]), at: 3)
                    try vault.run()
                    levels.append(fields)
                }
                expected.append((classified.record.id, levels))
            }
        }
        let store = try AgentStore(path: path, cipher: cipher, budgetBytes: 64 << 20)
        for (id, levels) in expected {
            #expect(try store.privateFields(of: id) == levels)
        }
        #expect(try store.integrityCheck() == "ok")
        // New readings go on from there.
        let result = try store.ingest(
            [InputLine(bytes: Array(simulatedLines(1, seed: 99)[0].utf8), number: 1)], source: "t", position: nil,
            classifier: classifier, bootID: "b")
        #expect(result.accepted == 1)
    }
}
