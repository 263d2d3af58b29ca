import AgriTraceCore
import ArgumentParser
import BuildInfo
import Foundation

/// `agritrace enroll ...`: the operator's command line for the certificate authority.
///
/// Add it to the `agritrace` executable as a subcommand (`subcommands: [..., EnrollCommand.self]`);
/// `agritrace-enroll` runs it standalone. Every command that enrolls, renews or revokes
/// prints the ``EnrollmentRecord`` as JSON on standard output: that is the registry
/// transaction to submit to the ledger.
public struct EnrollCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "enroll",
        abstract:
            "Certificate authority and enrollment of devices, firms and regulators (mTLS broker with per-device ACLs).",
        version: BuildInfo.description,
        subcommands: [
            Initialize.self, Request.self, Device.self, Firm.self, Regulator.self, Aggregator.self, Server.self,
            Renew.self,
            Revoke.self, List.self, RefreshRevocationList.self, BrokerConfig.self, Check.self,
        ])

    public init() {}

    /// `enroll init`: create the CA, the broker certificate, an empty registry and ACL.
    public struct Initialize: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "init", abstract: "Create a certificate authority and the broker's certificate in a directory."
        )
        @Option(help: "The CA directory to create.") var ca: String
        @Option(
            name: .customLong("broker-name"),
            help: "A DNS name or IP of the broker (repeatable; default localhost and 127.0.0.1).")
        var brokerNames: [String] = []
        @Option(help: "The root certificate's common name.") var name: String = "AgriTrace Root CA"
        @Option(help: "Device and aggregator certificate lifetime, days.") var deviceDays: Int = 90
        @Option(help: "Firm and regulator certificate lifetime, days.") var userDays: Int = 365
        @Option(help: "The broker's pid file: every change then sends it SIGHUP.") var brokerPidFile: String?
        public init() {}
        public func run() throws {
            var settings = EnrollmentAuthority.Settings()
            settings.deviceCertificateDays = deviceDays
            settings.userCertificateDays = userDays
            settings.brokerPidFile = brokerPidFile
            if !brokerNames.isEmpty { settings.brokerNames = brokerNames }
            let authority = try EnrollmentAuthority.create(
                at: ca, certificateAuthority: .init(commonName: name), settings: settings)
            print("created \(authority.directory)")
            print("ca certificate:     \(authority.certificateAuthority.certificateFile)")
            print("broker certificate: \(authority.brokerCertificateFile)")
            print("broker key:         \(authority.brokerKeyFile)")
            print("acl:                \(authority.aclFile)")
        }
    }

    /// `enroll request`: the device side: a key that never leaves the box, and a CSR.
    public struct Request: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Make a P-256 key (mode 0600) and a certificate request, on the machine that will use the key.")
        @Option(help: "The id (certificate common name).") var id: String
        @Option(help: "The private key file to create.") var key: String
        @Option(help: "The certificate request to write.") var out: String
        public init() {}
        public func run() throws {
            try CertificateAuthority.makeKeyAndRequest(commonName: id, keyFile: key, requestFile: out)
            print(out)
        }
    }

    /// Options shared by the enrolling commands.
    public struct Common: ParsableArguments {
        @Option(help: "The CA directory.") var ca: String
        @Option(help: "The certificate request (CSR) made by the principal.") var csr: String
        @Option(help: "Write the certificate here (default: print only the record).") var out: String?
        @Option(help: "The principal's Ed25519 signing public key (64 hex digits).") var signingKey: String?
        public init() {}

        func finish(_ enrollment: Enrollment) throws {
            if let out {
                try CertificateAuthority.write(enrollment.certificatePEM, to: out, mode: 0o644)
            }
            let data = try EnrollmentRegistry.encoder.encode(enrollment.record)
            print(String(decoding: data, as: UTF8.self))
        }
    }

    /// `enroll device`.
    public struct Device: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Enroll an edge box from its CSR.")
        @OptionGroup var common: Common
        @Option(help: "The device id (MQTT username, topic level).") var id: String
        @Option(help: "The enterprise id.") var enterprise: String
        @Option(help: "The stage: breeding, planting, processing, warehousing, transport, sales.") var stage: String
        @Option(help: "The ABAC role (default: the stage's first role).") var role: String?
        public init() {}
        public func run() throws {
            guard let stage = Stage(name: stage) else { throw ValidationError("unknown stage \(stage)") }
            let role = try role.map(parseRole)
            let authority = try EnrollmentAuthority(directory: common.ca)
            try common.finish(
                authority.enrollDevice(
                    id: id, enterprise: enterprise, stage: stage, role: role, certificateRequestFile: common.csr,
                    signingPublicKeyHex: common.signingKey))
        }
    }

    /// `enroll firm`.
    public struct Firm: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Enroll a firm's user from its CSR.")
        @OptionGroup var common: Common
        @Option(help: "The user id.") var id: String
        @Option(help: "The firm's enterprise id.") var enterprise: String
        @Option(help: "The ABAC role (its stage follows).") var role: String
        @Option(help: "The product category attribute.") var productCategory: String?
        public init() {}
        public func run() throws {
            let authority = try EnrollmentAuthority(directory: common.ca)
            try common.finish(
                authority.enrollFirm(
                    id: id, enterprise: enterprise, role: parseRole(role), productCategory: productCategory,
                    certificateRequestFile: common.csr, signingPublicKeyHex: common.signingKey))
        }
    }

    /// `enroll regulator`.
    public struct Regulator: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Enroll a regulator from its CSR.")
        @OptionGroup var common: Common
        @Option(help: "The regulator id.") var id: String
        @Option(help: "The agency (realm of the principal name).") var agency: String
        public init() {}
        public func run() throws {
            let authority = try EnrollmentAuthority(directory: common.ca)
            try common.finish(
                authority.enrollRegulator(
                    id: id, agency: agency, certificateRequestFile: common.csr, signingPublicKeyHex: common.signingKey))
        }
    }

    /// `enroll aggregator`.
    public struct Aggregator: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Enroll the aggregator's MQTT identity from its CSR.")
        @OptionGroup var common: Common
        @Option(help: "The aggregator id (MQTT username).") var id: String = "aggregator"
        public init() {}
        public func run() throws {
            let authority = try EnrollmentAuthority(directory: common.ca)
            try common.finish(
                authority.enrollAggregator(
                    id: id, certificateRequestFile: common.csr, signingPublicKeyHex: common.signingKey))
        }
    }

    /// `enroll server`: a TLS server certificate for the aggregator's HTTPS API.
    public struct Server: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract:
                "Issue a TLS server certificate (serverAuth) from a CSR, for the aggregator's HTTPS API; prints its serial, names and validity as JSON."
        )
        @Option(help: "The CA directory.") var ca: String
        @Option(help: "The certificate request (`enroll request` on the server).") var csr: String
        @Option(help: "Write the certificate here (mode 0644).") var out: String
        @Option(name: .customLong("name"), help: "A DNS name or IP address clients connect to (repeatable).")
        var names: [String]
        @Option(help: "The certificate's common name.") var commonName: String = "agritrace-api"
        @Option(help: "Lifetime in days.") var days: Int = 825
        @Flag(
            help:
                "Also clientAuth: for a cluster member that dials its peers with the same certificate (an etcd member)."
        )
        var clientAuth = false
        public init() {}
        public func run() throws {
            let authority = try EnrollmentAuthority(directory: ca)
            let issued = try authority.issueServerCertificate(
                requestFile: csr, commonName: commonName, names: names, days: days, clientAuth: clientAuth)
            try CertificateAuthority.write(issued.pem, to: out, mode: 0o644)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            struct Issued: Encodable {
                var serial: String
                var subject: String
                var names: [String]
                var notBefore: Date
                var notAfter: Date
            }
            let summary = issued.summary
            let record = Issued(
                serial: summary.serial, subject: summary.subject, names: names, notBefore: summary.notBefore,
                notAfter: summary.notAfter)
            print(String(decoding: try encoder.encode(record), as: UTF8.self))
        }
    }

    /// `enroll renew`.
    public struct Renew: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Issue a new certificate to an enrolled principal presenting its current, valid certificate.")
        @OptionGroup var common: Common
        @Option(help: "The principal id.") var id: String
        @Option(help: "The principal's current certificate.") var certificate: String
        @Option(help: "For a new key: the CSR signed with the current key (openssl dgst -sha256 -sign).") var signature:
            String?
        public init() {}
        public func run() throws {
            let authority = try EnrollmentAuthority(directory: common.ca)
            try common.finish(
                authority.renew(
                    id: id, certificateRequestFile: common.csr, presentedCertificateFile: certificate,
                    requestSignatureFile: signature, signingPublicKeyHex: common.signingKey))
        }
    }

    /// `enroll revoke`: a principal by id (every certificate it holds, its ACL lines), or one
    /// non-principal certificate by serial (the HTTPS API's server certificate, the broker's).
    public struct Revoke: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract:
                "Revoke every certificate of a principal (--id: CRL, registry and ACL updated, broker reloaded), or a server certificate by serial (--serial: the API's certificate from `enroll server`).",
            discussion: """
                --id prints the updated enrollment record (the registry transaction for the ledger).
                --serial prints the revoked certificate's serial, subject and the revocation list to copy \
                to every API client (agritrace --tls-crl); a principal's serial is refused: use --id.
                """)
        @Option(help: "The CA directory.") var ca: String
        @Option(help: "The principal id.") var id: String?
        @Option(
            help:
                "The serial (hex, as `enroll server` printed it) of a certificate that is not a principal's, e.g. the API's server certificate."
        )
        var serial: String?
        @Option(help: "unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation.")
        var reason: String = "unspecified"
        public init() {}

        public func validate() throws {
            guard (id == nil) != (serial == nil) else {
                throw ValidationError(
                    "give either --id (a principal) or --serial (a server certificate, e.g. the API's)")
            }
            guard CertificateAuthority.RevocationReason(rawValue: reason) != nil else {
                throw ValidationError(
                    "unknown --reason \(reason): one of "
                        + CertificateAuthority.RevocationReason.allCases.map(\.rawValue).joined(separator: ", "))
            }
        }

        public func run() throws {
            let reason = CertificateAuthority.RevocationReason(rawValue: reason) ?? .unspecified
            let authority = try EnrollmentAuthority(directory: ca)
            if let id {
                let record = try authority.revoke(id: id, reason: reason)
                print(String(decoding: try EnrollmentRegistry.encoder.encode(record), as: UTF8.self))
                return
            }
            let summary = try authority.revokeCertificate(serial: serial ?? "", reason: reason)
            struct Revoked: Encodable {
                var serial: String
                var subject: String
                var reason: String
                var revocationList: String
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let revoked = Revoked(
                serial: summary.serial, subject: summary.subject, reason: reason.rawValue,
                revocationList: authority.certificateAuthority.revocationListFile)
            print(String(decoding: try encoder.encode(revoked), as: UTF8.self))
        }
    }

    /// `enroll list`.
    public struct List: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "List enrollments.")
        @Option(help: "The CA directory.") var ca: String
        @Flag(help: "Print the registry as JSON.") var json = false
        public init() {}
        public func run() throws {
            let registry = try EnrollmentAuthority(directory: ca).registry()
            if json {
                print(String(decoding: try EnrollmentRegistry.encoder.encode(registry), as: UTF8.self))
                return
            }
            let formatter = ISO8601DateFormatter()
            for record in registry.enrollments {
                let columns = [
                    record.id.padding(toLength: 20, withPad: " ", startingAt: 0),
                    record.kind.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0),
                    record.status.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0),
                    record.certificateSerial.padding(toLength: 18, withPad: " ", startingAt: 0),
                    formatter.string(from: record.notAfter), record.principalName,
                ]
                print(columns.joined(separator: " "))
            }
        }
    }

    /// `enroll crl`.
    public struct RefreshRevocationList: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "crl", abstract: "Publish a fresh revocation list and reload the broker (run daily).")
        @Option(help: "The CA directory.") var ca: String
        public init() {}
        public func run() throws {
            let authority = try EnrollmentAuthority(directory: ca)
            try authority.refreshRevocationList()
            print(authority.certificateAuthority.revocationListFile)
        }
    }

    /// `enroll broker-config`.
    public struct BrokerConfig: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "broker-config",
            abstract: "Write the mosquitto configuration (TLS only, client certificates, CRL, ACL).")
        @Option(help: "The CA directory.") var ca: String
        @Option(help: "The mosquitto.conf to write.") var out: String
        @Option(help: "TLS port.") var port: Int = 8883
        @Option(help: "Listen address.") var bind: String = "0.0.0.0"
        @Option(help: "Log file (default: syslog).") var logFile: String?
        @Option(help: "Pid file.") var pidFile: String?
        @Option(help: "Persistence directory (default: no persistence).") var persistence: String?
        @Option(help: "User to switch to when started as root (default: mosquitto's).") var user: String?
        @Option(help: "Use these files instead of the CA directory's (a broker host with copies).")
        var filesFrom: String?
        public init() {}
        public func run() throws {
            let authority = try EnrollmentAuthority(directory: ca)
            var configuration = authority.brokerConfiguration(port: port, bindAddress: bind)
            if let filesFrom {
                configuration.caFile = filesFrom + "/ca.crt"
                configuration.certificateFile = filesFrom + "/server.crt"
                configuration.keyFile = filesFrom + "/server.key"
                configuration.revocationListFile = filesFrom + "/crl.pem"
                configuration.aclFile = filesFrom + "/acl"
            }
            configuration.logFile = logFile
            configuration.pidFile = pidFile
            configuration.persistenceDirectory = persistence
            configuration.runAsUser = user
            try configuration.write(to: out)
            print(out)
        }
    }

    /// `enroll check`.
    public struct Check: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract:
                "Say whether the broker would accept a certificate: valid, expired, not yet valid, revoked, untrusted.")
        @Option(help: "The CA directory.") var ca: String
        @Option(help: "The certificate to check.") var certificate: String
        public init() {}
        public func run() throws {
            let authority = try CertificateAuthority(directory: ca)
            let status = try authority.verify(certificateFile: certificate)
            let summary = try authority.summarize(certificateFile: certificate)
            print(
                "\(certificate): \(status) (serial \(summary.serial), CN=\(summary.commonName ?? "-"), notAfter \(ISO8601DateFormatter().string(from: summary.notAfter)))"
            )
            if status != .valid { throw ExitCode(1) }
        }
    }
}

private func parseRole(_ name: String) throws -> ABAC.Role {
    guard let role = ABAC.Role(rawValue: name) else {
        throw ValidationError(
            "unknown role \(name); use one of \(ABAC.Role.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return role
}
