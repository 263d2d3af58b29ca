import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A deployment's root certificate authority, kept in one directory and operated with the
/// `openssl ca` command (OpenSSL 3): EC P-256 keys, SHA-256 signatures, a serial file, an
/// index of every certificate issued (`index.txt`) and a certificate revocation list.
///
/// Layout of ``directory``:
///
/// | path | what | mode |
/// |---|---|---|
/// | `ca.crt` | the root certificate: give it to brokers and clients | 0644 |
/// | `private/ca.key` | the root private key | 0600 in 0700 |
/// | `openssl.cnf` | the `openssl ca` configuration | 0644 |
/// | `index.txt`, `serial`, `crlnumber` | the `openssl ca` database | 0644 |
/// | `issued/<SERIAL>.pem` | a copy of every certificate issued | 0644 |
/// | `crl.pem` | the current revocation list (`crlfile` of the broker) | 0644 |
///
/// The CA never sees a device's private key: it signs certificate requests. It writes the
/// subject and extensions itself (`-subj`, `copy_extensions = none`), so a request cannot
/// ask for another identity, a CA flag or extra names.
public struct CertificateAuthority: Sendable {
    /// Settings for a new certificate authority.
    public struct Options: Sendable {
        /// The root certificate's common name.
        public var commonName: String
        /// The root certificate's organization.
        public var organization: String
        /// How long the root certificate is valid. Default 3650 days.
        public var validityDays: Int
        /// How long each revocation list is valid (`nextUpdate`). The CRL must be refreshed
        /// (``generateRevocationList()``) before then, or the broker refuses every client.
        /// Default 30 days.
        public var revocationListValidityDays: Int

        /// Creates options.
        public init(
            commonName: String = "AgriTrace Root CA", organization: String = "AgriTrace",
            validityDays: Int = 3650, revocationListValidityDays: Int = 30
        ) {
            self.commonName = commonName
            self.organization = organization
            self.validityDays = validityDays
            self.revocationListValidityDays = revocationListValidityDays
        }
    }

    /// What a certificate may be used for.
    public enum Profile: Sendable, Hashable {
        /// A TLS server (the broker): `serverAuth`, DNS and IP subject alternative names.
        case server(names: [String])
        /// A TLS client (a device, firm, regulator or the aggregator): `clientAuth`, a URI
        /// subject alternative name.
        case client(uri: String)
        /// A member of a cluster that is both a server and a client of its peers (an etcd
        /// member, whose JSON gateway also dials the member with its certificate):
        /// `serverAuth` and `clientAuth`, DNS and IP subject alternative names.
        case clusterMember(names: [String])
    }

    /// When a certificate is valid.
    public enum Validity: Sendable, Hashable {
        /// From one hour ago (tolerates small clock differences) for this many days.
        case days(Int)
        /// An explicit window (tests use a window in the past to make expired certificates).
        case window(notBefore: Date, notAfter: Date)
    }

    /// Why a revocation happens (RFC 5280 reason codes as `openssl ca -crl_reason` names them).
    public enum RevocationReason: String, Sendable, Codable, CaseIterable {
        case unspecified
        case keyCompromise
        case affiliationChanged
        case superseded
        case cessationOfOperation
    }

    /// The directory holding the authority.
    public let directory: String

    /// The root certificate (PEM).
    public var certificateFile: String { directory + "/ca.crt" }
    /// The root private key (PEM, mode 0600).
    public var privateKeyFile: String { directory + "/private/ca.key" }
    /// The `openssl ca` configuration.
    public var configurationFile: String { directory + "/openssl.cnf" }
    /// The current certificate revocation list (PEM).
    public var revocationListFile: String { directory + "/crl.pem" }
    /// The directory with a copy of every certificate issued, named `<SERIAL>.pem`.
    public var issuedDirectory: String { directory + "/issued" }
    /// The `openssl ca` index: one line per certificate with status, expiry, serial, subject.
    public var indexFile: String { directory + "/index.txt" }

    let openssl: OpenSSLCommand

    /// Opens an existing authority.
    /// - Throws: ``ProvisioningError/notACertificateAuthority(directory:)`` if the files are missing.
    public init(directory: String) throws {
        self.directory = Self.absolute(directory)
        self.openssl = OpenSSLCommand()
        for file in [certificateFile, privateKeyFile, configurationFile, indexFile]
        where !FileManager.default.fileExists(atPath: file) {
            throw ProvisioningError.notACertificateAuthority(directory: self.directory)
        }
    }

    private init(creating directory: String) {
        self.directory = directory
        self.openssl = OpenSSLCommand()
    }

    /// Creates a new authority in `directory` (created if missing; it must not already hold one):
    /// a P-256 root key and a self-signed root certificate, the `openssl ca` database and an
    /// empty revocation list.
    public static func create(at directory: String, options: Options = Options()) throws -> CertificateAuthority {
        let directory = absolute(directory)
        let authority = CertificateAuthority(creating: directory)
        if FileManager.default.fileExists(atPath: authority.certificateFile) {
            throw ProvisioningError.alreadyExists(directory: directory)
        }
        try makeDirectory(directory, mode: 0o755)
        try makeDirectory(directory + "/private", mode: 0o700)
        try makeDirectory(authority.issuedDirectory, mode: 0o755)
        try makeDirectory(directory + "/work", mode: 0o700)
        try write(authority.configurationText(options: options), to: authority.configurationFile, mode: 0o644)
        try write("", to: authority.indexFile, mode: 0o644)
        // Several certificates of one subject may be valid at once (renewal overlaps).
        try write("unique_subject = no\n", to: authority.indexFile + ".attr", mode: 0o644)
        try write(randomSerial() + "\n", to: directory + "/serial", mode: 0o644)
        try write("1000\n", to: directory + "/crlnumber", mode: 0o644)
        let keyFile = authority.privateKeyFile
        let previousMask = umask(0o077)
        defer { umask(previousMask) }
        try authority.openssl.run([
            "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-noenc",
            "-keyout", keyFile, "-out", authority.certificateFile, "-days", String(options.validityDays),
            "-subj", "/O=\(options.organization)/CN=\(options.commonName)", "-config", authority.configurationFile,
            "-extensions", "root_ca", "-sha256",
        ])
        chmod(keyFile, 0o600)
        chmod(authority.certificateFile, 0o644)
        try authority.generateRevocationList()
        return authority
    }

    /// Checks a certificate request's self-signature (proof that the requester holds the key).
    /// - Throws: ``ProvisioningError/invalidCertificateRequest(reason:)``.
    public func verifyRequest(_ requestFile: String) throws {
        let result = try openssl.runAllowingFailure(["req", "-in", requestFile, "-noout", "-verify"])
        guard result.status == 0 else {
            throw ProvisioningError.invalidCertificateRequest(
                reason: result.standardError.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// Signs a certificate request with the root key.
    ///
    /// The subject (`subject`, `openssl -subj` form) and the extensions come from the caller,
    /// not from the request; only the request's public key is used.
    /// - Returns: the issued certificate.
    public func issue(
        requestFile: String, subject: String, profile: Profile, validity: Validity
    ) throws -> IssuedCertificate {
        try verifyRequest(requestFile)
        return try withLock {
            let extensionsFile = directory + "/work/extensions-\(UUID().uuidString).cnf"
            try Self.write(Self.extensionsText(for: profile), to: extensionsFile, mode: 0o600)
            defer { try? FileManager.default.removeItem(atPath: extensionsFile) }
            let outputFile = directory + "/work/issued-\(UUID().uuidString).pem"
            defer { try? FileManager.default.removeItem(atPath: outputFile) }
            var arguments = [
                "ca", "-batch", "-config", configurationFile, "-in", requestFile, "-out", outputFile, "-notext",
                "-subj", subject, "-extfile", extensionsFile, "-extensions", "issued",
            ]
            switch validity {
            case .days(let days):
                let start = Date().addingTimeInterval(-3600)
                let end = start.addingTimeInterval(Double(days) * 86_400 + 3600)
                arguments += ["-startdate", Self.generalizedTime(start), "-enddate", Self.generalizedTime(end)]
            case .window(let notBefore, let notAfter):
                arguments += [
                    "-startdate", Self.generalizedTime(notBefore), "-enddate", Self.generalizedTime(notAfter),
                ]
            }
            try openssl.run(arguments)
            let pem = try String(contentsOfFile: outputFile, encoding: .utf8)
            let summary = try summarize(certificateFile: outputFile)
            return IssuedCertificate(pem: pem, summary: summary)
        }
    }

    /// Generates a key and a certificate request for `commonName` (for parties whose key is
    /// made on the CA host: the broker's server key in a one-machine deployment, tests).
    /// The key file is created with mode 0600.
    public func makeKeyAndRequest(commonName: String, keyFile: String, requestFile: String) throws {
        try Self.makeKeyAndRequest(openssl: openssl, commonName: commonName, keyFile: keyFile, requestFile: requestFile)
    }

    /// Generates a P-256 key (mode 0600) and a certificate request on the machine that will
    /// use the key: the device side of enrollment. Only the request leaves the machine.
    public static func makeKeyAndRequest(commonName: String, keyFile: String, requestFile: String) throws {
        try makeKeyAndRequest(
            openssl: OpenSSLCommand(), commonName: commonName, keyFile: keyFile, requestFile: requestFile)
    }

    static func makeKeyAndRequest(openssl: OpenSSLCommand, commonName: String, keyFile: String, requestFile: String)
        throws
    {
        try Principal.validate(commonName, field: "common name")
        let previousMask = umask(0o077)
        defer { umask(previousMask) }
        try openssl.run([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-noenc",
            "-keyout", keyFile, "-out", requestFile, "-subj", "/CN=\(commonName)",
        ])
        chmod(keyFile, 0o600)
        chmod(requestFile, 0o644)
    }

    /// A serial as the CA names its issued files: upper-case hex with an even number of
    /// digits. Accepts what `openssl x509 -serial` or a browser prints (`serial=` prefix, a
    /// `0x` prefix, colons, lower case).
    /// - Throws: ``ProvisioningError/invalidIdentifier(field:value:reason:)`` (field `serial`)
    ///   for anything that is not 1 to 40 bytes of hex.
    public static func normalizeSerial(_ serial: String) throws -> String {
        var text = serial.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ":", with: "").uppercased()
        for prefix in ["SERIAL=", "0X"] where text.hasPrefix(prefix) { text.removeFirst(prefix.count) }
        guard !text.isEmpty, text.count <= 80, text.allSatisfy(\.isHexDigit) else {
            throw ProvisioningError.invalidIdentifier(
                field: "serial", value: serial, reason: "a serial is hex digits, e.g. 3F2A91C07B5D4E18")
        }
        return text.count % 2 == 1 ? "0" + text : text
    }

    /// The file of the issued certificate with `serial`, nil when this CA issued none.
    public func issuedCertificateFile(serial: String) throws -> String? {
        let file = issuedDirectory + "/\(try Self.normalizeSerial(serial)).pem"
        return FileManager.default.fileExists(atPath: file) ? file : nil
    }

    /// Revokes the certificate with `serial` (hex, as in ``CertificateSummary/serial``) and
    /// publishes a new revocation list. Revoking an already revoked serial is not an error.
    /// - Throws: ``ProvisioningError/unknownSerial(serial:directory:)`` when this CA did not
    ///   issue it.
    public func revoke(serial: String, reason: RevocationReason) throws {
        try withLock {
            guard let file = try issuedCertificateFile(serial: serial) else {
                throw ProvisioningError.unknownSerial(serial: serial, directory: directory)
            }
            let result = try openssl.runAllowingFailure([
                "ca", "-config", configurationFile, "-revoke", file, "-crl_reason", reason.rawValue,
            ])
            if result.status != 0, !result.standardError.contains("Already revoked") {
                throw ProvisioningError.openssl(
                    command: "ca -revoke", status: result.status, message: result.standardError)
            }
            try generateRevocationListUnlocked()
        }
    }

    /// Writes a fresh revocation list to ``revocationListFile`` (new `thisUpdate` and
    /// `nextUpdate`). Run it on a timer well inside the CRL validity, and after every
    /// revocation; then make the broker reload (SIGHUP).
    public func generateRevocationList() throws {
        try withLock { try generateRevocationListUnlocked() }
    }

    private func generateRevocationListUnlocked() throws {
        let temporary = directory + "/work/crl-\(UUID().uuidString).pem"
        try openssl.run(["ca", "-gencrl", "-config", configurationFile, "-out", temporary])
        chmod(temporary, 0o644)
        guard rename(temporary, revocationListFile) == 0 else {
            throw ProvisioningError.file(path: revocationListFile, reason: String(cString: strerror(errno)))
        }
    }

    /// Reads a certificate's serial, validity, subject and subject alternative names.
    public func summarize(certificateFile: String) throws -> CertificateSummary {
        try CertificateSummary(certificateFile: certificateFile, openssl: openssl)
    }

    /// Checks a certificate the way the broker does: signed by this root, inside its
    /// validity window, not on the current revocation list.
    /// - Parameter date: check as of this time instead of now.
    public func verify(certificateFile: String, at date: Date? = nil) throws -> CertificateStatus {
        var arguments = [
            "verify", "-CAfile", self.certificateFile,
            "-CRLfile", revocationListFile, "-crl_check",
        ]
        if let date { arguments += ["-attime", String(Int(date.timeIntervalSince1970))] }
        arguments.append(certificateFile)
        let result = try openssl.runAllowingFailure(arguments)
        if result.status == 0 { return .valid }
        return CertificateStatus(verifyOutput: result.standardOutput + "\n" + result.standardError)
    }

    // MARK: Files

    func configurationText(options: Options) -> String {
        """
        # openssl ca configuration of an AgriTrace certificate authority (generated; see docs/provisioning.md).
        [ca]
        default_ca = agritrace_ca

        [agritrace_ca]
        dir = \(directory)
        database = $dir/index.txt
        new_certs_dir = $dir/issued
        serial = $dir/serial
        crlnumber = $dir/crlnumber
        certificate = $dir/ca.crt
        private_key = $dir/private/ca.key
        default_md = sha256
        default_days = 90
        default_crl_days = \(options.revocationListValidityDays)
        policy = subject_policy
        # The CA writes subject and extensions itself: nothing in a request is copied.
        copy_extensions = none
        unique_subject = no
        email_in_dn = no
        preserve = no
        name_opt = RFC2253
        cert_opt = ca_default
        crl_extensions = crl_extensions

        [subject_policy]
        organizationName = supplied
        organizationalUnitName = optional
        title = optional
        commonName = supplied

        [crl_extensions]
        authorityKeyIdentifier = keyid:always

        [req]
        distinguished_name = request_subject
        prompt = no

        [request_subject]
        CN = unused

        [root_ca]
        basicConstraints = critical,CA:TRUE,pathlen:0
        keyUsage = critical,keyCertSign,cRLSign
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid:always

        """
    }

    static func extensionsText(for profile: Profile) -> String {
        var text = """
            [issued]
            basicConstraints = critical,CA:FALSE
            keyUsage = critical,digitalSignature
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid:always

            """
        switch profile {
        case .server(let names):
            text += "extendedKeyUsage = serverAuth\nsubjectAltName = \(alternativeNames(names))\n"
        case .clusterMember(let names):
            text += "extendedKeyUsage = serverAuth,clientAuth\nsubjectAltName = \(alternativeNames(names))\n"
        case .client(let uri):
            text += "extendedKeyUsage = clientAuth\nsubjectAltName = URI:\(uri)\n"
        }
        return text
    }

    /// The `subjectAltName` value of server names: `IP:` for addresses, `DNS:` for the others.
    static func alternativeNames(_ names: [String]) -> String {
        names.map { isIPAddress($0) ? "IP:\($0)" : "DNS:\($0)" }.joined(separator: ",")
    }

    /// Checks a server name for a subject alternative name: an IPv4 or IPv6 address, or a DNS
    /// name of letters, digits and hyphens in dot-separated labels (a leading `*.` allowed).
    static func validateServerName(_ name: String) throws {
        if isIPAddress(name) { return }
        let host = name.hasPrefix("*.") ? String(name.dropFirst(2)) : name
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        let valid =
            !host.isEmpty && host.utf8.count <= 253
            && labels.allSatisfy { label in
                (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                    && label.utf8.allSatisfy { byte in
                        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A)
                            || (byte >= 0x61 && byte <= 0x7A)
                            || byte == 0x2D
                    }
            }
        guard valid else {
            throw ProvisioningError.invalidIdentifier(
                field: "server name", value: name,
                reason: "give a DNS name (letters, digits, hyphens, dots) or an IP address")
        }
    }

    static func isIPAddress(_ name: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1
    }

    static func generalizedTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss'Z'"
        return formatter.string(from: date)
    }

    /// A random positive 64-bit start serial (later serials count up from it).
    static func randomSerial() -> String {
        let value = UInt64.random(in: 0x1000_0000_0000_0000...0x7FFF_FFFF_FFFF_FFFF)
        return String(value, radix: 16, uppercase: true)
    }

    static func absolute(_ path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.standardizedFileURL.path
    }

    static func makeDirectory(_ path: String, mode: mode_t) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ProvisioningError.file(path: path, reason: "\(error)")
        }
        chmod(path, mode)
    }

    /// Writes `text` to `path` atomically (temporary file and rename) with `mode`.
    static func write(_ text: String, to path: String, mode: mode_t) throws {
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)) else {
            throw ProvisioningError.file(path: temporary, reason: "cannot create")
        }
        chmod(temporary, mode)
        guard rename(temporary, path) == 0 else {
            throw ProvisioningError.file(path: path, reason: String(cString: strerror(errno)))
        }
    }

    /// Runs `body` holding an exclusive `flock` on `<directory>/<name>`, so two processes
    /// never race on the serial file and the index (`.lock`) or the registry (`.registry.lock`).
    /// Locks are taken in that order only: registry, then CA.
    func withLock<T>(named name: String = ".lock", _ body: () throws -> T) throws -> T {
        let path = directory + "/" + name
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ProvisioningError.file(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else {
            throw ProvisioningError.file(path: path, reason: String(cString: strerror(errno)))
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }
}

/// A certificate the authority signed.
public struct IssuedCertificate: Sendable, Hashable {
    /// The certificate (PEM).
    public var pem: String
    /// Its serial, validity and names.
    public var summary: CertificateSummary
}

/// The fields of a certificate that enrollment records and checks.
public struct CertificateSummary: Sendable, Hashable, Codable {
    /// The serial number in upper-case hex (as `openssl x509 -serial` prints it).
    public var serial: String
    /// Start of validity.
    public var notBefore: Date
    /// End of validity.
    public var notAfter: Date
    /// The subject in RFC 2253 form (`CN=farm-box-01,title=planter,OU=planting,O=FARM1`).
    public var subject: String
    /// The common name (the MQTT username).
    public var commonName: String?
    /// Subject alternative name URIs (`agritrace://FARM1/device/farm-box-01`).
    public var uris: [String]

    init(certificateFile: String, openssl: OpenSSLCommand) throws {
        let output = try openssl.run([
            "x509", "-in", certificateFile, "-noout", "-serial", "-startdate", "-enddate", "-subject",
            "-nameopt", "RFC2253", "-dateopt", "iso_8601", "-ext", "subjectAltName",
        ])
        var serial = ""
        var notBefore: Date?
        var notAfter: Date?
        var subject = ""
        var uris: [String] = []
        for rawLine in output.split(separator: "\n") {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("serial=") {
                serial = String(line.dropFirst("serial=".count)).uppercased()
            } else if line.hasPrefix("notBefore=") {
                notBefore = Self.parseDate(String(line.dropFirst("notBefore=".count)))
            } else if line.hasPrefix("notAfter=") {
                notAfter = Self.parseDate(String(line.dropFirst("notAfter=".count)))
            } else if line.hasPrefix("subject=") {
                subject = String(line.dropFirst("subject=".count))
            } else {
                for entry in line.split(separator: ",") {
                    let trimmed = entry.trimmingCharacters(in: .whitespaces)
                    if trimmed.hasPrefix("URI:") { uris.append(String(trimmed.dropFirst(4))) }
                }
            }
        }
        guard !serial.isEmpty, let notBefore, let notAfter else {
            throw ProvisioningError.file(path: certificateFile, reason: "cannot read serial and validity")
        }
        self.serial = serial
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.subject = subject
        self.uris = uris
        self.commonName =
            subject.split(separator: ",").lazy
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.hasPrefix("CN=") }
            .map { String($0.dropFirst(3)) }
    }

    static func parseDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss'Z'"
        return formatter.date(from: text)
    }
}

/// The outcome of checking a certificate against the authority (``CertificateAuthority/verify(certificateFile:at:)``).
public enum CertificateStatus: Sendable, Hashable, CustomStringConvertible {
    /// Trusted, in its validity window, not revoked.
    case valid
    /// Past its `notAfter`.
    case expired
    /// Before its `notBefore` (often: the checking machine's clock is wrong).
    case notYetValid
    /// On the revocation list.
    case revoked
    /// Not signed by this authority, or otherwise not acceptable (the reason from `openssl verify`).
    case untrusted(reason: String)

    init(verifyOutput: String) {
        if verifyOutput.contains("certificate has expired") {
            self = .expired
        } else if verifyOutput.contains("certificate is not yet valid") {
            self = .notYetValid
        } else if verifyOutput.contains("certificate revoked") {
            self = .revoked
        } else {
            let reason =
                verifyOutput.split(separator: "\n")
                .first { $0.contains("error") && $0.contains("lookup") }
                .map(String.init) ?? verifyOutput.trimmingCharacters(in: .whitespacesAndNewlines)
            self = .untrusted(reason: reason)
        }
    }

    public var description: String {
        switch self {
        case .valid: "valid"
        case .expired: "expired"
        case .notYetValid: "not yet valid"
        case .revoked: "revoked"
        case .untrusted(let reason): "untrusted: \(reason)"
        }
    }
}
