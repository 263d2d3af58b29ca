import AgriTraceCore
import ArgumentParser
import Crypto
import Foundation
import LedgerClient

/// Reading keys from files or arguments (hex). Private keys are never printed.
enum Keys {
    static func readPrivateKey(file path: String) throws -> Curve25519.Signing.PrivateKey {
        try SecretFile.checkPermissions(path, what: "Ed25519 private key")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw UserError(
                "cannot read the key file \(path); create one with `agritrace keygen --output \(path)`")
        }
        guard let bytes = [UInt8](hexString: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32,
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: bytes)
        else { throw UserError("\(path) does not hold a 32-byte Ed25519 private key in hex") }
        return key
    }

    /// A public key given as 64 hex characters, or the path of a file holding them.
    static func readPublicKey(_ argument: String) throws -> Curve25519.Signing.PublicKey {
        var text = argument
        if FileManager.default.fileExists(atPath: argument) {
            text = (try? String(contentsOfFile: argument, encoding: .utf8)) ?? ""
        }
        guard let bytes = [UInt8](hexString: text.trimmingCharacters(in: .whitespacesAndNewlines)),
            let key = try? Curve25519.Signing.PublicKey(rawBytes: bytes)
        else {
            throw UserError("\(argument) is neither 64 hex characters of an Ed25519 public key nor a file holding them")
        }
        return key
    }
}

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the aggregator's Ed25519 authority key (signs blocks, receipts and registry transactions).")

    @Option(name: .long, help: "Where to write the private key (hex, mode 0600). The public key goes to <output>.pub.")
    var output: String = "authority.key"

    @Flag(name: .long, help: "Overwrite an existing key file.")
    var force = false

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        let key = Curve25519.Signing.PrivateKey()
        try SecretFile.writeKeyPair(
            privateKey: Array(key.rawRepresentation), publicKeyHex: key.publicKey.hex, to: output, force: force,
            orphaning: "a new key would orphan the store it signs")
        if json {
            struct Answer: Encodable {
                var privateKeyFile: String
                var publicKeyFile: String
                var publicKey: String
            }
            print(
                try Output.json(
                    Answer(privateKeyFile: output, publicKeyFile: output + ".pub", publicKey: key.publicKey.hex)))
        } else {
            print(
                "authority key written to \(output) (keep it secret); public key \(key.publicKey.hex) in \(output).pub")
        }
    }
}
