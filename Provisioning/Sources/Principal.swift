import AgriTraceCore

/// What kind of party a certificate identifies.
public enum PrincipalKind: String, Sendable, Codable, CaseIterable {
    /// An edge box running `agritrace-agent`: publishes its own records, reads its own receipts.
    case device
    /// A firm's user of the `agritrace` CLI (traces, data requests). No MQTT access.
    case firm
    /// A regulator (matching, audits, attribute assignment). No MQTT access.
    case regulator
    /// The cloud aggregator: reads every device's records, writes every device's receipts.
    case aggregator

    /// The first component of the principal name (`EdgeNode/...`, `Firm/...`).
    public var service: String {
        switch self {
        case .device: "EdgeNode"
        case .firm: "Firm"
        case .regulator: "Regulator"
        case .aggregator: "Aggregator"
        }
    }
}

/// Who a certificate names: the identity fields the CA writes into the certificate and the
/// registry, whatever the certificate request asked for.
///
/// - `id` is the certificate's common name, which mosquitto takes as the MQTT username
///   (`use_identity_as_username`). It is unique across the deployment.
/// - The subject is `O=<enterprise>, OU=<stage or kind>, title=<role>, CN=<id>`; the
///   subject alternative name carries `URI:agritrace://<enterprise>/<kind>/<id>`.
/// - The principal name follows the Kerberos shape of the published method:
///   `EdgeNode/planting/farm-box-01@FARM1`, `Firm/alice@RETAILER1`, `Regulator/inspector@FOODAGENCY`.
public struct Principal: Sendable, Hashable, Codable {
    /// The kind of party.
    public var kind: PrincipalKind
    /// The unique id: certificate common name and MQTT username.
    public var id: String
    /// The enterprise (firm, farm, agency) the principal belongs to; a topic level for devices.
    public var enterprise: String
    /// The supply-chain stage (devices and firms).
    public var stage: Stage?
    /// The role: an ABAC role name for devices and firms (`planter`, `driver`, ...), or
    /// `regulator` / `aggregator`.
    public var role: String

    /// Creates a principal after checking every identifier.
    /// - Throws: ``ProvisioningError/invalidIdentifier(field:value:reason:)``.
    public init(kind: PrincipalKind, id: String, enterprise: String, stage: Stage?, role: String) throws {
        try Self.validate(id, field: "id")
        try Self.validate(enterprise, field: "enterprise")
        try Self.validate(role, field: "role")
        self.kind = kind
        self.id = id
        self.enterprise = enterprise
        self.stage = stage
        self.role = role
    }

    /// `EdgeNode/planting/farm-box-01@FARM1`: service, stage (if any), id, and the
    /// enterprise upper-cased as the realm.
    public var name: String {
        var components = [kind.service]
        if let stage { components.append(stage.rawValue) }
        components.append(id)
        return components.joined(separator: "/") + "@" + enterprise.uppercased()
    }

    /// `agritrace://FARM1/device/farm-box-01`: the subject alternative name URI.
    public var uri: String { "agritrace://\(enterprise)/\(kind.rawValue)/\(id)" }

    /// The organizational unit: the stage for devices and firms, the kind otherwise.
    public var organizationalUnit: String { stage?.rawValue ?? kind.rawValue }

    /// The subject in `openssl -subj` form: `/O=FARM1/OU=planting/title=planter/CN=farm-box-01`.
    public var subject: String { "/O=\(enterprise)/OU=\(organizationalUnit)/title=\(role)/CN=\(id)" }

    /// The device's record topic (`agritrace/v1/<enterprise>/<id>/records`); `nil` unless a device.
    public var recordTopic: String? {
        kind == .device ? Wire.recordTopic(enterprise: enterprise, device: id) : nil
    }

    /// The device's receipt topic (`agritrace/v1/<enterprise>/<id>/receipts`); `nil` unless a device.
    public var receiptTopic: String? {
        kind == .device ? Wire.receiptTopic(enterprise: enterprise, device: id) : nil
    }

    /// Checks an identifier used in certificate subjects, MQTT usernames, ACL lines and
    /// topic levels: 1 to 64 characters from `A-Z a-z 0-9 . _ -`, not starting with `.` or `-`.
    ///
    /// This is a security check, not style: `+`, `#` or `/` in an enterprise or device id
    /// would turn the device's ACL line into a wildcard over other devices' topics, and a
    /// space or newline would inject lines into the ACL file or split the subject.
    public static func validate(_ value: String, field: String) throws {
        guard !value.isEmpty, value.utf8.count <= 64 else {
            throw ProvisioningError.invalidIdentifier(field: field, value: value, reason: "must be 1 to 64 characters")
        }
        let allowed = value.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        guard allowed else {
            throw ProvisioningError.invalidIdentifier(
                field: field, value: value, reason: "only letters, digits, '.', '_' and '-' are allowed")
        }
        guard let first = value.utf8.first, first != UInt8(ascii: "."), first != UInt8(ascii: "-") else {
            throw ProvisioningError.invalidIdentifier(
                field: field, value: value, reason: "must not start with '.' or '-'")
        }
    }
}
