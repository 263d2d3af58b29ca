import AgriTraceCore
import Crypto
import Foundation
import TestSupport
import Testing

@testable import EdgeAgent

@Suite struct AgentUnitTests {
    @Test func incrementalLogMatchesTheReferenceTree() throws {
        var log = MerkleLog()
        var leaves: [Digest32] = []
        for index in 0..<37 {
            let leaf = MerkleTree.leafHash(Array("leaf \(index)".utf8))
            log.append(leaf)
            leaves.append(leaf)
            #expect(log.root == ReferenceMerkle.root(leaves[...]))
            for probe in Set([0, index / 2, index]) {
                #expect(
                    try log.inclusionProof(index: UInt64(probe), size: UInt64(leaves.count))
                        == ReferenceMerkle.inclusionProof(probe, leaves[...]))
            }
        }
    }

    @Test func lineFramerSplitsRefusesOversizeAndTracksOffsets() {
        var framer = LineFramer(maxLineBytes: 8)
        var lines = framer.append(Array("abc\n\nlong-line-here\nxy".utf8))
        #expect(lines.map(\.number) == [1, 3])
        #expect(lines[0].bytes == Array("abc".utf8))
        #expect(lines[1].oversizeBytes != nil)
        #expect(framer.consumedOffset == 4 + 1 + 15)
        lines = framer.append(Array("z\r\n".utf8))
        #expect(lines.count == 1 && lines[0].bytes == Array("xyz".utf8) && lines[0].number == 4)
        #expect(framer.consumedOffset == 4 + 1 + 15 + 5)
    }

    @Test func tomlConfigurationParsesAndRefusesMistakes() throws {
        let authority = Curve25519.Signing.PrivateKey().publicKey.hex
        let text = """
            [device]
            enterprise = "ZS123"   # the firm
            id = 'farm-7'
            stage = "planting"
            enrolled_at = "2026-03-01T00:00:00Z"
            [broker]
            port = 1_883
            [authority]
            public_key = "\(authority)"
            [inputs]
            files = [
              "/var/log/a.jsonl",  # first
              "b.jsonl",
            ]
            [[fields]]
            stage = "planting"
            name = "drone_survey"
            level = "level-2"
            kind = "text"
            """
        let configuration = try AgentConfiguration.parse(text, baseDirectory: "/etc/agritrace")
        #expect(configuration.device.id == "farm-7")
        #expect(configuration.broker.port == 1883)
        #expect(configuration.inputs.files == ["/var/log/a.jsonl", "/etc/agritrace/b.jsonl"])
        #expect(configuration.device.enrolledAt == Timestamp(iso8601: "2026-03-01T00:00:00Z"))
        #expect(try configuration.catalog().field("drone_survey", in: .planting)?.level == .level2)
        #expect(throws: ConfigurationError.missing(key: "authority.public_key")) {
            try AgentConfiguration.parse("[device]\nenterprise = \"e\"\nid = \"d\"\n")
        }
        #expect(throws: ConfigurationError.self) {
            try AgentConfiguration.parse(text.replacingOccurrences(of: "port = 1_883", with: "port = \"x\""))
        }
        #expect(throws: ConfigurationError.self) {
            try AgentConfiguration.parse(text.replacingOccurrences(of: "id = 'farm-7'", with: "id = 'farm/7'"))
        }
    }

    @Test func deviceKeyIsPrivateAndVaultRoundTrips() throws {
        let directory = try TestSupportDirectory()
        let path = directory.path + "/device.key"
        let key = try DeviceKey.create(path: path)
        var info = stat()
        stat(path, &info)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(try DeviceKey.load(path: path).publicKey.hex == key.publicKey.hex)
        #expect(throws: DeviceKey.KeyError.self) { try DeviceKey.create(path: path) }
        chmod(path, 0o644)
        #expect(throws: DeviceKey.KeyError.self) { try DeviceKey.load(path: path) }
        let cipher = VaultCipher(key: key.vaultKey(enterprise: "e", device: "d"))
        let sealed = try cipher.seal(Array("cost_price=1.85".utf8), context: [1, 2])
        #expect(!sealed.contains(subsequence: Array("1.85".utf8)))
        #expect(try cipher.open(sealed, context: [1, 2]) == Array("cost_price=1.85".utf8))
        #expect(throws: (any Error).self) { try cipher.open(sealed, context: [1, 3]) }
        // Each seal takes a fresh nonce (the first 12 bytes of the combined box).
        let nonces = try (0..<300).map { _ in Array(try cipher.seal([1], context: [1, 2]).prefix(12)) }
        #expect(Set(nonces).count == nonces.count)
    }

    @Test func simulatorCoversEveryStageAndLinksLots() throws {
        for stage in Stage.allCases {
            var simulator = ReadingSimulator(stage: stage, lots: 3)
            for _ in 0..<6 {
                let line = simulator.next()
                let reading = try Reading.parse(jsonLine: Array(line.utf8))
                #expect(reading.stage == stage)
                if stage != .breeding { #expect(reading.inputLots.count == 1) }
            }
        }
        var processing = ReadingSimulator(stage: .processing, lots: 2)
        let reading = try Reading.parse(jsonLine: Array(processing.next().utf8))
        #expect(reading.inputLots == [ReadingSimulator.lotID(.planting, 1)])
    }
}

extension Array where Element: Equatable {
    func contains(subsequence: [Element]) -> Bool {
        guard !subsequence.isEmpty, subsequence.count <= count else { return false }
        return (0...(count - subsequence.count)).contains { Array(self[$0..<($0 + subsequence.count)]) == subsequence }
    }
}

/// A temporary directory (TestSupport's, named for this file).
typealias TestSupportDirectory = TemporaryDirectory

@Suite struct JSONLineParserTests {
    @Test func agreesWithFoundationOnReadingsAndRefusesMalformedText() throws {
        for stage in Stage.allCases {
            var simulator = ReadingSimulator(stage: stage, lots: 4, seed: 9)
            for _ in 0..<5 {
                let line = Array(simulator.next().utf8)
                // The JSON layer alone gives what Foundation gives (times then differ by at most 1 ms, see below).
                #expect(try Reading.parse(json: JSONLineParser.parse(line)) == Reading.parse(jsonLine: line))
                #expect(
                    try JSONLineParser.reading(line, catalog: .standard).fields.count
                        == Reading.parse(jsonLine: line).fields.count)
            }
        }
        let tricky = #"{"a":[1,-2.5e3,0,true,false,null],"s":"q\"\\\/\b\f\n\r\t\u00e9\ud83c\udf3d","o":{}}"#
        #expect(
            try JSONLineParser.parse(Array(tricky.utf8))
                == (try JSONDecoder().decode(JSONValue.self, from: Data(tricky.utf8))))
        for bad in [
            "", "{", "{\"a\":}", "[1,]", "{\"a\":1,}", "01", "1.", "\"\u{01}\"", "{\"a\":1} x", "tru", "\"\\ud800\"",
            String(repeating: "[", count: 100),
        ] {
            #expect(throws: JSONLineParser.SyntaxError.self, "\(bad)") { try JSONLineParser.parse(Array(bad.utf8)) }
        }
        #expect(throws: ReadingError.self) { try JSONLineParser.reading(Array("{bad".utf8), catalog: .standard) }
    }
}

@Suite struct TimeFastPathTests {
    @Test func agreesWithTheSharedParserOrDefersToIt() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let time = Timestamp(
                milliseconds: Int64.random(in: -2_000_000_000_000...4_000_000_000_000, using: &generator))
            let text = time.iso8601
            // Both read the digits exactly (the core's RFC3339), to the millisecond.
            let fast = try #require(TimeFastPath.milliseconds(text))
            let shared = try #require(Timestamp(iso8601: text)?.milliseconds)
            #expect(fast == shared, "\(text)")
            #expect(fast == time.milliseconds, "\(text)")
        }
        let exact: [(String, Int64)] = [
            ("2026-05-01T08:00:00Z", 1_777_622_400_000), ("2026-05-01T08:00:00+08:00", 1_777_593_600_000),
            ("2026-05-01T08:00:00.250-05:30", 1_777_642_200_250), ("2024-02-29T23:59:59Z", 1_709_251_199_000),
            ("1969-12-31T23:59:59.999Z", -1), ("2026-05-01T08:00:00.1Z", 1_777_622_400_100),
            ("2026-05-01T08:00:00.123456Z", 1_777_622_400_123),
        ]
        for (text, milliseconds) in exact {
            #expect(TimeFastPath.milliseconds(text) == milliseconds, "\(text)")
            #expect(Timestamp(iso8601: text)?.milliseconds == milliseconds, "\(text)")
        }
        for text in [
            "2026-02-30T00:00:00Z", "2026-05-01T24:00:00Z", "2026-05-01 08:00:00Z", "2026-05-01T08:00:00",
            "2026-05-01T08:00:00.Z", "x",
        ] {
            #expect(TimeFastPath.milliseconds(text) == nil, "\(text)")
        }
    }
}
