import AgriTraceCore
import ArgumentParser
import Crypto
import Foundation
import LedgerClient

/// `agritrace node`: a consortium node's own key (issue #16, docs/consortium.md).
struct Node: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A consortium node's Ed25519 key: it cosigns checkpoints and signs membership changes.",
        subcommands: [Keygen.self])

    /// The files of a node's key in its directory.
    struct KeyFiles {
        let directory: String
        var privateKey: String { directory + "/node.key" }
        var publicKey: String { directory + "/node.key.pub" }
        var verifierKey: String { directory + "/node.vkey" }

        /// The node's cosigner: its private key and the name in its vkey.
        func signer() throws -> NoteSigner {
            let key = try Keys.readPrivateKey(file: privateKey)
            let vkey = try ConsortiumFiles.verifierKey(verifierKey)
            guard vkey.publicKey == Array(key.publicKey.rawRepresentation) else {
                throw UserError(
                    "\(verifierKey) is not the verifier key of \(privateKey); fix: keep the files `agritrace node keygen` wrote together"
                )
            }
            return try NoteSigner(name: vkey.name, type: .cosignature, key: key)
        }
    }

    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Create a node key in a directory: node.key (hex, mode 0600), node.key.pub (hex, for `enroll aggregator --signing-key`) and node.vkey (the C2SP verifier key members list in the genesis)."
        )

        @Option(help: "The node's name in checkpoints' cosignature lines, e.g. regulator.agritrace.example.")
        var name: String

        @Option(help: "The node's directory (created if missing).")
        var output: String

        @Flag(help: "Overwrite an existing node key.")
        var force = false

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            guard NoteVerifierKey.isValidName(name) else {
                throw UserError(
                    "--name \"\(name)\" is empty or holds a space or '+'; fix: name the node like regulator.agritrace.example"
                )
            }
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            let files = KeyFiles(directory: output)
            let key = Curve25519.Signing.PrivateKey()
            let signer = try NoteSigner(name: name, type: .cosignature, key: key)
            try SecretFile.writeKeyPair(
                privateKey: Array(key.rawRepresentation), publicKeyHex: key.publicKey.hex, to: files.privateKey,
                force: force, orphaning: "a new key would leave the consortium that lists this node's verifier key")
            try Output.write(signer.verifierKey.vkey, to: files.verifierKey)
            if json {
                struct Answer: Encodable {
                    var privateKeyFile, publicKeyFile, verifierKeyFile, vkey: String
                }
                print(
                    try Output.json(
                        Answer(
                            privateKeyFile: files.privateKey, publicKeyFile: files.publicKey,
                            verifierKeyFile: files.verifierKey, vkey: signer.verifierKey.vkey)))
            } else {
                print(
                    "node key written to \(files.privateKey) (keep it secret); verifier key \(signer.verifierKey.vkey) in \(files.verifierKey)"
                )
            }
        }
    }
}

/// Reading the consortium's text files, with errors naming the file and the fix.
enum ConsortiumFiles {
    static func text(_ path: String, what: String) throws -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw UserError("cannot read the \(what) \(path)")
        }
        return text
    }

    /// Writes `text` as it is (its own final newline) to `path`.
    static func write(_ text: String, to path: String) throws {
        do { try Data(text.utf8).write(to: URL(fileURLWithPath: path)) } catch {
            throw UserError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    static func verifierKey(_ path: String) throws -> NoteVerifierKey {
        let text = try Self.text(path, what: "verifier key file").trimmingCharacters(in: .whitespacesAndNewlines)
        do { return try NoteVerifierKey(vkey: text) } catch {
            throw UserError("\(path): \(error); fix: give the node.vkey `agritrace node keygen` wrote")
        }
    }

    static func genesis(_ path: String) throws -> ConsortiumGenesis {
        do { return try ConsortiumGenesis(text: try Self.text(path, what: "genesis file")) } catch let error
            as ConsortiumError
        {
            throw UserError("\(path): \(error)")
        }
    }

    /// A membership change file: a signed note, or the bare change text `propose` wrote.
    static func change(_ path: String) throws -> SignedNote {
        let text = try Self.text(path, what: "membership change")
        if let note = try? SignedNote(parsing: text) { return note }
        do { _ = try MembershipChange(text: text) } catch { throw UserError("\(path): \(error)") }
        return SignedNote(text: text, signatures: [])
    }

    /// The membership of `genesis` after the signed `changes`, applied in order; an error
    /// naming the first change the contract refuses.
    static func membership(genesis: String, changes: [String]) throws -> ConsortiumMembership {
        var membership = try Self.genesis(genesis).membership
        for path in changes {
            switch MembershipContract.apply(try change(path), to: membership) {
            case .applied(let next): membership = next
            case .refused(let refusal): throw UserError("\(path) is refused: \(refusal)")
            }
        }
        return membership
    }
}
