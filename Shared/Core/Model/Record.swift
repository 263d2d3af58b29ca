import Crypto

/// A record's stable id: 16 bytes derived from the enterprise, device and the device's
/// sequence number, so a re-sent record carries the same id and is stored once.
public struct RecordID: Hashable, Comparable, Sendable, CanonicalCodable, CustomStringConvertible {
    @usableFromInline var high: UInt64
    @usableFromInline var low: UInt64

    /// Derives the id of the `sequence`-th record of `device` in `enterprise`.
    public static func derive(enterprise: String, device: String, sequence: UInt64) -> RecordID {
        var writer = CanonicalWriter(capacity: 96)
        writer.write("agritrace/v1/record-id")
        writer.write(enterprise)
        writer.write(device)
        writer.write(sequence)
        let digest = Digest32.sha256(writer.bytes)
        return RecordID(high: digest.w0, low: digest.w1)
    }

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses the 32-character hexadecimal form.
    public init?(hex: String) {
        guard hex.utf8.count == 32, let bytes = [UInt8](hexString: hex) else { return nil }
        high = bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        low = bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// 32 lower-case hexadecimal characters.
    public var hex: String {
        var bytes: [UInt8] = []
        for word in [high, low] {
            for shift in stride(from: 56, through: 0, by: -8) {
                bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
            }
        }
        return bytes.hexString
    }

    public var description: String { hex }

    public static func < (lhs: RecordID, rhs: RecordID) -> Bool { (lhs.high, lhs.low) < (rhs.high, rhs.low) }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(high)
        writer.write(low)
    }

    public init(from reader: inout CanonicalReader) throws {
        high = try reader.readUInt64("record id")
        low = try reader.readUInt64("record id")
    }
}

/// A classified record: what goes on the ledger for one reading.
///
/// Public fields are in the clear; level-2 and level-1 values are represented only by their
/// separate salted commitments. The private values stay in the edge box's vault.
public struct Record: Hashable, Sendable, CanonicalCodable {
    public var id: RecordID
    public var stage: Stage
    public var lot: String
    public var product: String
    /// The enterprise that owns the record.
    public var enterprise: String
    /// The edge device that classified and signed the record.
    public var device: String
    /// The sensor or program on the box that produced the reading, if any.
    public var source: String?
    /// When the reading was observed (from the reading).
    public var time: Timestamp
    /// The device's wall clock when it accepted the reading.
    public var recordedAt: Timestamp
    /// The device's monotonic sequence number of this record (never reused).
    public var sequence: UInt64
    /// The boot the record was accepted in (random per agent start).
    public var bootID: String
    /// False when the device clock was before its enrollment date (e.g. a box that booted at 1970).
    public var clockTrusted: Bool
    /// Lots this lot was made from or carries.
    public var inputLots: [String]
    /// Public fields in canonical key order.
    public var publicFields: [FieldEntry]
    /// The commitment to the level-2 values, if the reading had any.
    public var level2: LevelCommitment?
    /// The commitment to the level-1 values, if the reading had any.
    public var level1: LevelCommitment?

    public init(
        id: RecordID, stage: Stage, lot: String, product: String, enterprise: String, device: String,
        source: String?, time: Timestamp, recordedAt: Timestamp, sequence: UInt64, bootID: String,
        clockTrusted: Bool, inputLots: [String], publicFields: [FieldEntry],
        level2: LevelCommitment?, level1: LevelCommitment?
    ) {
        self.init(
            id: id, stage: stage, lot: lot, product: product, enterprise: enterprise, device: device, source: source,
            time: time, recordedAt: recordedAt, sequence: sequence, bootID: bootID, clockTrusted: clockTrusted,
            inputLots: inputLots, sortedPublicFields: publicFields.canonicallySorted(), level2: level2, level1: level1)
    }

    /// The memberwise form for public fields already in canonical key order (the classifier).
    init(
        id: RecordID, stage: Stage, lot: String, product: String, enterprise: String, device: String,
        source: String?, time: Timestamp, recordedAt: Timestamp, sequence: UInt64, bootID: String,
        clockTrusted: Bool, inputLots: [String], sortedPublicFields: [FieldEntry],
        level2: LevelCommitment?, level1: LevelCommitment?
    ) {
        self.id = id
        self.stage = stage
        self.lot = lot
        self.product = product
        self.enterprise = enterprise
        self.device = device
        self.source = source
        self.time = time
        self.recordedAt = recordedAt
        self.sequence = sequence
        self.bootID = bootID
        self.clockTrusted = clockTrusted
        self.inputLots = inputLots
        self.publicFields = sortedPublicFields
        self.level2 = level2
        self.level1 = level1
    }

    /// The commitment of `level`, if any.
    public func commitment(for level: PrivacyLevel) -> LevelCommitment? {
        switch level {
        case .level1: level1
        case .level2: level2
        case .public: nil
        }
    }

    /// The public value of a field, by full key.
    public func publicValue(_ key: String) -> FieldValue? {
        publicFields.first { $0.key == key }?.value
    }

    static let version: UInt8 = 1

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(Self.version)
        writer.write(id)
        writer.write(stage)
        writer.write(lot)
        writer.write(product)
        writer.write(enterprise)
        writer.write(device)
        writer.write(source)
        writer.write(time)
        writer.write(recordedAt)
        writer.write(sequence)
        writer.write(bootID)
        writer.write(clockTrusted)
        writer.write(inputLots)
        writer.write(publicFields)
        writer.write(level2)
        writer.write(level1)
    }

    public init(from reader: inout CanonicalReader) throws {
        let version = try reader.readUInt8("record version")
        guard version == Self.version else {
            throw Canonical.DecodingError.invalidTag(version, context: "record version")
        }
        id = try reader.read(RecordID.self)
        stage = try reader.read(Stage.self)
        lot = try reader.readString("lot")
        product = try reader.readString("product")
        enterprise = try reader.readString("enterprise")
        device = try reader.readString("device")
        source = try reader.readOptional(String.self, "source")
        time = try reader.read(Timestamp.self)
        recordedAt = try reader.read(Timestamp.self)
        sequence = try reader.readUInt64("sequence")
        bootID = try reader.readString("boot id")
        clockTrusted = try reader.readBool("clock trusted")
        inputLots = try reader.readArray(String.self, "input lots")
        publicFields = try reader.readSortedEntries("public fields")
        level2 = try reader.readOptional(LevelCommitment.self, "level-2 commitment")
        level1 = try reader.readOptional(LevelCommitment.self, "level-1 commitment")
        if let level2, level2.level != .level2 {
            throw Canonical.DecodingError.nonCanonical("level-2 slot holds a \(level2.level.rawValue) commitment")
        }
        if let level1, level1.level != .level1 {
            throw Canonical.DecodingError.nonCanonical("level-1 slot holds a \(level1.level.rawValue) commitment")
        }
    }
}

/// Who classifies and signs: the identity of an edge device.
public struct DeviceIdentity: Hashable, Sendable {
    public var enterprise: String
    public var device: String
    /// Wall times before this are not trusted (the box's clock was not yet set).
    public var enrolledAt: Timestamp

    public init(enterprise: String, device: String, enrolledAt: Timestamp) {
        self.enterprise = enterprise
        self.device = device
        self.enrolledAt = enrolledAt
    }
}

/// A reading split by privacy level: the record for the ledger and the private values for the vault.
public struct ClassifiedReading: Hashable, Sendable {
    public var record: Record
    public var level2: PrivateFields?
    public var level1: PrivateFields?

    /// The private values of `level`, if any.
    public func privateFields(_ level: PrivacyLevel) -> PrivateFields? {
        switch level {
        case .level1: level1
        case .level2: level2
        case .public: nil
        }
    }
}

/// Splits readings into public fields and salted level-2 / level-1 commitments by the catalog.
public struct Classifier: Sendable {
    public var catalog: FieldCatalog
    public var identity: DeviceIdentity

    public init(catalog: FieldCatalog = .standard, identity: DeviceIdentity) {
        self.catalog = catalog
        self.identity = identity
    }

    /// Classifies one validated reading.
    /// - Parameters:
    ///   - reading: a reading validated against the same catalog.
    ///   - sequence: the device's next sequence number.
    ///   - bootID: the current boot id.
    ///   - recordedAt: the device's wall clock now.
    /// - Returns: the record and the private values of each level with fresh salts.
    public func classify(_ reading: Reading, sequence: UInt64, bootID: String, recordedAt: Timestamp)
        -> ClassifiedReading
    {
        var publicFields: [FieldEntry] = []
        var level2: [FieldEntry] = []
        var level1: [FieldEntry] = []
        for (key, value) in reading.fields {
            // Validation has already refused unknown keys; an unknown key here is a programming error.
            let level = catalog.field(key: key)?.level ?? .level1
            let entry = FieldEntry(key: key, value: value)
            switch level {
            case .public: publicFields.append(entry)
            case .level2: level2.append(entry)
            case .level1: level1.append(entry)
            }
        }
        return classify(
            stage: reading.stage, lot: reading.lot, product: reading.product, source: reading.device,
            time: reading.time, inputLots: reading.inputLots, sortedPublicFields: publicFields.canonicallySorted(),
            sortedLevel2: level2.canonicallySorted(), sortedLevel1: level1.canonicallySorted(), sequence: sequence,
            bootID: bootID, recordedAt: recordedAt)
    }

    /// Classifies a reading whose fields are already split by level, each list in canonical
    /// key order (the agent's direct parser splits them from the catalog as it reads the
    /// line). Same record and private values as ``classify(_:sequence:bootID:recordedAt:)``
    /// on the equivalent ``Reading`` (fresh salts aside).
    public func classify(
        stage: Stage, lot: String, product: String, source: String?, time: Timestamp, inputLots: [String],
        sortedPublicFields: [FieldEntry], sortedLevel2: [FieldEntry], sortedLevel1: [FieldEntry],
        sequence: UInt64, bootID: String, recordedAt: Timestamp
    ) -> ClassifiedReading {
        let private2 =
            sortedLevel2.isEmpty
            ? nil : PrivateFields(level: .level2, sortedEntries: sortedLevel2, salt: PrivateFields.freshSalt())
        let private1 =
            sortedLevel1.isEmpty
            ? nil : PrivateFields(level: .level1, sortedEntries: sortedLevel1, salt: PrivateFields.freshSalt())
        let record = Record(
            id: .derive(enterprise: identity.enterprise, device: identity.device, sequence: sequence),
            stage: stage, lot: lot, product: product,
            enterprise: identity.enterprise, device: identity.device, source: source,
            time: time, recordedAt: recordedAt, sequence: sequence, bootID: bootID,
            clockTrusted: recordedAt >= identity.enrolledAt,
            inputLots: inputLots, sortedPublicFields: sortedPublicFields,
            level2: private2?.commitment(), level1: private1?.commitment())
        return ClassifiedReading(record: record, level2: private2, level1: private1)
    }
}
