/// Whether a registered device or principal may still sign (stored and printed as the raw value).
public enum RegistrationStatus: String, Sendable, Hashable, CaseIterable, Codable {
    case active
    case revoked
}
