/// Text from UTF-8 bytes, refusing invalid UTF-8: the one decoder of the parsers (the agent's
/// JSON lines, the canonical reader).
public enum UTF8Text {
    /// The string `bytes` spell, or nil when they are not valid UTF-8.
    ///
    /// ASCII (identifiers, units, most values) is valid UTF-8 as it stands and is decoded
    /// directly; anything else goes through the standard library's validating initializer,
    /// which is generic and not specialized for a byte buffer (on the intake path it cost more
    /// than the parsing around it).
    @inlinable
    public static func string(validating bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var highBits: UInt8 = 0
        for byte in bytes { highBits |= byte }
        return highBits < 0x80 ? String(decoding: bytes, as: UTF8.self) : String(validating: bytes, as: UTF8.self)
    }
}
