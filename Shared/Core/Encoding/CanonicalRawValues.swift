extension CanonicalReader {
    /// Reads a string and returns the value it is the raw value of: how a typed status or
    /// code travels on the wire. A spelling the type does not know is not canonical.
    public mutating func readRawValue<Value: RawRepresentable>(
        _ type: Value.Type, _ context: String
    ) throws -> Value where Value.RawValue == String {
        let text = try readString(context)
        guard let value = Value(rawValue: text) else {
            throw Canonical.DecodingError.nonCanonical("unknown \(context) \(text)")
        }
        return value
    }
}
