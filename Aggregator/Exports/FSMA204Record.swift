import AgriTraceCore

/// What a spreadsheet row reads of a record: decoded straight from its log entry's canonical
/// bytes, skipping the fields no row shows (device, source, boot, commitments, the other
/// public fields), so a month of records is read without building whole ``Record``s. A class:
/// rows pass records around, and a copy is one reference instead of a dozen.
final class FSMA204Record {
    /// The record id's two words (``RecordID``'s canonical form).
    let id: (high: UInt64, low: UInt64)
    let stage: Stage
    let lot: String
    let product: String
    let enterprise: String
    /// Milliseconds since 1970.
    let time: Int64
    let inputLots: [String]
    /// The stage's public fields naming the firm and the place, and the reference document
    /// number, as ``FieldValue/display`` shows them (nil when the record has no such field).
    let name: String?
    let place: String?
    let document: String?

    /// Every stage (``Stage/allCases`` makes a new array on each call).
    static let stages = Stage.allCases

    /// The record id.
    var recordID: RecordID? { RecordID(hex: hex(id.high) + hex(id.low)) }

    /// The row fields of a decoded record (a lot's records from ``LedgerQueries/trace``).
    init(_ record: Record) {
        let keys = FSMA204Exporter.keys[record.stage]
        let words = Canonical.encode(record.id)
        id = (Self.word(words[0..<8]), Self.word(words[8..<16]))
        stage = record.stage
        lot = record.lot
        product = record.product
        enterprise = record.enterprise
        time = record.time.milliseconds
        inputLots = record.inputLots
        name = keys.name.flatMap { record.publicValue($0)?.display }
        place = keys.place.flatMap { record.publicValue($0)?.display }
        document = record.publicValue(keys.document)?.display
    }

    /// The row fields of the log entry `bytes`, or nil when the entry is not a record.
    /// - Throws: ``Canonical/DecodingError`` when the bytes end early or hold an unknown tag.
    init?(entry bytes: UnsafeRawBufferPointer) throws {
        var reader = EntryReader(bytes: bytes)
        guard try reader.string() == "agritrace/v1/log-entry", try reader.byte() == 1 else { return nil }
        let version = try reader.byte()
        guard version == 1 else { throw Canonical.DecodingError.invalidTag(version, context: "record version") }
        id = (try reader.word(), try reader.word())
        let ordinal = try reader.byte()
        guard let stage = Self.stages.first(where: { $0.ordinal == ordinal }) else {
            throw Canonical.DecodingError.invalidTag(ordinal, context: "stage")
        }
        self.stage = stage
        lot = try reader.string()
        product = try reader.string()
        enterprise = try reader.string()
        try reader.skipString()  // device
        if try reader.byte() == 1 { try reader.skipString() }  // source
        time = Int64(bitPattern: try reader.word())
        try reader.skip(16)  // recorded at, sequence
        try reader.skipString()  // boot id
        try reader.skip(1)  // clock trusted
        inputLots = try (0..<reader.count()).map { _ in try reader.string() }
        let texts = try Self.publicTexts(&reader, FSMA204Exporter.entryKeys[stage])
        (name, place, document) = (texts.0, texts.1, texts.2)
    }

    /// The display texts of the name, place and document fields among the public fields.
    static func publicTexts(_ reader: inout EntryReader, _ keys: FSMA204Exporter.EntryKeys) throws -> (
        String?, String?, String?
    ) {
        var found: (String?, String?, String?) = (nil, nil, nil)
        for _ in 0..<(try reader.count()) {
            let key = try reader.lengthPrefixed()
            if let name = keys.name, found.0 == nil, key.elementsEqual(name) {
                found.0 = try reader.display()
            } else if let place = keys.place, found.1 == nil, key.elementsEqual(place) {
                found.1 = try reader.display()
            } else if found.2 == nil, key.elementsEqual(keys.document) {
                found.2 = try reader.display()
            } else {
                try reader.skipValue()
            }
        }
        return found
    }

    static func word(_ bytes: ArraySlice<UInt8>) -> UInt64 { bytes.reduce(0) { $0 << 8 | UInt64($1) } }

    /// 16 lower-case hexadecimal digits of `word`.
    func hex(_ word: UInt64) -> String {
        var bytes: [UInt8] = []
        FSMA204Record.appendHex(word, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the 16 lower-case hexadecimal digits of `word`.
    static func appendHex(_ word: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 60, through: 0, by: -4) {
            let digit = UInt8(truncatingIfNeeded: word >> UInt64(shift)) & 0xF
            bytes.append(digit < 10 ? 0x30 + digit : 0x57 + digit)
        }
    }
}

/// Reads canonical bytes in place (big-endian words, `UInt32`-length-prefixed strings).
struct EntryReader {
    let buffer: UnsafeRawBufferPointer
    var offset = 0

    init(bytes: UnsafeRawBufferPointer) { buffer = bytes }

    mutating func take(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, buffer.count - offset >= count else {
            throw Canonical.DecodingError.truncated(context: "log entry")
        }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
    }

    mutating func skip(_ count: Int) throws { _ = try take(count) }

    mutating func byte() throws -> UInt8 { try take(1)[0] }

    mutating func word() throws -> UInt64 { try take(8).reduce(0) { $0 << 8 | UInt64($1) } }

    mutating func count() throws -> Int { Int(try take(4).reduce(0) { $0 << 8 | UInt32($1) }) }

    mutating func lengthPrefixed() throws -> UnsafeRawBufferPointer { try take(try count()) }

    mutating func skipString() throws { try skip(try count()) }

    /// A string; ASCII (nearly every string on the ledger) skips the general UTF-8 validation.
    mutating func string() throws -> String {
        let raw = try lengthPrefixed().assumingMemoryBound(to: UInt8.self)
        if !raw.contains(where: { $0 >= 0x80 }) { return String(decoding: raw, as: UTF8.self) }
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw Canonical.DecodingError.invalidUTF8(context: "log entry")
        }
        return text
    }

    /// A field value as ``FieldValue/display`` shows it.
    mutating func display() throws -> String {
        switch try byte() {
        case 1: return try string()
        case 2: return FieldValue.number(Double(bitPattern: try word())).display
        case 3: return Timestamp(milliseconds: Int64(bitPattern: try word())).iso8601
        case 4: return try byte() == 1 ? "true" : "false"
        case 5: return "\(try skipSeries()) samples"
        case 6: return "\(try skipTrack()) positions"
        case let tag: throw Canonical.DecodingError.invalidTag(tag, context: "field value")
        }
    }

    /// Skips a field value.
    mutating func skipValue() throws {
        switch try byte() {
        case 1: try skipString()
        case 2, 3: try skip(8)
        case 4: try skip(1)
        case 5: _ = try skipSeries()
        case 6: _ = try skipTrack()
        case let tag: throw Canonical.DecodingError.invalidTag(tag, context: "field value")
        }
    }

    /// Skips a sensor series (time, type, value, unit per sample); returns its sample count.
    mutating func skipSeries() throws -> Int {
        let samples = try count()
        for _ in 0..<samples {
            try skip(8)
            try skipString()
            try skip(8)
            try skipString()
        }
        return samples
    }

    /// Skips a track (time, latitude, longitude per fix); returns its fix count.
    mutating func skipTrack() throws -> Int {
        let fixes = try count()
        try skip(fixes * 24)
        return fixes
    }
}
