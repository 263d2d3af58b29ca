import AgriTraceCore
import PropertyBased
import Testing

@Suite struct CanonicalEncodingTests {
    @Test func primitivesHaveTheirDocumentedBytes() {
        var writer = CanonicalWriter()
        writer.write(UInt32(0x0102_0304))
        writer.write(Int64(-2))
        writer.write(true)
        writer.write("é")
        writer.write(-0.0)
        writer.write(Optional<String>.none)
        writer.write(["a"])
        #expect(
            writer.bytes.hexString == "01020304" + "fffffffffffffffe" + "01" + "00000002c3a9" + "0000000000000000"
                + "00" + "00000001" + "0000000161")
    }

    /// Golden bytes of a fixed record: any change to the encoding breaks this test, on purpose.
    /// Changing the format means a new record version, not new golden bytes.
    @Test func recordGoldenBytes() throws {
        let record = Fixtures.classifiedPlanting().record
        let bytes = Canonical.encode(record)
        #expect(bytes.hexString == Golden.recordHex)
        #expect(Digest32.sha256(bytes).hex == Golden.recordSHA256)
        #expect(record.level2?.root.hex == Golden.level2Root)
        #expect(record.level1?.root.hex == Golden.level1Root)
        #expect(try Canonical.decode(Record.self, from: bytes) == record)
    }

    @Test func nonCanonicalFormsAreRefused() throws {
        let bytes = Canonical.encode(Fixtures.classifiedPlanting().record)
        #expect(throws: Canonical.DecodingError.trailingBytes(count: 1)) {
            try Canonical.decode(Record.self, from: bytes + [0])
        }
        #expect(throws: Canonical.DecodingError.self) { try Canonical.decode(Record.self, from: bytes.dropLast()) }
        // A bool that is neither 0 nor 1.
        #expect(throws: Canonical.DecodingError.invalidTag(2, context: "Bool")) {
            var reader = CanonicalReader([2])
            _ = try reader.readBool()
        }
        // Negative zero and NaN.
        #expect(throws: Canonical.DecodingError.self) {
            var reader = CanonicalReader((-0.0).bitPattern.bigEndianBytes)
            _ = try reader.readDouble()
        }
        #expect(throws: Canonical.DecodingError.self) {
            var reader = CanonicalReader(Double.nan.bitPattern.bigEndianBytes)
            _ = try reader.readDouble()
        }
        // Public fields out of key order.
        var record = Fixtures.classifiedPlanting().record
        record.publicFields.reverse()
        var writer = CanonicalWriter()
        record.encode(to: &writer)
        #expect(throws: Canonical.DecodingError.self) { try Canonical.decode(Record.self, from: writer.bytes) }
        // A length that claims more than the input holds.
        #expect(throws: Canonical.DecodingError.self) {
            var reader = CanonicalReader([0xff, 0xff, 0xff, 0xff, 0x41])
            _ = try reader.readString()
        }
    }

    @Test func recordsRoundTrip() async {
        let text = Gen.letterOrNumber.string(of: 0...12)
        let number = Gen.double(in: -1e9...1e9)
        let input = zip(
            text, text, number, Gen.int64(in: -1_000_000_000_000...4_000_000_000_000), Gen.uint64(), Gen.bool(),
            text.array(of: 0...3), Gen.int(in: 0...63))
        await propertyCheck(count: 200, input: input) { lot, note, amount, millis, sequence, trusted, inputs, mask in
            let time = Timestamp(milliseconds: millis)
            var fields: [String: FieldValue] = ["planting.variety": .text(note)]
            if mask & 1 != 0 { fields["planting.planted_quantity"] = .number(amount) }
            if mask & 2 != 0 { fields["planting.cost_price"] = .number(-amount) }
            if mask & 4 != 0 { fields["planting.sowing_time"] = .time(time) }
            if mask & 8 != 0 {
                fields["planting.temperature_humidity"] = .series([
                    SensorSample(time: time, type: "Temperature", value: amount, unit: "CEL")
                ])
            }
            if mask & 16 != 0 { fields["planting.farmland_geo"] = .text(lot + note) }
            let reading = Reading(
                stage: .planting, lot: "L" + lot, product: "corn", device: mask & 32 != 0 ? note : nil, time: time,
                inputLots: inputs, fields: fields)
            var classified = Classifier(identity: Fixtures.identity).classify(
                reading, sequence: sequence, bootID: note, recordedAt: time)
            classified.record.clockTrusted = trusted
            let record = classified.record
            let bytes = Canonical.encode(record)
            let decoded = try Canonical.decode(Record.self, from: bytes)
            #expect(decoded == record)
            #expect(Canonical.encode(decoded) == bytes)
            for level in [classified.level1, classified.level2].compactMap({ $0 }) {
                let reopened = try Canonical.decode(PrivateFields.self, from: Canonical.encode(level))
                #expect(reopened == level)
                try reopened.verify(against: level.commitment())
            }
        }
    }

    @Test func fieldValuesRoundTrip() async {
        let values = zip(
            Gen.double(in: -1e12...1e12), Gen.int64(), Gen.letterOrNumber.string(of: 0...30), Gen.int(in: 0...5))
        await propertyCheck(count: 300, input: values) { number, millis, text, kind in
            let value: FieldValue
            switch kind {
            case 0: value = .text(text)
            case 1: value = .number(number)
            case 2: value = .time(Timestamp(milliseconds: millis))
            case 3: value = .bool(number > 0)
            case 4:
                value = .series([
                    SensorSample(time: Timestamp(milliseconds: millis), type: text, value: number, unit: "CEL")
                ])
            default:
                value = .track([
                    GeoSample(
                        time: Timestamp(milliseconds: millis), latitude: number.truncatingRemainder(dividingBy: 90),
                        longitude: 1)
                ])
            }
            let decoded = try Canonical.decode(FieldValue.self, from: Canonical.encode(value))
            #expect(decoded == value)
        }
    }
}

extension UInt64 {
    var bigEndianBytes: [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: self >> (56 - 8 * UInt64($0))) } }
}
