import AgriTraceCore
import Foundation

/// Enrollment for one deployment: the certificate authority, the registry of enrolled
/// principals, and the broker files generated from it (server certificate, ACL).
///
/// Every operation that changes who may connect (enroll, renew, revoke) updates, in order:
/// the `openssl ca` index, the revocation list (revoke), `registry.json`, and `broker/acl`;
/// then, if a broker pid file is configured, sends the broker SIGHUP. The returned
/// ``EnrollmentRecord`` is what the caller submits to the ledger as a registry transaction.
///
/// Layout (the CA files are described in ``CertificateAuthority``):
///
/// | path | what |
/// |---|---|
/// | `enrollment.json` | ``Settings``: validity periods, broker names, broker pid file |
/// | `registry.json` | ``EnrollmentRegistry``: every enrollment, active and revoked |
/// | `broker/server.crt`, `broker/server.key` | the broker's certificate and key (0600) |
/// | `broker/acl` | the mosquitto ACL file (``AccessControlList``) |
///
/// ```swift
/// let authority = try EnrollmentAuthority.create(at: "/var/lib/agritrace-ca")
/// let enrollment = try authority.enrollDevice(
///     id: "farm-box-01", enterprise: "FARM1", stage: .planting, role: .planter,
///     certificateRequestFile: "farm-box-01.csr", signingPublicKeyHex: deviceKeyHex)
/// // enrollment.certificatePEM goes back to the box; enrollment.record goes to the ledger.
/// ```
public struct EnrollmentAuthority: Sendable {
    /// Deployment settings kept in `enrollment.json`.
    public struct Settings: Sendable, Hashable, Codable {
        /// Names (DNS or IP) in the broker's certificate.
        public var brokerNames = ["localhost", "127.0.0.1"]
        /// Device and aggregator certificate lifetime in days.
        public var deviceCertificateDays = 90
        /// Firm and regulator certificate lifetime in days.
        public var userCertificateDays = 365
        /// The broker's certificate lifetime in days.
        public var brokerCertificateDays = 825
        /// The running broker's pid file: if set, every change sends it SIGHUP.
        public var brokerPidFile: String?

        /// The default settings (change a field to depart from one).
        public init() {}

        /// How long a new certificate of `kind` is valid: ``deviceCertificateDays`` for the
        /// machines (devices, the aggregator), ``userCertificateDays`` for firms and regulators.
        public func certificateDays(for kind: PrincipalKind) -> Int {
            kind == .device || kind == .aggregator ? deviceCertificateDays : userCertificateDays
        }
    }

    /// The certificate authority.
    public let certificateAuthority: CertificateAuthority
    /// The settings read from `enrollment.json`.
    public var settings: Settings

    /// The authority's directory.
    public var directory: String { certificateAuthority.directory }
    /// `registry.json`.
    public var registryFile: String { directory + "/registry.json" }
    /// `enrollment.json`.
    public var settingsFile: String { directory + "/enrollment.json" }
    /// `broker/`: the files the broker needs besides `ca.crt` and `crl.pem`.
    public var brokerDirectory: String { directory + "/broker" }
    /// The broker's certificate.
    public var brokerCertificateFile: String { brokerDirectory + "/server.crt" }
    /// The broker's private key (0600).
    public var brokerKeyFile: String { brokerDirectory + "/server.key" }
    /// The mosquitto ACL file.
    public var aclFile: String { brokerDirectory + "/acl" }

    /// Opens an existing deployment.
    public init(directory: String) throws {
        certificateAuthority = try CertificateAuthority(directory: directory)
        let settingsFile = certificateAuthority.directory + "/enrollment.json"
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: settingsFile))
            settings = try JSONDecoder().decode(Settings.self, from: data)
        } catch {
            throw ProvisioningError.file(path: settingsFile, reason: "cannot read settings: \(error)")
        }
    }

    /// Creates a deployment in `directory`: the CA, the broker's key and certificate (made
    /// here: the CA host is the broker host in a one-machine deployment; see
    /// ``issueBrokerCertificate(requestFile:)`` otherwise), an empty registry and ACL.
    public static func create(
        at directory: String, certificateAuthority options: CertificateAuthority.Options = .init(),
        settings: Settings = .init()
    ) throws -> EnrollmentAuthority {
        let ca = try CertificateAuthority.create(at: directory, options: options)
        let data = try EnrollmentRegistry.encoder.encode(settings)
        try CertificateAuthority.write(
            String(decoding: data, as: UTF8.self) + "\n", to: ca.directory + "/enrollment.json", mode: 0o644)
        let authority = try EnrollmentAuthority(directory: ca.directory)
        try CertificateAuthority.makeDirectory(authority.brokerDirectory, mode: 0o700)
        let request = ca.directory + "/work/broker.csr"
        try ca.makeKeyAndRequest(commonName: "agritrace-broker", keyFile: authority.brokerKeyFile, requestFile: request)
        defer { try? FileManager.default.removeItem(atPath: request) }
        _ = try authority.issueBrokerCertificate(requestFile: request)
        try EnrollmentRegistry().save(to: authority.registryFile)
        try AccessControlList(enrollments: []).write(to: authority.aclFile)
        return authority
    }

    /// Signs the broker's certificate request (common name `agritrace-broker`, the
    /// configured broker names as subject alternative names) and writes it to
    /// ``brokerCertificateFile``.
    public func issueBrokerCertificate(requestFile: String) throws -> IssuedCertificate {
        for name in settings.brokerNames { try CertificateAuthority.validateServerName(name) }
        let issued = try certificateAuthority.issue(
            requestFile: requestFile, subject: "/O=AgriTrace/OU=broker/CN=agritrace-broker",
            profile: .server(names: settings.brokerNames), validity: .days(settings.brokerCertificateDays))
        try CertificateAuthority.write(issued.pem, to: brokerCertificateFile, mode: 0o644)
        return issued
    }

    /// Signs the certificate request of another TLS server of the deployment (the aggregator's
    /// HTTPS API): `serverAuth`, `names` (DNS names or IP addresses) as subject alternative
    /// names, subject `/O=AgriTrace/OU=server/CN=<commonName>`. A server is not a principal:
    /// nothing goes into the registry or the ACL; the certificate is in the CA's index, so
    /// ``CertificateAuthority/revoke(serial:reason:)`` can revoke it by serial.
    /// - Parameter clientAuth: also `clientAuth`, for a cluster member that is a client of its
    ///   peers too (an etcd member: ``CertificateAuthority/Profile/clusterMember(names:)``).
    public func issueServerCertificate(
        requestFile: String, commonName: String, names: [String], days: Int = 825, clientAuth: Bool = false
    ) throws -> IssuedCertificate {
        try Principal.validate(commonName, field: "common name")
        guard !names.isEmpty else {
            throw ProvisioningError.invalidIdentifier(
                field: "name", value: "", reason: "give at least one DNS name or IP address (--name)")
        }
        for name in names { try CertificateAuthority.validateServerName(name) }
        guard (1...3650).contains(days) else {
            throw ProvisioningError.invalidIdentifier(
                field: "days", value: "\(days)", reason: "a server certificate lives 1 to 3650 days")
        }
        return try certificateAuthority.issue(
            requestFile: requestFile, subject: "/O=AgriTrace/OU=server/CN=\(commonName)",
            profile: clientAuth ? .clusterMember(names: names) : .server(names: names), validity: .days(days))
    }

    // MARK: Enrollment

    /// Enrolls an edge box.
    /// - Parameters:
    ///   - id: the device id: certificate common name, MQTT username, topic level.
    ///   - enterprise: its enterprise id (topic level).
    ///   - stage: the stage it records.
    ///   - role: the ABAC role it acts for; must belong to `stage`. Default: the stage's first role.
    ///   - certificateRequestFile: the CSR the box made with its own TLS key.
    ///   - signingPublicKeyHex: the box's Ed25519 batch-signing public key (32 bytes hex), if known.
    ///   - validity: override the certificate validity (tests); default ``Settings/deviceCertificateDays``.
    /// - Returns: the certificate and the record to submit to the ledger.
    public func enrollDevice(
        id: String, enterprise: String, stage: Stage, role: ABAC.Role? = nil, certificateRequestFile: String,
        signingPublicKeyHex: String? = nil, validity: CertificateAuthority.Validity? = nil
    ) throws -> Enrollment {
        let role = role ?? ABAC.Role.roles(of: stage).first!
        guard role.stage == stage else {
            throw ProvisioningError.invalidIdentifier(
                field: "role", value: role.rawValue,
                reason: "belongs to stage \(role.stage.rawValue), not \(stage.rawValue)")
        }
        let principal = try Principal(kind: .device, id: id, enterprise: enterprise, stage: stage, role: role.rawValue)
        return try enroll(
            principal, certificateRequestFile: certificateRequestFile, signingPublicKeyHex: signingPublicKeyHex,
            validity: validity)
    }

    /// Enrolls a firm's user (the `agritrace` CLI; no MQTT access). The stage is the role's stage.
    public func enrollFirm(
        id: String, enterprise: String, role: ABAC.Role, productCategory: String? = nil,
        certificateRequestFile: String, signingPublicKeyHex: String? = nil,
        validity: CertificateAuthority.Validity? = nil
    ) throws -> Enrollment {
        if let productCategory { try Principal.validate(productCategory, field: "product category") }
        let principal = try Principal(
            kind: .firm, id: id, enterprise: enterprise, stage: role.stage, role: role.rawValue)
        return try enroll(
            principal, productCategory: productCategory, certificateRequestFile: certificateRequestFile,
            signingPublicKeyHex: signingPublicKeyHex, validity: validity)
    }

    /// Enrolls a regulator (the `agritrace` CLI; no MQTT access).
    /// - Parameter agency: the regulator's organization (its realm in the principal name).
    public func enrollRegulator(
        id: String, agency: String, certificateRequestFile: String, signingPublicKeyHex: String? = nil,
        validity: CertificateAuthority.Validity? = nil
    ) throws -> Enrollment {
        let principal = try Principal(kind: .regulator, id: id, enterprise: agency, stage: nil, role: "regulator")
        return try enroll(
            principal, certificateRequestFile: certificateRequestFile, signingPublicKeyHex: signingPublicKeyHex,
            validity: validity)
    }

    /// Enrolls the aggregator's MQTT identity: reads every device's records (also through
    /// a shared subscription), writes every device's receipts.
    public func enrollAggregator(
        id: String = "aggregator", operator enterprise: String = "AGRITRACE", certificateRequestFile: String,
        signingPublicKeyHex: String? = nil, validity: CertificateAuthority.Validity? = nil
    ) throws -> Enrollment {
        let principal = try Principal(kind: .aggregator, id: id, enterprise: enterprise, stage: nil, role: "aggregator")
        return try enroll(
            principal, certificateRequestFile: certificateRequestFile, signingPublicKeyHex: signingPublicKeyHex,
            validity: validity)
    }

    /// Enrolls `principal`: issues its certificate (valid for `validity`, by default the
    /// settings' days for its kind) and adds its record to the registry.
    private func enroll(
        _ principal: Principal, productCategory: String? = nil, certificateRequestFile: String,
        signingPublicKeyHex: String?, validity: CertificateAuthority.Validity?
    ) throws -> Enrollment {
        let signingKey = try signingPublicKeyHex.map(Self.normalizeSigningKey)
        return try certificateAuthority.withLock(named: ".registry.lock") {
            var registry = try EnrollmentRegistry.load(from: registryFile)
            if registry.record(id: principal.id) != nil { throw ProvisioningError.alreadyEnrolled(id: principal.id) }
            let issued = try certificateAuthority.issue(
                requestFile: certificateRequestFile, subject: principal.subject, profile: .client(uri: principal.uri),
                validity: validity ?? .days(settings.certificateDays(for: principal.kind)))
            let record = EnrollmentRecord(
                kind: principal.kind, id: principal.id, principalName: principal.name, enterprise: principal.enterprise,
                stage: principal.stage, role: principal.role, productCategory: productCategory,
                signingPublicKeyHex: signingKey, certificateSerial: issued.summary.serial,
                certificateSubject: issued.summary.subject, notBefore: issued.summary.notBefore,
                notAfter: issued.summary.notAfter, enrolledAt: Self.now(), renewedAt: nil, previousSerials: [],
                status: .active, revokedAt: nil, revocationReason: nil, recordTopic: principal.recordTopic,
                receiptTopic: principal.receiptTopic)
            registry.enrollments.append(record)
            try commit(registry)
            return Enrollment(record: record, certificate: issued, authority: self)
        }
    }

    // MARK: Renewal and revocation

    /// Issues a new certificate to an enrolled, active principal that presents its current
    /// (or an earlier, still valid) certificate. Works any time the presented certificate is
    /// valid: a box offline for weeks renews as long as its certificate has not expired
    /// (90 days by default; agents should renew when 30 days are left). An expired or
    /// revoked certificate cannot renew: the operator enrolls the box again.
    ///
    /// The earlier certificate stays valid until it expires, so the agent keeps publishing
    /// with it until it reloads (SIGHUP) with the new one: nothing is lost during renewal.
    ///
    /// - Parameters:
    ///   - id: the principal's id.
    ///   - certificateRequestFile: a CSR for the same key (renewal) or a new key (re-key).
    ///   - presentedCertificateFile: the principal's current certificate.
    ///   - requestSignatureFile: required when the CSR's key differs from the presented
    ///     certificate's key: a signature of the CSR file made with the *current* private key
    ///     (`openssl dgst -sha256 -sign current.key -out csr.sig new.csr`), proving that the
    ///     holder of the current key asks for the new one. With the same key, the CSR's own
    ///     signature is that proof.
    ///   - signingPublicKeyHex: a new Ed25519 signing key, if it changes.
    /// - Throws: ``ProvisioningError/renewalRefused(id:reason:)`` and the enrollment errors.
    public func renew(
        id: String, certificateRequestFile: String, presentedCertificateFile: String,
        requestSignatureFile: String? = nil, signingPublicKeyHex: String? = nil,
        validity: CertificateAuthority.Validity? = nil
    ) throws -> Enrollment {
        let signingKey = try signingPublicKeyHex.map(Self.normalizeSigningKey)
        return try certificateAuthority.withLock(named: ".registry.lock") {
            var registry = try EnrollmentRegistry.load(from: registryFile)
            guard let index = registry.enrollments.firstIndex(where: { $0.id == id }) else {
                throw ProvisioningError.notEnrolled(id: id)
            }
            var record = registry.enrollments[index]
            guard record.status == .active else { throw ProvisioningError.revoked(id: id) }
            let presented = try certificateAuthority.summarize(certificateFile: presentedCertificateFile)
            guard presented.commonName == id, record.allSerials.contains(presented.serial) else {
                throw ProvisioningError.renewalRefused(
                    id: id, reason: "the presented certificate is not one issued to \(id)")
            }
            let status = try certificateAuthority.verify(certificateFile: presentedCertificateFile)
            guard status == .valid else {
                throw ProvisioningError.renewalRefused(id: id, reason: "the presented certificate is \(status)")
            }
            try checkKeyContinuity(
                id: id, requestFile: certificateRequestFile, presentedCertificateFile: presentedCertificateFile,
                requestSignatureFile: requestSignatureFile)
            let principal = try Principal(
                kind: record.kind, id: record.id, enterprise: record.enterprise, stage: record.stage, role: record.role)
            let issued = try certificateAuthority.issue(
                requestFile: certificateRequestFile, subject: principal.subject, profile: .client(uri: principal.uri),
                validity: validity ?? .days(settings.certificateDays(for: record.kind)))
            record.previousSerials.append(record.certificateSerial)
            record.certificateSerial = issued.summary.serial
            record.certificateSubject = issued.summary.subject
            record.notBefore = issued.summary.notBefore
            record.notAfter = issued.summary.notAfter
            record.renewedAt = Self.now()
            if let signingKey { record.signingPublicKeyHex = signingKey }
            registry.enrollments[index] = record
            try commit(registry)
            return Enrollment(record: record, certificate: issued, authority: self)
        }
    }

    /// Revokes a principal: every certificate it holds goes on the revocation list, its ACL
    /// lines go away, and the broker (if its pid file is configured) reloads. Connections
    /// already open are not cut by mosquitto, but every publish after the reload is denied
    /// by the ACL, and every new connection fails the TLS handshake.
    /// - Returns: the updated record (status `revoked`) for the ledger.
    @discardableResult
    public func revoke(id: String, reason: CertificateAuthority.RevocationReason = .unspecified) throws
        -> EnrollmentRecord
    {
        try certificateAuthority.withLock(named: ".registry.lock") {
            var registry = try EnrollmentRegistry.load(from: registryFile)
            guard let index = registry.enrollments.firstIndex(where: { $0.id == id }) else {
                throw ProvisioningError.notEnrolled(id: id)
            }
            var record = registry.enrollments[index]
            for serial in record.allSerials {
                try certificateAuthority.revoke(serial: serial, reason: reason)
            }
            if record.status != .revoked {
                record.status = .revoked
                record.revokedAt = Self.now()
                record.revocationReason = reason
            }
            registry.enrollments[index] = record
            try commit(registry)
            return record
        }
    }

    /// Revokes one certificate by serial that is not a principal's: the aggregator's HTTPS API
    /// certificate (``issueServerCertificate(requestFile:commonName:names:days:)``) or the
    /// broker's. It goes on the revocation list, the list is regenerated, and the broker (if
    /// its pid file is configured) reloads; clients that check the list (`--tls-crl`) refuse
    /// the server from then on.
    /// - Returns: the revoked certificate's serial, subject and validity.
    /// - Throws: ``ProvisioningError/principalSerial(serial:id:)`` for a principal's
    ///   certificate (revoke those with ``revoke(id:reason:)``),
    ///   ``ProvisioningError/unknownSerial(serial:directory:)`` when this CA did not issue it,
    ///   ``ProvisioningError/invalidIdentifier(field:value:reason:)`` when it is not hex.
    @discardableResult
    public func revokeCertificate(serial: String, reason: CertificateAuthority.RevocationReason = .unspecified) throws
        -> CertificateSummary
    {
        let normalized = try CertificateAuthority.normalizeSerial(serial)
        return try certificateAuthority.withLock(named: ".registry.lock") {
            let registry = try EnrollmentRegistry.load(from: registryFile)
            if let owner = registry.enrollments.first(where: { $0.allSerials.contains(normalized) }) {
                throw ProvisioningError.principalSerial(serial: normalized, id: owner.id)
            }
            guard let file = try certificateAuthority.issuedCertificateFile(serial: normalized) else {
                throw ProvisioningError.unknownSerial(serial: normalized, directory: directory)
            }
            let summary = try certificateAuthority.summarize(certificateFile: file)
            try certificateAuthority.revoke(serial: normalized, reason: reason)
            try reloadBroker()
            return summary
        }
    }

    /// The registry as it is on disk.
    public func registry() throws -> EnrollmentRegistry { try EnrollmentRegistry.load(from: registryFile) }

    /// Refreshes the revocation list (run daily from a timer) and reloads the broker.
    public func refreshRevocationList() throws {
        try certificateAuthority.generateRevocationList()
        try reloadBroker()
    }

    /// Rewrites the ACL from the registry (for example after restoring a backup).
    public func writeAccessControlList() throws {
        try AccessControlList(enrollments: registry().enrollments).write(to: aclFile)
    }

    /// A mosquitto configuration for this deployment's files.
    /// - Parameters:
    ///   - port: the TLS port.
    ///   - bindAddress: the address to listen on.
    public func brokerConfiguration(port: Int = 8883, bindAddress: String = "0.0.0.0") -> MosquittoConfiguration {
        MosquittoConfiguration(
            bindAddress: bindAddress, port: port, caFile: certificateAuthority.certificateFile,
            certificateFile: brokerCertificateFile, keyFile: brokerKeyFile,
            revocationListFile: certificateAuthority.revocationListFile, aclFile: aclFile)
    }

    /// Sends SIGHUP to the broker if ``Settings/brokerPidFile`` is set and the file exists.
    public func reloadBroker() throws {
        guard let pidFile = settings.brokerPidFile, FileManager.default.fileExists(atPath: pidFile) else { return }
        try BrokerReload.signal(pidFile: pidFile)
    }

    private func commit(_ registry: EnrollmentRegistry) throws {
        try registry.save(to: registryFile)
        try AccessControlList(enrollments: registry.enrollments).write(to: aclFile)
        try reloadBroker()
    }

    private func checkKeyContinuity(
        id: String, requestFile: String, presentedCertificateFile: String, requestSignatureFile: String?
    ) throws {
        let openssl = certificateAuthority.openssl
        let requestKey = try openssl.run(["req", "-in", requestFile, "-noout", "-pubkey"])
        let presentedKey = try openssl.run(["x509", "-in", presentedCertificateFile, "-noout", "-pubkey"])
        if requestKey == presentedKey { return }
        guard let requestSignatureFile else {
            throw ProvisioningError.renewalRefused(
                id: id, reason: "the request has a new key; a signature of it by the current key is required")
        }
        let keyFile = directory + "/work/presented-\(UUID().uuidString).pub"
        try CertificateAuthority.write(presentedKey, to: keyFile, mode: 0o600)
        defer { try? FileManager.default.removeItem(atPath: keyFile) }
        let result = try openssl.runAllowingFailure([
            "dgst", "-sha256", "-verify", keyFile, "-signature", requestSignatureFile, requestFile,
        ])
        guard result.status == 0 else {
            throw ProvisioningError.renewalRefused(
                id: id, reason: "the request's signature does not verify with the current certificate's key")
        }
    }

    /// Now, in whole seconds (the registry stores ISO 8601 times without fractions, so a
    /// record read back equals the record returned).
    static func now() -> Date { Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)) }

    static func normalizeSigningKey(_ hex: String) throws -> String {
        let lowered = hex.lowercased()
        guard lowered.utf8.count == 64,
            lowered.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else {
            throw ProvisioningError.invalidSigningKey(
                "expected 64 hex digits (32 bytes), got \(hex.utf8.count) characters")
        }
        return lowered
    }
}

/// The result of an enrollment or renewal.
public struct Enrollment: Sendable, Hashable {
    /// The registry record: submit it to the ledger.
    public var record: EnrollmentRecord
    /// The certificate (PEM): hand it back to the principal.
    public var certificatePEM: String
    /// A copy of the certificate in the CA (`issued/<SERIAL>.pem`).
    public var certificateFile: String
    /// The CA certificate the principal needs to trust the broker.
    public var caCertificateFile: String

    init(record: EnrollmentRecord, certificate: IssuedCertificate, authority: EnrollmentAuthority) {
        self.record = record
        self.certificatePEM = certificate.pem
        self.certificateFile = authority.certificateAuthority.issuedDirectory + "/\(certificate.summary.serial).pem"
        self.caCertificateFile = authority.certificateAuthority.certificateFile
    }
}
