import Foundation
import Ledger
import LedgerAPI
import TestSupport
import Testing

/// The CLI's `--tls-crl`: the API server's certificate checked against the CA's revocation
/// list during the handshake, and `agritrace enroll revoke --serial` putting the API's
/// certificate on that list. Real `agritrace api` processes over HTTPS with mutual TLS.
extension HTTPSAPITests {
    /// A deployment CA made by `agritrace enroll`, with the API's server certificate
    /// (`enroll server`) and a firm's client certificate (`enroll firm`).
    struct EnrolledDeployment {
        /// A key and the certificate the CA issued for it.
        struct Identity {
            var certificate: String
            var key: String
            var serial: String
        }

        var ca: String
        var crl: String { ca + "/crl.pem" }
        var caCertificate: String { ca + "/ca.crt" }
        var api: Identity
        var firm: Identity
    }

    func enrolledDeployment(in directory: String) throws -> EnrolledDeployment {
        let ca = directory + "/ca"
        _ = try enroll(["init", "--ca", ca])
        let api = try enrollIdentity(
            "agritrace-api", file: directory + "/api", ca: ca,
            issuing: ["server", "--name", "localhost", "--name", "127.0.0.1"], serialKey: "serial")
        let firm = try enrollIdentity(
            "alice", file: directory + "/alice", ca: ca,
            issuing: ["firm", "--id", "alice", "--enterprise", "RETAIL1", "--role", "supermarket-administrator"],
            serialKey: "certificateSerial")
        return EnrolledDeployment(ca: ca, api: api, firm: firm)
    }

    /// `agritrace enroll request` for `id` (the key and CSR at `file`.key and `file`.csr), then
    /// `agritrace enroll <issuing[0]> --ca <ca> --csr … --out <file>.crt` and the rest of
    /// `issuing`; the serial is read from the JSON it prints, at `serialKey`.
    func enrollIdentity(
        _ id: String, file: String, ca: String, issuing: [String], serialKey: String
    ) throws -> EnrolledDeployment.Identity {
        _ = try enroll(["request", "--id", id, "--key", file + ".key", "--out", file + ".csr"])
        let issued = try enroll(
            [issuing[0], "--ca", ca, "--csr", file + ".csr", "--out", file + ".crt"] + issuing.dropFirst())
        let fields = try JSONSerialization.jsonObject(with: Data(issued.utf8)) as? [String: Any]
        let serial = try #require(fields?[serialKey] as? String, "\(issued)")
        return EnrolledDeployment.Identity(certificate: file + ".crt", key: file + ".key", serial: serial)
    }

    /// `agritrace enroll` with `arguments`; its output, or an error holding it.
    func enroll(_ arguments: [String]) throws -> String {
        let result = try runAgritrace(["enroll"] + arguments)
        guard result.status == 0 else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: result.output])
        }
        return result.output
    }

    /// Before the API's certificate is revoked a client with `--tls-crl` reads; after
    /// `enroll revoke --serial` it refuses the server at the handshake, naming the certificate
    /// and saying it is revoked. Without `--tls-crl` the client still connects (unchanged).
    @Test func cliRefusesTheAPIServerOnceItsCertificateIsRevoked() async throws {
        let fixture = try populatedLedger(blocks: 1, perBlock: 4)
        let deployment = try enrolledDeployment(in: fixture.directory.path)
        let port = try freeLoopbackPort()
        let server = try BackgroundProcess(
            try builtProduct(named: "agritrace"),
            [
                "api", "--store", fixture.path, "--http-port", "\(port)", "--api-cert", deployment.api.certificate,
                "--api-key", deployment.api.key, "--api-client-ca", deployment.caCertificate, "--api-client-crl",
                deployment.crl,
            ],
            logFile: fixture.directory.file("api.log"))
        defer { server.terminate() }
        let base = "https://127.0.0.1:\(port)"
        let client = [
            "--tls-ca", deployment.caCertificate, "--tls-cert", deployment.firm.certificate, "--tls-key",
            deployment.firm.key,
        ]
        let checked = client + ["--tls-crl", deployment.crl]
        var result = try await firstAnswer(["status", "--api", base, "--json"] + checked)
        #expect(result.status == 0, "\(result.output)\n\(server.log)")
        #expect(result.output.contains("\"records\""))
        // By DNS name too (host-name verification still runs with the revocation check).
        result = try runAgritrace(["trace", "PL-0", "--api", "https://localhost:\(port)", "--json"] + checked)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("recordID"))

        // Revoking the firm's serial this way is refused: principals are revoked by id.
        result = try runAgritrace(["enroll", "revoke", "--ca", deployment.ca, "--serial", deployment.firm.serial])
        #expect(result.status != 0)
        #expect(result.output.contains("--id alice"), "\(result.output)")
        #expect(result.output.contains(deployment.firm.serial), "\(result.output)")
        // An unknown serial is an error naming it; a non-hex one names the field.
        result = try runAgritrace(["enroll", "revoke", "--ca", deployment.ca, "--serial", "DEADBEEF01"])
        #expect(result.status != 0)
        #expect(result.output.contains("serial DEADBEEF01: no certificate with this serial"), "\(result.output)")
        result = try runAgritrace(["enroll", "revoke", "--ca", deployment.ca, "--serial", "../ca"])
        #expect(result.status != 0)
        #expect(result.output.contains("invalid serial '../ca'"), "\(result.output)")
        result = try runAgritrace([
            "enroll", "revoke", "--ca", deployment.ca, "--serial", deployment.api.serial, "--id", "alice",
        ])
        #expect(result.status != 0)
        #expect(result.output.contains("either --id"), "\(result.output)")
        // Nothing was revoked by the refused commands: the server still verifies.
        result = try runAgritrace(["status", "--api", base, "--json"] + checked)
        #expect(result.status == 0, "\(result.output)")

        // The API's certificate is revoked (lower case, as some tools print serials).
        result = try runAgritrace([
            "enroll", "revoke", "--ca", deployment.ca, "--serial", deployment.api.serial.lowercased(), "--reason",
            "keyCompromise",
        ])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("\"serial\" : \"\(deployment.api.serial)\""), "\(result.output)")
        #expect(
            result.output.contains("\"revocationList\" : \"") && result.output.contains("/ca/crl.pem\""),
            "\(result.output)")
        let list = try runCommand("openssl", ["crl", "-in", deployment.crl, "-noout", "-text"])
        #expect(list.contains("Serial Number: \(deployment.api.serial)"), "\(list)")
        #expect(list.contains("Key Compromise"), "\(list)")

        result = try runAgritrace(["status", "--api", base, "--json"] + checked)
        #expect(result.status != 0)
        #expect(!result.output.contains("\"records\""))
        #expect(result.output.contains("is revoked"), "\(result.output)")
        #expect(result.output.contains("serial \(deployment.api.serial)"), "\(result.output)")
        #expect(result.output.contains("CN=agritrace-api"), "\(result.output)")
        #expect(result.output.contains(deployment.crl), "\(result.output)")
        // Every command that talks to the API takes the option (here a trace by DNS name).
        result = try runAgritrace(["trace", "PL-0", "--api", "https://localhost:\(port)", "--json"] + checked)
        #expect(result.status != 0)
        #expect(result.output.contains("is revoked"), "\(result.output)")
        #expect(!result.output.contains("recordID"))

        // Without --tls-crl nothing checks revocation: the client connects as before.
        result = try runAgritrace(["status", "--api", base, "--json"] + client)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("\"records\""))
    }

    /// A `--tls-crl` file that is missing, not a list, signed by another CA, or expired is
    /// refused before any request, naming the file and the fix; `--tls-crl` needs `--tls-ca`;
    /// with a good list the host name is still checked.
    @Test func cliRefusesAnUnusableRevocationListNamingTheFile() async throws {
        let fixture = try populatedLedger(blocks: 1, perBlock: 4)
        let directory = fixture.directory.path
        let certificates = try TestCertificates.generate(in: directory, clientCommonName: "firm-alice")
        let stranger = try TemporaryDirectory(prefix: "agritrace-stranger")
        let other = try TestCertificates.generate(in: stranger.path)
        let port = try freeLoopbackPort()
        // On every address, so that a connection to 127.0.0.2 (not named by the certificate) arrives.
        let server = try BackgroundProcess(
            try builtProduct(named: "agritrace"),
            [
                "api", "--store", fixture.path, "--http-port", "\(port)", "--http-host", "0.0.0.0", "--api-cert",
                certificates.serverCertificateFile, "--api-key", certificates.serverKeyFile, "--api-client-ca",
                certificates.caFile,
            ],
            logFile: directory + "/api.log")
        defer { server.terminate() }
        let base = "https://127.0.0.1:\(port)"
        func status(crl: String, ca: String? = nil, base: String? = nil) throws -> (status: Int32, output: String) {
            try runAgritrace([
                "status", "--api", base ?? "https://127.0.0.1:\(port)", "--json", "--tls-ca", ca ?? certificates.caFile,
                "--tls-cert", certificates.clientCertificateFile, "--tls-key", certificates.clientKeyFile, "--tls-crl",
                crl,
            ])
        }
        let good = directory + "/crl.pem"
        try certificates.writeRevocationList(revoking: [], to: good)
        var result = try await firstAnswer([
            "status", "--api", base, "--json", "--tls-ca", certificates.caFile, "--tls-cert",
            certificates.clientCertificateFile, "--tls-key", certificates.clientKeyFile, "--tls-crl", good,
        ])
        #expect(result.status == 0, "\(result.output)\n\(server.log)")
        #expect(result.output.contains("\"records\""))

        // Missing.
        let missing = directory + "/no-such-crl.pem"
        result = try status(crl: missing)
        #expect(result.status != 0)
        #expect(result.output.contains("\(missing): cannot read the revocation list"), "\(result.output)")
        #expect(result.output.contains("agritrace enroll crl"), "\(result.output)")
        // Not a revocation list.
        result = try status(crl: certificates.caFile)
        #expect(result.status != 0)
        #expect(
            result.output.contains("\(certificates.caFile): no PEM revocation list could be read"), "\(result.output)")
        // Signed by another CA.
        let foreign = directory + "/foreign-crl.pem"
        try other.writeRevocationList(revoking: [], to: foreign)
        result = try status(crl: foreign)
        #expect(result.status != 0)
        #expect(
            result.output.contains("\(foreign): the revocation list is not signed by the CA in \(certificates.caFile)"),
            "\(result.output)")
        #expect(!result.output.contains("\"records\""))
        // Expired.
        let expired = directory + "/expired-crl.pem"
        try certificates.writeRevocationList(revoking: [], to: expired, seconds: 1)
        try await Task.sleep(for: .seconds(2))
        result = try status(crl: expired)
        #expect(result.status != 0)
        #expect(result.output.contains("\(expired): CRL has expired"), "\(result.output)")
        #expect(result.output.contains("agritrace enroll crl"), "\(result.output)")
        // --tls-crl without --tls-ca.
        result = try runAgritrace(["status", "--api", base, "--tls-crl", good])
        #expect(result.status != 0)
        #expect(result.output.contains("--tls-crl needs --tls-ca"), "\(result.output)")

        // The good list still works, and the host name is still checked with it.
        result = try status(crl: good)
        #expect(result.status == 0, "\(result.output)")
        result = try status(crl: good, base: "https://127.0.0.2:\(port)")
        #expect(result.status != 0)
        #expect(result.output.contains("does not name this host"), "\(result.output)")
        #expect(!result.output.contains("\"records\""))

        // The openssl-made list revoking the server's certificate: refused, naming it.
        try certificates.writeRevocationList(revoking: [certificates.serverCertificateFile], to: good)
        result = try status(crl: good)
        #expect(result.status != 0)
        #expect(result.output.contains("is revoked"), "\(result.output)")
        #expect(result.output.contains("CN=localhost"), "\(result.output)")
    }
}
