import AgriTraceCore
import ArgumentParser
import Foundation
import LedgerClient

/// `agritrace consortium`: the genesis file and membership changes signed by k of n members,
/// all offline (docs/consortium.md).
struct Consortium: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A consortium's genesis file and its membership changes (k of n members sign each).",
        subcommands: [Genesis.self, Show.self, Propose.self, Sign.self, Combine.self, Apply.self])

    struct Genesis: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a genesis file: the checkpoints' origin, the members' verifier keys and the threshold k.")

        @Option(help: "The log's origin, the first line of its checkpoints (e.g. agritrace.example/consortium).")
        var origin: String

        @Option(help: "A member's verifier key file (node.vkey from `agritrace node keygen`; repeat per member).")
        var member: [String] = []

        @Option(help: "Cosignatures a checkpoint needs: a majority, n/2 < k ≤ n.")
        var threshold: Int

        @Option(help: "The genesis time, seconds since the epoch (default: now).")
        var time: UInt64?

        @Option(help: "The genesis file to write.")
        var output: String

        @Flag(help: "Overwrite an existing file.")
        var force = false

        func run() throws {
            if FileManager.default.fileExists(atPath: output) && !force {
                throw UserError("\(output) exists; a new genesis is a new consortium. Use --force to overwrite.")
            }
            let members = try member.map(ConsortiumFiles.verifierKey)
            let genesis: ConsortiumGenesis
            do {
                genesis = try ConsortiumGenesis(
                    origin: origin, time: time ?? UInt64(Date().timeIntervalSince1970), threshold: threshold,
                    members: members)
            } catch { throw UserError("\(error)") }
            try ConsortiumFiles.write(genesis.text, to: output)
            print(
                "consortium \(genesis.id.hex): \(genesis.membership.threshold) of \(members.count), written to \(output)"
            )
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a consortium: its id, origin, threshold and members (after the given changes).")

        @OptionGroup var files: MembershipFiles
        @Flag(help: "Print JSON.") var json = false

        func run() throws { print(try files.summary(json: json)) }
    }

    struct Propose: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Write a membership change for the members to sign: add a member, remove one, or set the threshold.")

        @OptionGroup var files: MembershipFiles
        @Option(help: "The new member's verifier key file.") var add: String?
        @Option(help: "The name of the member to remove.") var remove: String?
        @Option(help: "The threshold after the change (a majority of the members after it).") var threshold: Int
        @Option(help: "The change file to write.") var output: String

        func run() throws {
            guard add == nil || remove == nil else {
                throw UserError("--add and --remove are two changes; fix: propose one, have it applied, then the other")
            }
            let membership = try files.membership()
            var action = MembershipChange.Action.setThreshold
            if let add { action = .add(try ConsortiumFiles.verifierKey(add)) }
            if let remove { action = .remove(name: remove) }
            let proposed = MembershipChange(next: membership, action: action, threshold: threshold)
            try ConsortiumFiles.write(proposed.text, to: output)
            print(
                "change \(proposed.sequence) of consortium \(membership.consortium.hex) written to \(output); it needs \(membership.threshold) members' signatures (`agritrace consortium sign`)"
            )
        }
    }

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add this node's signature to a membership change (the file is rewritten as a signed note).")

        @Option(help: "The change file (from `propose`, or signed by other members already).") var change: String
        @Option(help: "The node's directory (node.key and node.vkey).") var node: String
        @Option(help: "Write the signed change here (default: rewrite --change).") var output: String?

        func run() throws {
            var note = try ConsortiumFiles.change(change)
            let signer = try Node.KeyFiles(directory: node).signer()
            note.signatures.removeAll { $0.name == signer.verifierKey.name }
            note.signatures.append(try signer.sign(note.text, time: UInt64(Date().timeIntervalSince1970)))
            try ConsortiumFiles.write(note.formatted, to: output ?? change)
            print("\(signer.verifierKey.name) signed; \(note.signatures.count) signature(s) in \(output ?? change)")
        }
    }

    struct Combine: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Combine the signatures of copies of one membership change, each signed by other members.")

        @Argument(help: "The signed copies.") var files: [String]
        @Option(help: "The combined change file to write.") var output: String

        func run() throws {
            guard let first = files.first else { throw UserError("name the signed copies to combine") }
            var combined = try ConsortiumFiles.change(first)
            for file in files.dropFirst() {
                let note = try ConsortiumFiles.change(file)
                guard note.text == combined.text else {
                    throw UserError(
                        "\(file) is another change than \(first); fix: combine copies of one proposed change")
                }
                combined.signatures += note.signatures.filter { !combined.signatures.contains($0) }
            }
            guard !combined.signatures.isEmpty else { throw UserError("no member has signed the change yet") }
            try ConsortiumFiles.write(combined.formatted, to: output)
            print("\(combined.signatures.count) signature(s) in \(output)")
        }
    }

    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check signed membership changes against a genesis offline and print the membership after them.")

        @OptionGroup var files: MembershipFiles
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            if files.change.isEmpty { throw ValidationError("give the signed changes to check with --change") }
        }

        func run() throws { print(try files.summary(json: json)) }
    }
}

/// The genesis file and the signed membership changes applied after it, in order: what
/// `consortium show`, `propose` and `apply` start from.
struct MembershipFiles: ParsableArguments {
    @Option(help: "The genesis file.") var genesis: String
    @Option(help: "A signed membership change applied after the genesis (repeat, in order).") var change: [String] = []

    /// The membership after the changes, each checked against the membership before it.
    func membership() throws -> ConsortiumMembership {
        try ConsortiumFiles.membership(genesis: genesis, changes: change)
    }

    /// The membership after the changes, as text or JSON.
    func summary(json: Bool) throws -> String {
        try MembershipSummary(membership(), genesisTime: ConsortiumFiles.genesis(genesis).time).printed(json: json)
    }
}

/// What `consortium show` and `apply` print.
struct MembershipSummary: Encodable {
    struct Member: Encodable {
        var name, vkey: String
    }
    var consortium, origin: String
    var genesisTime, sequence: UInt64
    var threshold: Int
    var members: [Member]

    init(_ membership: ConsortiumMembership, genesisTime: UInt64) {
        self.genesisTime = genesisTime
        consortium = membership.consortium.hex
        origin = membership.origin
        sequence = membership.sequence
        threshold = membership.threshold
        members = membership.members.map { Member(name: $0.name, vkey: $0.vkey) }
    }

    func printed(json: Bool) throws -> String {
        if json { return try Output.json(self) }
        return """
            consortium \(consortium)
            origin     \(origin)
            genesis    \(genesisTime) (seconds since the epoch)
            changes    \(sequence)
            threshold  \(threshold) of \(members.count)
            """ + "\n" + Output.table(["member", "vkey"], members.map { [$0.name, $0.vkey] })
    }
}
