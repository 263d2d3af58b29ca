/// The canonical binary encoding used for every hash and signature in AgriTrace.
///
/// The encoding is schema-driven and has exactly one valid byte form per value, so the
/// same value gives the same bytes on every machine and Swift version:
///
/// - unsigned and signed integers: fixed width, big-endian (two's complement for signed);
/// - `Bool`: one byte, `0x00` or `0x01` (any other byte is rejected);
/// - `Double`: IEEE 754 binary64, big-endian; `-0.0` is written as `+0.0`, NaN is refused;
/// - strings: a `UInt32` byte count then the UTF-8 bytes exactly as given (no Unicode
///   normalization is applied, so canonically-equivalent strings with different code
///   points encode differently);
/// - byte strings: a `UInt32` count then the bytes;
/// - sequences: a `UInt32` element count then the elements;
/// - optionals: `0x00` for none, `0x01` followed by the value;
/// - maps: a sequence of (key, value) pairs in strictly increasing order of the key's
///   UTF-8 bytes; a decoder refuses unsorted or duplicate keys.
///
/// A decoder refuses trailing bytes, so a decoded value re-encodes to the input.
public enum Canonical {
    /// Errors raised while decoding canonical bytes.
    public enum DecodingError: Error, Equatable, CustomStringConvertible {
        /// The input ended before the value did.
        case truncated(context: String)
        /// The input is longer than the value.
        case trailingBytes(count: Int)
        /// A byte that is not a valid tag, flag or boolean.
        case invalidTag(UInt8, context: String)
        /// A string that is not valid UTF-8.
        case invalidUTF8(context: String)
        /// A value that decodes but is not in canonical form (e.g. an unsorted map).
        case nonCanonical(String)
        /// A length field larger than the remaining input or the decoder's limit.
        case lengthTooLarge(Int, context: String)

        public var description: String {
            switch self {
            case .truncated(let context): return "canonical bytes end early while reading \(context)"
            case .trailingBytes(let count): return "canonical bytes have \(count) unexpected trailing bytes"
            case .invalidTag(let tag, let context): return "invalid tag 0x\(String(tag, radix: 16)) for \(context)"
            case .invalidUTF8(let context): return "invalid UTF-8 in \(context)"
            case .nonCanonical(let reason): return "non-canonical encoding: \(reason)"
            case .lengthTooLarge(let length, let context): return "length \(length) too large for \(context)"
            }
        }
    }

    /// Encodes a value to its canonical bytes.
    @inlinable
    public static func encode<Value: CanonicalEncodable>(_ value: Value) -> [UInt8] {
        var writer = CanonicalWriter()
        value.encode(to: &writer)
        return writer.bytes
    }

    /// Decodes a value from canonical bytes, refusing trailing bytes.
    public static func decode<Value: CanonicalDecodable>(
        _ type: Value.Type,
        from bytes: some Collection<UInt8>
    ) throws -> Value {
        var reader = CanonicalReader(Array(bytes))
        let value = try Value(from: &reader)
        try reader.finish()
        return value
    }
}

/// A type with a canonical byte form.
public protocol CanonicalEncodable {
    /// Appends the canonical bytes of `self` to `writer`.
    func encode(to writer: inout CanonicalWriter)
}

/// A type that can be read back from its canonical byte form.
public protocol CanonicalDecodable {
    /// Reads a value from `reader`, refusing any non-canonical form.
    init(from reader: inout CanonicalReader) throws
}

/// A type that round-trips through the canonical encoding.
public typealias CanonicalCodable = CanonicalEncodable & CanonicalDecodable

/// Appends canonical bytes to a growing buffer.
public struct CanonicalWriter: Sendable {
    /// The bytes written so far.
    public var bytes: [UInt8]

    /// Creates an empty writer, reserving `capacity` bytes.
    @inlinable
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inlinable
    public mutating func write(_ value: UInt8) { bytes.append(value) }

    // Fixed-width integers are appended as one big-endian block: one capacity check and
    // one copy instead of one `append` per byte (receipts write thousands of digest words).

    @inlinable
    public mutating func write(_ value: UInt16) { writeBigEndian(value) }

    @inlinable
    public mutating func write(_ value: UInt32) { writeBigEndian(value) }

    @inlinable
    public mutating func write(_ value: UInt64) { writeBigEndian(value) }

    /// Appends an unsigned integer's bytes, most significant first, in one copy.
    @inlinable
    mutating func writeBigEndian<Value: FixedWidthInteger & UnsignedInteger>(_ value: Value) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    @inlinable
    public mutating func write(_ value: Int64) { write(UInt64(bitPattern: value)) }

    @inlinable
    public mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }

    /// Writes a `Double`; `-0.0` is written as `+0.0`.
    /// - Precondition: `value` is not NaN (callers validate input first).
    @inlinable
    public mutating func write(_ value: Double) {
        precondition(!value.isNaN, "NaN has no canonical encoding")
        write(value == 0 ? UInt64(0) : value.bitPattern)
    }

    @inlinable
    public mutating func write(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            write(UInt32(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// Writes a length-prefixed byte string.
    @inlinable
    public mutating func writeBytes(_ value: some Collection<UInt8>) {
        write(UInt32(value.count))
        bytes.append(contentsOf: value)
    }

    /// Writes bytes with no length prefix (for fixed-size values such as digests).
    @inlinable
    public mutating func writeRaw(_ value: some Sequence<UInt8>) {
        bytes.append(contentsOf: value)
    }

    @inlinable
    public mutating func write<Value: CanonicalEncodable>(_ value: Value) {
        value.encode(to: &self)
    }

    /// Writes several values in order, each in its canonical form: a type's `encode(to:)`
    /// is one call naming its fields in wire order.
    ///
    /// Swift 6.3 does not fully specialize a pack: each element is written through a witness
    /// call. The types encoded per reading on the agent's hot path (`Record` and its fields,
    /// the commitments, private and sealed fields) therefore keep separate `write` calls.
    @inlinable
    public mutating func write<First: CanonicalEncodable, Second: CanonicalEncodable, each Rest: CanonicalEncodable>(
        _ first: First, _ second: Second, _ rest: repeat each Rest
    ) {
        first.encode(to: &self)
        second.encode(to: &self)
        repeat (each rest).encode(to: &self)
    }
}

/// Reads canonical bytes, refusing anything that is not in canonical form.
public struct CanonicalReader: Sendable {
    @usableFromInline let bytes: [UInt8]
    @usableFromInline var offset: Int

    /// Creates a reader over `bytes`.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.offset = 0
    }

    /// The number of bytes not yet read.
    public var remaining: Int { bytes.count - offset }

    /// Throws unless every byte has been read.
    public func finish() throws {
        if remaining != 0 { throw Canonical.DecodingError.trailingBytes(count: remaining) }
    }

    @inlinable
    mutating func take(_ count: Int, _ context: String) throws -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count - offset >= count else {
            throw Canonical.DecodingError.truncated(context: context)
        }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    /// Reads a big-endian fixed-width integer with one bounds check and one unaligned load.
    @inlinable
    mutating func readBigEndian<Value: FixedWidthInteger>(_: Value.Type, _ context: String) throws -> Value {
        let size = MemoryLayout<Value>.size
        guard bytes.count - offset >= size else { throw Canonical.DecodingError.truncated(context: context) }
        defer { offset += size }
        return bytes.withUnsafeBytes { Value(bigEndian: $0.loadUnaligned(fromByteOffset: offset, as: Value.self)) }
    }

    public mutating func readUInt8(_ context: String = "UInt8") throws -> UInt8 {
        try readBigEndian(UInt8.self, context)
    }

    public mutating func readUInt16(_ context: String = "UInt16") throws -> UInt16 {
        try readBigEndian(UInt16.self, context)
    }

    public mutating func readUInt32(_ context: String = "UInt32") throws -> UInt32 {
        try readBigEndian(UInt32.self, context)
    }

    public mutating func readUInt64(_ context: String = "UInt64") throws -> UInt64 {
        try readBigEndian(UInt64.self, context)
    }

    public mutating func readInt64(_ context: String = "Int64") throws -> Int64 {
        Int64(bitPattern: try readUInt64(context))
    }

    public mutating func readBool(_ context: String = "Bool") throws -> Bool {
        switch try readUInt8(context) {
        case 0: return false
        case 1: return true
        case let tag: throw Canonical.DecodingError.invalidTag(tag, context: context)
        }
    }

    public mutating func readDouble(_ context: String = "Double") throws -> Double {
        let bits = try readUInt64(context)
        let value = Double(bitPattern: bits)
        if value.isNaN { throw Canonical.DecodingError.nonCanonical("NaN in \(context)") }
        if value == 0 && bits != 0 { throw Canonical.DecodingError.nonCanonical("negative zero in \(context)") }
        return value
    }

    public mutating func readLength(_ context: String) throws -> Int {
        let length = Int(try readUInt32(context))
        if length > remaining { throw Canonical.DecodingError.lengthTooLarge(length, context: context) }
        return length
    }

    public mutating func readString(_ context: String = "String") throws -> String {
        let length = try readLength(context)
        let slice = try take(length, context)
        let decoded = slice.withUnsafeBufferPointer { UTF8Text.string(validating: $0) }
        guard let string = decoded else { throw Canonical.DecodingError.invalidUTF8(context: context) }
        return string
    }

    public mutating func readBytes(_ context: String = "bytes") throws -> [UInt8] {
        let length = try readLength(context)
        return Array(try take(length, context))
    }

    /// Reads a length-prefixed byte string that must hold exactly `count` bytes (a key, a
    /// salt, a signature).
    public mutating func readBytes(_ context: String, count: Int) throws -> [UInt8] {
        let value = try readBytes(context)
        guard value.count == count else {
            throw Canonical.DecodingError.nonCanonical("\(context) of \(value.count) bytes")
        }
        return value
    }

    /// Reads the domain string a type's encoding begins with, refusing any other.
    public mutating func readDomain(_ expected: String, _ context: String) throws {
        let domain = try readString(context)
        guard domain == expected else { throw Canonical.DecodingError.nonCanonical("\(context) \(domain)") }
    }

    /// Reads a string that must be the raw value of a case of `type` (the spelling an enum
    /// keeps on the wire), refusing any other.
    public mutating func readRawValue<Value: RawRepresentable>(_ type: Value.Type, _ context: String) throws -> Value
    where Value.RawValue == String {
        let name = try readString(context)
        guard let value = Value(rawValue: name) else {
            throw Canonical.DecodingError.nonCanonical("unknown \(context) \(name)")
        }
        return value
    }

    @inlinable
    public mutating func read<Value: CanonicalDecodable>(_ type: Value.Type) throws -> Value {
        try Value(from: &self)
    }

    @inlinable
    public mutating func readOptional<Value: CanonicalDecodable>(
        _ type: Value.Type,
        _ context: String = "optional"
    ) throws -> Value? {
        switch try readUInt8(context) {
        case 0: return nil
        case 1: return try Value(from: &self)
        case let tag: throw Canonical.DecodingError.invalidTag(tag, context: context)
        }
    }

    @inlinable
    public mutating func readArray<Value: CanonicalDecodable>(
        _ type: Value.Type,
        _ context: String = "array"
    ) throws -> [Value] {
        let count = Int(try readUInt32(context))
        // Every element takes at least one byte: a count above the remaining input is a lie.
        if count > remaining { throw Canonical.DecodingError.lengthTooLarge(count, context: context) }
        var values: [Value] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try Value(from: &self)) }
        return values
    }
}

extension UInt8: CanonicalEncodable {
    @inlinable public func encode(to writer: inout CanonicalWriter) { writer.write(self) }
}

extension UInt16: CanonicalEncodable {
    @inlinable public func encode(to writer: inout CanonicalWriter) { writer.write(self) }
}

extension UInt32: CanonicalEncodable {
    @inlinable public func encode(to writer: inout CanonicalWriter) { writer.write(self) }
}

extension Bool: CanonicalEncodable {
    @inlinable public func encode(to writer: inout CanonicalWriter) { writer.write(self) }
}

extension Double: CanonicalEncodable {
    @inlinable public func encode(to writer: inout CanonicalWriter) { writer.write(self) }
}

/// An optional: `0x00` for none, `0x01` then the value.
extension Optional: CanonicalEncodable where Wrapped: CanonicalEncodable {
    @inlinable
    public func encode(to writer: inout CanonicalWriter) {
        if let value = self {
            writer.write(UInt8(1))
            value.encode(to: &writer)
        } else {
            writer.write(UInt8(0))
        }
    }
}

/// A sequence: a `UInt32` element count then the elements (for `[UInt8]`, the same as
/// ``CanonicalWriter/writeBytes(_:)``).
extension Array: CanonicalEncodable where Element: CanonicalEncodable {
    @inlinable
    public func encode(to writer: inout CanonicalWriter) {
        if Element.self == UInt8.self {
            // A byte string: the same bytes, appended at once (folded away when specialized).
            withUnsafeBytes { writer.writeBytes($0) }
            return
        }
        writer.write(UInt32(count))
        for element in self { element.encode(to: &writer) }
    }
}

extension String: CanonicalCodable {
    public func encode(to writer: inout CanonicalWriter) { writer.write(self) }
    public init(from reader: inout CanonicalReader) throws { self = try reader.readString() }
}

extension UInt64: CanonicalCodable {
    public func encode(to writer: inout CanonicalWriter) { writer.write(self) }
    public init(from reader: inout CanonicalReader) throws { self = try reader.readUInt64() }
}

extension Int64: CanonicalCodable {
    public func encode(to writer: inout CanonicalWriter) { writer.write(self) }
    public init(from reader: inout CanonicalReader) throws { self = try reader.readInt64() }
}
