/// Why a provisioning operation failed.
public enum ProvisioningError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `openssl` exited with an error (its message names the file and the reason).
    case openssl(command: String, status: Int32, message: String)
    /// An identifier (device id, enterprise id, ...) has characters that are not allowed.
    case invalidIdentifier(field: String, value: String, reason: String)
    /// The certificate request's self-signature does not verify (no proof of possession).
    case invalidCertificateRequest(reason: String)
    /// The id is already enrolled (ids are MQTT usernames: unique across the deployment).
    case alreadyEnrolled(id: String)
    /// No enrollment has this id.
    case notEnrolled(id: String)
    /// The enrollment was revoked; a revoked principal must be enrolled again under a new id.
    case revoked(id: String)
    /// A renewal presented a certificate that is not the principal's current, valid one.
    case renewalRefused(id: String, reason: String)
    /// The device's Ed25519 signing public key is not 32 bytes of hex.
    case invalidSigningKey(String)
    /// The directory is not a certificate authority made by ``EnrollmentAuthority/create(at:options:)``.
    case notACertificateAuthority(directory: String)
    /// The directory already holds a certificate authority.
    case alreadyExists(directory: String)
    /// A file could not be read or written.
    case file(path: String, reason: String)
    /// No certificate with this serial was issued by the CA in `directory`.
    case unknownSerial(serial: String, directory: String)
    /// The serial is a principal's certificate: principals are revoked by id (`--id`), which
    /// also updates the registry and the broker's ACL.
    case principalSerial(serial: String, id: String)

    public var description: String {
        switch self {
        case .openssl(let command, let status, let message): "openssl \(command) failed (\(status)): \(message)"
        case .invalidIdentifier(let field, let value, let reason): "invalid \(field) '\(value)': \(reason)"
        case .invalidCertificateRequest(let reason): "invalid certificate request: \(reason)"
        case .alreadyEnrolled(let id): "'\(id)' is already enrolled"
        case .notEnrolled(let id): "'\(id)' is not enrolled"
        case .revoked(let id): "'\(id)' is revoked"
        case .renewalRefused(let id, let reason): "renewal of '\(id)' refused: \(reason)"
        case .invalidSigningKey(let reason): "invalid Ed25519 signing public key: \(reason)"
        case .notACertificateAuthority(let directory): "\(directory) is not an AgriTrace certificate authority"
        case .alreadyExists(let directory): "\(directory) already holds a certificate authority"
        case .file(let path, let reason): "\(path): \(reason)"
        case .unknownSerial(let serial, let directory):
            "serial \(serial): no certificate with this serial was issued by the CA in \(directory) "
                + "(give the serial `enroll server` printed, or see \(directory)/index.txt)"
        case .principalSerial(let serial, let id):
            "serial \(serial) is a certificate of the enrolled principal '\(id)': revoke it with `enroll revoke --id \(id)` "
                + "(that also updates the registry and the broker's ACL)"
        }
    }
}
