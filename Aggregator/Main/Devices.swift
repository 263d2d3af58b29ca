import AgriTraceCore
import ArgumentParser
import Crypto
import Foundation
import Ledger
import LedgerClient
import Provisioning

typealias Curve25519PublicKey = Curve25519.Signing.PublicKey

struct Devices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The device registry: add and revoke devices (signed registry transactions), list them.",
        subcommands: [Add.self, List.self, Revoke.self])

    struct Submission: ParsableArguments {
        @Option(name: .long, help: "The authority private key file that signs the registry transaction.")
        var authorityKey: String = "authority.key"
        @Option(
            name: .long, help: "Seconds to wait for the server to order the transaction into a block (0: do not wait).")
        var wait: Double = 10
        @OptionGroup var options: StoreOptions
    }

    static func submit(_ operation: RegistryTransaction.Operation, _ submission: Submission) throws {
        let key = try Keys.readPrivateKey(file: submission.authorityKey)
        if let stored = try LedgerStore(path: submission.options.store).registryAuthorityKey(),
            stored.rawRepresentation != key.publicKey.rawRepresentation
        {
            throw UserError("\(submission.authorityKey) is not the authority key of \(submission.options.store)")
        }
        let transaction = try Signed(
            RegistryTransaction(operation: operation, submittedAt: .now(), nonce: UInt64.random(in: 0...UInt64.max)),
            domain: .transaction, key: key)
        try Submitter.submitAndReport(transaction, options: submission.options, wait: submission.wait)
    }

    /// `--ca` and `--crl-reason` of `devices revoke` and `principals revoke`: revoke at the
    /// certificate authority too (every serial on the CRL, ACL rewritten, broker reloaded,
    /// as `agritrace enroll revoke` does), so one command cuts both the network and the ledger.
    struct CertificateRevocation: ParsableArguments {
        @Option(
            name: .long,
            help:
                "The CA directory: also revoke the enrollment's certificates there (CRL, ACL, broker reload), as `enroll revoke` does."
        )
        var ca: String?
        @Option(
            name: .long,
            help:
                "With --ca: the CRL reason (\(CertificateAuthority.RevocationReason.allCases.map(\.rawValue).joined(separator: ", ")))."
        )
        var crlReason: String = "cessationOfOperation"

        /// Revokes, at the CA given by `--ca` (if any), the enrollment `matching` selects.
        func revoke(_ what: String, matching: (EnrollmentRecord) -> Bool) throws {
            guard let ca else { return }
            guard let reason = CertificateAuthority.RevocationReason(rawValue: crlReason) else {
                throw UserError(
                    "--crl-reason \(crlReason) is not one of \(CertificateAuthority.RevocationReason.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            let authority = try EnrollmentAuthority(directory: ca)
            guard let record = try authority.registry().enrollments.first(where: matching) else {
                throw UserError("the CA in \(ca) has no enrollment for \(what): nothing was revoked (check the names)")
            }
            if record.status == .revoked {
                print("\(what): already revoked at the CA (\(record.id))")
                return
            }
            let revoked = try authority.revoke(id: record.id, reason: reason)
            print(
                "\(what): certificates \(revoked.allSerials.joined(separator: ", ")) revoked at the CA (\(reason.rawValue)); CRL and ACL rewritten, broker reloaded"
            )
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Register a device with its Ed25519 public key (from `agritrace-agent init`), or from its enrollment record."
        )
        @Option(name: .long, help: "The device's enrollment record (from `agritrace enroll device --signing-key ...`).")
        var enrollment: String?
        @Option(name: .long) var enterprise: String?
        @Option(name: .long) var device: String?
        @Option(name: .long, help: "The device's public key (64 hex characters, or a file holding them).")
        var publicKey: String?
        @Option(name: .long, help: "The stage the device records.") var stage: String?
        @Flag(
            name: .long,
            help:
                "Register without a stage (the device may send records of any stage), even if its enrollment names one."
        )
        var anyStage = false
        @OptionGroup var submission: Submission

        func run() throws {
            var enterprise = enterprise, device = device, publicKey = publicKey, stage = stage
            if let enrollment {
                let record = try EnrollmentFile.read(enrollment)
                guard record.kind == .device else {
                    throw UserError("\(enrollment) enrolls a \(record.kind.rawValue), not a device")
                }
                enterprise = enterprise ?? record.enterprise
                device = device ?? record.id
                publicKey = publicKey ?? record.signingPublicKeyHex
                stage = stage ?? record.stage?.rawValue
            }
            guard let enterprise, let device, let publicKey else {
                throw UserError("give --enrollment, or --enterprise, --device and --public-key")
            }
            let key = try Keys.readPublicKey(publicKey)
            var parsedStage: Stage?
            if let stage, !anyStage {
                guard let value = Stage(name: stage) else {
                    throw UserError(
                        "\(stage) is not a stage (\(Stage.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                parsedStage = value
            }
            try Devices.submit(
                .addDevice(
                    enterprise: enterprise, device: device, publicKey: Array(key.rawRepresentation), stage: parsedStage),
                submission)
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Revoke a device: its batches are refused from then on; with --ca its certificates are revoked at the CA too."
        )
        @Option(name: .long) var enterprise: String
        @Option(name: .long) var device: String
        @Option(name: .long) var reason: String = "revoked by the operator"
        @OptionGroup var certificates: CertificateRevocation
        @OptionGroup var submission: Submission

        func run() throws {
            try certificates.revoke("device \(device) of \(enterprise)") {
                $0.kind == .device && $0.id == device && $0.enterprise == enterprise
            }
            try Devices.submit(.revokeDevice(enterprise: enterprise, device: device, reason: reason), submission)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered devices.")
        @OptionGroup var options: StoreOptions

        func run() async throws {
            let devices: [DeviceRow] = try await options.read("/v1/devices") { try options.queries().devices() }
            if try options.printedJSON(devices) { return }
            print(
                Output.table(
                    ["enterprise", "device", "stage", "status", "registered", "public key"],
                    devices.map {
                        [
                            $0.enterprise, $0.device, $0.stage ?? "-", $0.status.rawValue,
                            "block \($0.registeredHeight)",
                            $0.publicKey,
                        ]
                    }))
        }
    }
}
