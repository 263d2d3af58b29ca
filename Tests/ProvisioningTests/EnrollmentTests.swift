import AgriTraceCore
import Foundation
import Provisioning
import TestSupport
import Testing

/// The certificate authority and enrollment registry, without a broker.
@Suite("Certificate authority and enrollment", .timeLimit(.minutes(2)))
struct EnrollmentTests {
    private func makeAuthority(_ directory: TemporaryDirectory) throws -> EnrollmentAuthority {
        try EnrollmentAuthority.create(at: directory.file("ca"))
    }

    private func request(_ directory: TemporaryDirectory, _ id: String, commonName: String? = nil) throws -> String {
        let file = directory.file("\(id).csr")
        try CertificateAuthority.makeKeyAndRequest(
            commonName: commonName ?? id, keyFile: directory.file("\(id).key"), requestFile: file)
        return file
    }

    @Test func theCALayoutKeepsPrivateKeysPrivate() throws {
        let directory = try TemporaryDirectory()
        let authority = try makeAuthority(directory)
        let ca = authority.certificateAuthority
        func mode(_ path: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
        }
        #expect(try mode(ca.privateKeyFile) == 0o600)
        #expect(try mode(ca.directory + "/private") == 0o700)
        #expect(try mode(authority.brokerKeyFile) == 0o600)
        #expect(try mode(ca.certificateFile) == 0o644)
        #expect(FileManager.default.fileExists(atPath: ca.revocationListFile))
        // The root is a CA limited to issuing leaf certificates, with a P-256 key.
        let text = try runCommand("openssl", ["x509", "-in", ca.certificateFile, "-noout", "-text"])
        #expect(text.contains("CA:TRUE, pathlen:0"))
        #expect(text.contains("prime256v1"))
        // The broker certificate names localhost and 127.0.0.1 and is for servers only.
        let server = try runCommand("openssl", ["x509", "-in", authority.brokerCertificateFile, "-noout", "-text"])
        #expect(server.contains("DNS:localhost") && server.contains("IP Address:127.0.0.1"))
        #expect(server.contains("TLS Web Server Authentication") && !server.contains("Client Authentication"))
        #expect(try ca.verify(certificateFile: authority.brokerCertificateFile) == .valid)
        // Creating twice in the same place is refused instead of overwriting the root key.
        #expect(throws: ProvisioningError.self) { try EnrollmentAuthority.create(at: directory.file("ca")) }
    }

    @Test func aDeviceCertificateCarriesTheIdentityTheCAChoseNotTheOneRequested() throws {
        let directory = try TemporaryDirectory()
        let authority = try makeAuthority(directory)
        // The box asks for a CA certificate named "aggregator"; the CA ignores all of it.
        let evilConfig = directory.file("evil.cnf")
        try """
        [req]
        distinguished_name = dn
        req_extensions = ext
        prompt = no
        [dn]
        CN = aggregator
        [ext]
        basicConstraints = critical,CA:TRUE
        subjectAltName = DNS:evil.example
        """.write(toFile: evilConfig, atomically: true, encoding: .utf8)
        let csr = directory.file("evil.csr")
        try runCommand(
            "openssl",
            [
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-noenc",
                "-keyout", directory.file("evil.key"), "-out", csr, "-config", evilConfig,
            ])
        let signingKey = String(repeating: "ab", count: 32)
        let enrollment = try authority.enrollDevice(
            id: "farm-box-01", enterprise: "FARM1", stage: .planting, role: .planter, certificateRequestFile: csr,
            signingPublicKeyHex: signingKey.uppercased())
        let file = directory.file("farm-box-01.crt")
        try enrollment.certificatePEM.write(toFile: file, atomically: true, encoding: .utf8)
        let text = try runCommand("openssl", ["x509", "-in", file, "-noout", "-text", "-nameopt", "RFC2253"])
        #expect(text.contains("Subject: CN=farm-box-01,title=planter,OU=planting,O=FARM1"))
        #expect(text.contains("URI:agritrace://FARM1/device/farm-box-01"))
        #expect(text.contains("CA:FALSE") && !text.contains("CA:TRUE"))
        #expect(!text.contains("evil.example"))
        #expect(text.contains("TLS Web Client Authentication") && !text.contains("Server Authentication"))

        let record = enrollment.record
        #expect(record.principalName == "EdgeNode/planting/farm-box-01@FARM1")
        #expect(record.kind == .device && record.enterprise == "FARM1" && record.stage == .planting)
        #expect(record.role == "planter")
        #expect(record.signingPublicKeyHex == signingKey)
        #expect(record.recordTopic == "agritrace/v1/FARM1/farm-box-01/records")
        #expect(record.receiptTopic == "agritrace/v1/FARM1/farm-box-01/receipts")
        #expect(record.notAfter.timeIntervalSince(record.notBefore) > 89 * 86_400)
        let summary = try authority.certificateAuthority.summarize(certificateFile: file)
        #expect(summary.serial == record.certificateSerial)
        // The CA index lists the serial as valid; the registry file lists the enrollment.
        let index = try String(contentsOfFile: authority.certificateAuthority.indexFile, encoding: .utf8)
        #expect(index.contains("\t\(record.certificateSerial)\t") && index.contains("CN=farm-box-01"))
        let registry = try EnrollmentRegistry.load(from: authority.registryFile)
        #expect(registry.enrollments == [record])
    }

    @Test func firmsRegulatorsAndTheAggregatorGetTheirOwnPrincipalNames() throws {
        let directory = try TemporaryDirectory()
        let authority = try makeAuthority(directory)
        let firm = try authority.enrollFirm(
            id: "alice", enterprise: "RETAIL1", role: .salesperson, productCategory: "rice",
            certificateRequestFile: request(directory, "alice"))
        #expect(firm.record.principalName == "Firm/sales/alice@RETAIL1")
        #expect(firm.record.stage == .sales && firm.record.productCategory == "rice")
        #expect(firm.record.notAfter.timeIntervalSince(firm.record.notBefore) > 364 * 86_400)
        let regulator = try authority.enrollRegulator(
            id: "inspector", agency: "FOODAGENCY", certificateRequestFile: request(directory, "inspector"))
        #expect(regulator.record.principalName == "Regulator/inspector@FOODAGENCY")
        let aggregator = try authority.enrollAggregator(certificateRequestFile: request(directory, "aggregator"))
        #expect(aggregator.record.principalName == "Aggregator/aggregator@AGRITRACE")
        #expect(try authority.registry().enrollments.map(\.id) == ["alice", "inspector", "aggregator"])
    }

    @Test func identifiersThatCouldEscapeTheirTopicOrACLLineAreRefused() throws {
        let directory = try TemporaryDirectory()
        let authority = try makeAuthority(directory)
        let csr = try request(directory, "box")
        for (id, enterprise) in [
            ("box", "FARM1/+"), ("box", "#"), ("box+", "FARM1"), ("box 1", "FARM1"), ("box\nuser aggregator", "FARM1"),
            ("", "FARM1"), ("-box", "FARM1"), (String(repeating: "x", count: 65), "FARM1"),
        ] {
            #expect(throws: ProvisioningError.self, "\(id) / \(enterprise)") {
                try authority.enrollDevice(
                    id: id, enterprise: enterprise, stage: .planting, certificateRequestFile: csr)
            }
        }
        // A role of another stage, a malformed signing key, a duplicate id, a corrupt CSR.
        #expect(throws: ProvisioningError.self) {
            try authority.enrollDevice(
                id: "box", enterprise: "FARM1", stage: .planting, role: .driver, certificateRequestFile: csr)
        }
        #expect(throws: ProvisioningError.self) {
            try authority.enrollDevice(
                id: "box", enterprise: "FARM1", stage: .planting, certificateRequestFile: csr,
                signingPublicKeyHex: "abcd")
        }
        _ = try authority.enrollDevice(id: "box", enterprise: "FARM1", stage: .planting, certificateRequestFile: csr)
        #expect(throws: ProvisioningError.alreadyEnrolled(id: "box")) {
            try authority.enrollFirm(id: "box", enterprise: "X", role: .planter, certificateRequestFile: csr)
        }
        let corrupt = directory.file("corrupt.csr")
        var pem = try String(contentsOfFile: csr, encoding: .utf8)
        let middle = pem.index(pem.startIndex, offsetBy: pem.count / 2)
        pem.replaceSubrange(middle...middle, with: pem[middle] == "A" ? "B" : "A")
        try pem.write(toFile: corrupt, atomically: true, encoding: .utf8)
        #expect(throws: ProvisioningError.self) {
            try authority.enrollDevice(
                id: "box2", enterprise: "FARM1", stage: .planting, certificateRequestFile: corrupt)
        }
        #expect(try authority.registry().enrollments.map(\.id) == ["box"])
    }

    @Test func theACLFollowsTheRegistry() throws {
        let directory = try TemporaryDirectory()
        let authority = try makeAuthority(directory)
        _ = try authority.enrollDevice(
            id: "farm-box-01", enterprise: "FARM1", stage: .planting, certificateRequestFile: request(directory, "a"))
        _ = try authority.enrollDevice(
            id: "truck-07", enterprise: "LOGI1", stage: .transport, certificateRequestFile: request(directory, "b"))
        _ = try authority.enrollAggregator(certificateRequestFile: request(directory, "c"))
        _ = try authority.enrollFirm(
            id: "alice", enterprise: "RETAIL1", role: .salesperson, certificateRequestFile: request(directory, "d"))
        var acl = try String(contentsOfFile: authority.aclFile, encoding: .utf8)
        #expect(
            acl.contains(
                """
                user farm-box-01
                topic write agritrace/v1/FARM1/farm-box-01/records
                topic write agritrace/v1/FARM1/farm-box-01/blobs
                topic read agritrace/v1/FARM1/farm-box-01/receipts
                topic read agritrace/v1/FARM1/farm-box-01/blob-acks
                """))
        #expect(
            acl.contains(
                """
                user aggregator
                topic write agritrace/v1/+/+/receipts
                topic write agritrace/v1/+/+/blob-acks
                topic write agritrace/v1/nodes/+
                topic read agritrace/v1/+/+/records
                topic read agritrace/v1/+/+/blobs
                topic read agritrace/v1/nodes/+
                """))
        #expect(acl.contains("user truck-07"))
        #expect(!acl.contains("alice"), "firms have no MQTT access")
        #expect(!acl.contains("pattern"))
        try authority.revoke(id: "truck-07", reason: .cessationOfOperation)
        acl = try String(contentsOfFile: authority.aclFile, encoding: .utf8)
        #expect(!acl.contains("truck-07"))
        #expect(acl.contains("user farm-box-01"))
        let crl = try runCommand(
            "openssl", ["crl", "-in", authority.certificateAuthority.revocationListFile, "-noout", "-text"])
        let serial = try #require(authority.registry().record(id: "truck-07")?.certificateSerial)
        #expect(crl.contains("Serial Number: \(serial)"))
        #expect(crl.contains("Cessation Of Operation"))
    }

    /// Enrollments running at the same time (several operators, several processes) never
    /// lose a registry entry or reuse a serial: the CA and registry are guarded by `flock`.
    @Test func concurrentEnrollmentsKeepEveryRecordAndUniqueSerials() async throws {
        let directory = try TemporaryDirectory()
        let authority = try makeAuthority(directory)
        let ids = (1...6).map { "box-\($0)" }
        let requests = try ids.map { try request(directory, $0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (id, csr) in zip(ids, requests) {
                group.addTask {
                    _ = try authority.enrollDevice(
                        id: id, enterprise: "FARM1", stage: .planting, certificateRequestFile: csr)
                }
            }
            try await group.waitForAll()
        }
        let records = try authority.registry().enrollments
        #expect(Set(records.map(\.id)) == Set(ids))
        #expect(Set(records.map(\.certificateSerial)).count == ids.count)
        let acl = try String(contentsOfFile: authority.aclFile, encoding: .utf8)
        #expect(ids.allSatisfy { acl.contains("user \($0)\n") })
    }

    @Test func aServerCertificateForTheAPIIsForServersOnlyAndRevocable() throws {
        let directory = try TemporaryDirectory()
        let authority = try makeAuthority(directory)
        let csr = try request(directory, "agritrace-api")
        let issued = try authority.issueServerCertificate(
            requestFile: csr, commonName: "agritrace-api", names: ["api.example.org", "127.0.0.1"], days: 30)
        let file = directory.file("api.crt")
        try issued.pem.write(toFile: file, atomically: true, encoding: .utf8)
        let ca = authority.certificateAuthority
        for check in [["-verify_hostname", "api.example.org"], ["-verify_ip", "127.0.0.1"]] {
            let output = try runCommand(
                "openssl", ["verify", "-CAfile", ca.certificateFile, "-purpose", "sslserver"] + check + [file])
            #expect(output.contains(": OK"), "\(output)")
        }
        // Not a client certificate, not another name, and not a principal in the registry.
        #expect(throws: (any Error).self) {
            try runCommand("openssl", ["verify", "-CAfile", ca.certificateFile, "-purpose", "sslclient", file])
        }
        #expect(throws: (any Error).self) {
            try runCommand(
                "openssl",
                [
                    "verify", "-CAfile", ca.certificateFile, "-purpose", "sslserver", "-verify_hostname", "evil.org",
                    file,
                ])
        }
        #expect(try authority.registry().enrollments.isEmpty)
        // It is in the CA's index: revoking its serial puts it on the revocation list.
        try ca.revoke(serial: issued.summary.serial, reason: .keyCompromise)
        #expect(try ca.verify(certificateFile: file) != .valid)
        // A name that would add another SAN entry, or none at all, is refused naming the field.
        for names in [["api.example.org,DNS:evil.org"], ["bad name"], ["-leading.org"], []] {
            #expect {
                _ = try authority.issueServerCertificate(requestFile: csr, commonName: "agritrace-api", names: names)
            } throws: { error in
                guard case .invalidIdentifier(let field, _, _) = error as? ProvisioningError else { return false }
                return field == "server name" || field == "name"
            }
        }
    }

    /// `enroll revoke --serial`: the API's server certificate goes on the CA's list by serial
    /// (any spelling openssl or a browser prints); a principal's serial is refused pointing to
    /// `--id` and stays valid; an unknown or non-hex serial is an error naming it.
    @Test func aServerCertificateIsRevokedBySerialAndPrincipalsOnlyById() throws {
        let directory = try TemporaryDirectory()
        let authority = try makeAuthority(directory)
        let ca = authority.certificateAuthority
        let issued = try authority.issueServerCertificate(
            requestFile: try request(directory, "agritrace-api"), commonName: "agritrace-api", names: ["127.0.0.1"])
        let file = directory.file("api.crt")
        try issued.pem.write(toFile: file, atomically: true, encoding: .utf8)
        let device = try authority.enrollDevice(
            id: "box-1", enterprise: "FARM1", stage: .planting, certificateRequestFile: try request(directory, "box-1"))
        let deviceFile = directory.file("box-1.crt")
        try device.certificatePEM.write(toFile: deviceFile, atomically: true, encoding: .utf8)

        // A principal's serial: refused, naming the principal and --id; nothing revoked.
        #expect {
            try authority.revokeCertificate(serial: device.record.certificateSerial, reason: .keyCompromise)
        } throws: { error in
            guard case .principalSerial(let serial, let id) = error as? ProvisioningError else { return false }
            return serial == device.record.certificateSerial && id == "box-1"
                && "\(error)".contains("enroll revoke --id box-1")
        }
        #expect(try ca.verify(certificateFile: deviceFile) == .valid)
        // Unknown and malformed serials.
        #expect {
            try authority.revokeCertificate(serial: "DEADBEEF01")
        } throws: { error in
            guard case .unknownSerial(let serial, _) = error as? ProvisioningError else { return false }
            return serial == "DEADBEEF01" && "\(error)".contains("serial DEADBEEF01")
        }
        for bad in ["../private/ca", "", "12 34", "0xZZ"] {
            #expect {
                try authority.revokeCertificate(serial: bad)
            } throws: { error in
                guard case .invalidIdentifier(let field, let value, _) = error as? ProvisioningError else {
                    return false
                }
                return field == "serial" && value == bad
            }
        }
        #expect(try ca.verify(certificateFile: file) == .valid)

        // The server's serial as `openssl x509 -serial` prints it, in lower case with colons.
        let hex = issued.summary.serial.lowercased()
        var colons = ""
        for (index, character) in hex.enumerated() {
            if index > 0 && index % 2 == 0 { colons += ":" }
            colons.append(character)
        }
        let revoked = try authority.revokeCertificate(serial: "serial=" + colons, reason: .keyCompromise)
        #expect(revoked.serial == issued.summary.serial)
        #expect(revoked.subject.contains("CN=agritrace-api"), "\(revoked.subject)")
        #expect(try ca.verify(certificateFile: file) == .revoked)
        #expect(try ca.verify(certificateFile: deviceFile) == .valid)
        let list = try runCommand("openssl", ["crl", "-in", ca.revocationListFile, "-noout", "-text"])
        #expect(list.contains("Serial Number: \(issued.summary.serial)") && list.contains("Key Compromise"), "\(list)")
        // Again: not an error (already revoked).
        try authority.revokeCertificate(serial: issued.summary.serial)
        #expect(try authority.registry().enrollments.map(\.status) == [.active])
    }

    @Test func theBrokerConfigurationIsTLSOnlyWithClientCertificates() throws {
        let directory = try TemporaryDirectory()
        let authority = try makeAuthority(directory)
        let text = authority.brokerConfiguration(port: 8883).render()
        let lines = Set(text.split(separator: "\n").map(String.init))
        for expected in [
            "allow_anonymous false", "require_certificate true", "use_identity_as_username true",
            "per_listener_settings false", "listener 8883 0.0.0.0",
            "crlfile \(authority.certificateAuthority.revocationListFile)", "acl_file \(authority.aclFile)",
            "cafile \(authority.certificateAuthority.certificateFile)", "keyfile \(authority.brokerKeyFile)",
        ] {
            #expect(lines.contains(expected), "missing: \(expected)")
        }
        #expect(lines.filter { $0.hasPrefix("listener") }.count == 1)
        #expect(!lines.contains { $0.hasPrefix("password_file") || $0.hasPrefix("allow_anonymous true") })
    }
}
