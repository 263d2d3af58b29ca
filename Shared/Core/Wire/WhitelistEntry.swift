/// One whitelist line (`addToWhitelist`, `removeFromWhitelist`; docs/governance.md): a named
/// principal whose requests for one lot and level are granted without the regulator's match.
public struct WhitelistEntry: Hashable, Sendable, CanonicalCodable {
    public var lot: String
    public var level: ABAC.Sensitivity
    /// The registered principal the owner names.
    public var principal: String

    public init(lot: String, level: ABAC.Sensitivity, principal: String) {
        self.lot = lot
        self.level = level
        self.principal = principal
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(lot, level.rawValue, principal)
    }

    public init(from reader: inout CanonicalReader) throws {
        lot = try reader.readString("lot")
        level = try reader.readRawValue(ABAC.Sensitivity.self, "sensitivity level")
        principal = try reader.readString("principal")
    }
}
