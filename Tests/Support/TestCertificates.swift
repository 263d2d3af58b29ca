import Foundation

/// A throwaway certificate authority with a server certificate for `localhost` /
/// `127.0.0.1` and one client certificate, made with the `openssl` command-line tool
/// (P-256 keys, valid two days, unencrypted PEM files).
public struct TestCertificates: Sendable {
    /// The CA certificate (PEM): give it to clients as `caFile` and to the broker as `cafile`.
    public let caFile: String
    /// The CA private key (PEM), to sign more client certificates.
    public let caKeyFile: String
    /// The broker's certificate (SAN `DNS:localhost`, `IP:127.0.0.1`).
    public let serverCertificateFile: String
    /// The broker's private key.
    public let serverKeyFile: String
    /// A client certificate with common name ``clientCommonName``.
    public let clientCertificateFile: String
    /// The client's private key.
    public let clientKeyFile: String
    /// The client certificate's common name (the MQTT username under `use_identity_as_username`).
    public let clientCommonName: String
    /// The directory holding every file.
    public let directory: String

    private static let config = """
        [req]
        distinguished_name = dn
        prompt = no
        [dn]
        CN = unused
        [ca]
        basicConstraints = critical,CA:TRUE
        keyUsage = critical,keyCertSign,cRLSign
        subjectKeyIdentifier = hash
        [server]
        basicConstraints = CA:FALSE
        keyUsage = critical,digitalSignature
        extendedKeyUsage = serverAuth
        subjectAltName = DNS:localhost,IP:127.0.0.1
        [client]
        basicConstraints = CA:FALSE
        keyUsage = critical,digitalSignature
        extendedKeyUsage = clientAuth
        [member]
        basicConstraints = CA:FALSE
        keyUsage = critical,digitalSignature
        extendedKeyUsage = serverAuth,clientAuth
        subjectAltName = DNS:localhost,IP:127.0.0.1

        """

    /// Generates a CA, a server certificate and a client certificate in `directory`.
    /// - Throws: ``CommandError`` if `openssl` fails.
    public static func generate(in directory: String, clientCommonName: String = "test-device-1") throws
        -> TestCertificates
    {
        let configFile = directory + "/openssl-test.cnf"
        try config.write(toFile: configFile, atomically: true, encoding: .utf8)
        let caFile = directory + "/ca.crt"
        let caKey = directory + "/ca.key"
        try runCommand(
            "openssl",
            [
                "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", caKey, "-out", caFile, "-days", "2", "-subj", "/CN=AgriTrace Test CA",
                "-config", configFile, "-extensions", "ca",
            ])
        let certificates = TestCertificates(
            caFile: caFile, caKeyFile: caKey,
            serverCertificateFile: directory + "/server.crt", serverKeyFile: directory + "/server.key",
            clientCertificateFile: directory + "/\(clientCommonName).crt",
            clientKeyFile: directory + "/\(clientCommonName).key",
            clientCommonName: clientCommonName, directory: directory)
        try certificates.issue(
            commonName: "localhost", extensions: "server",
            certificateFile: certificates.serverCertificateFile, keyFile: certificates.serverKeyFile)
        try certificates.issue(
            commonName: clientCommonName, extensions: "client",
            certificateFile: certificates.clientCertificateFile, keyFile: certificates.clientKeyFile)
        return certificates
    }

    /// Issues another client certificate signed by the CA.
    /// - Returns: the certificate and key file paths.
    public func issueClientCertificate(commonName: String) throws -> (certificateFile: String, keyFile: String) {
        let certificate = directory + "/\(commonName).crt"
        let key = directory + "/\(commonName).key"
        try issue(commonName: commonName, extensions: "client", certificateFile: certificate, keyFile: key)
        return (certificate, key)
    }

    /// Issues a certificate for a cluster member that serves clients and is a client itself
    /// (an etcd member's JSON gateway dials its own member with it): server and client use,
    /// `DNS:localhost`, `IP:127.0.0.1`.
    /// - Returns: the certificate and key file paths.
    public func issueMemberCertificate(commonName: String) throws -> (certificateFile: String, keyFile: String) {
        let certificate = directory + "/\(commonName).crt"
        let key = directory + "/\(commonName).key"
        try issue(commonName: commonName, extensions: "member", certificateFile: certificate, keyFile: key)
        return (certificate, key)
    }

    /// Issues a new server certificate and key (a new serial, same names) and moves them over
    /// ``serverCertificateFile`` and ``serverKeyFile``, as a renewal on a server would.
    /// - Returns: the new certificate's serial number (upper-case hex, as `openssl x509 -serial`).
    public func renewServerCertificate() throws -> String {
        let certificate = directory + "/renewed-server.crt"
        let key = directory + "/renewed-server.key"
        try issue(commonName: "localhost", extensions: "server", certificateFile: certificate, keyFile: key)
        guard rename(key, serverKeyFile) == 0, rename(certificate, serverCertificateFile) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: serverCertificateFile])
        }
        return try Self.serial(ofCertificate: serverCertificateFile)
    }

    /// The serial number of a PEM certificate file (upper-case hex).
    public static func serial(ofCertificate file: String) throws -> String {
        let output = try runCommand("openssl", ["x509", "-in", file, "-noout", "-serial"])
        return String(output.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst("serial=".count))
    }

    /// Writes a revocation list signed by the CA that revokes `certificateFiles` (none: an
    /// empty list), valid for `seconds`, to `file`, replacing it atomically (as the
    /// deployment's `agritrace-enroll crl` does), with `openssl ca` over a fresh database.
    public func writeRevocationList(revoking certificateFiles: [String], to file: String, seconds: Int = 86_400)
        throws
    {
        let database = directory + "/crl-db-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: database, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: database) }
        try "".write(toFile: database + "/index.txt", atomically: true, encoding: .utf8)
        try "1000\n".write(toFile: database + "/crlnumber", atomically: true, encoding: .utf8)
        let configFile = database + "/ca.cnf"
        try """
        [ca]
        default_ca = test_ca
        [test_ca]
        database = \(database)/index.txt
        crlnumber = \(database)/crlnumber
        certificate = \(caFile)
        private_key = \(caKeyFile)
        default_md = sha256

        """.write(toFile: configFile, atomically: true, encoding: .utf8)
        for certificate in certificateFiles {
            try runCommand(
                "openssl", ["ca", "-config", configFile, "-revoke", certificate, "-crl_reason", "keyCompromise"])
        }
        let temporary = database + "/crl.pem"
        try runCommand(
            "openssl",
            ["ca", "-config", configFile, "-gencrl", "-crlsec", "\(seconds)", "-out", temporary])
        guard rename(temporary, file) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file])
        }
    }

    private func issue(commonName: String, extensions: String, certificateFile: String, keyFile: String) throws {
        let configFile = directory + "/openssl-test.cnf"
        let request = certificateFile + ".csr"
        try runCommand(
            "openssl",
            [
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", keyFile, "-out", request, "-subj", "/CN=\(commonName)", "-config", configFile,
            ])
        try runCommand(
            "openssl",
            [
                "x509", "-req", "-in", request, "-CA", caFile, "-CAkey", caKeyFile,
                "-set_serial", String(UInt32.random(in: 1...UInt32.max)), "-days", "2",
                "-out", certificateFile, "-extfile", configFile, "-extensions", extensions,
            ])
        try? FileManager.default.removeItem(atPath: request)
    }
}
