import Foundation
import TestSupport
import Testing

/// `agritrace node keygen` and `agritrace consortium …` on the built binary: node keys, a
/// genesis, a membership change signed by k of n members separately, applied offline.
@Suite("Consortium commands", .serialized, .timeLimit(.minutes(2)))
struct ConsortiumCommandTests {
    /// Runs the CLI and requires success; its output.
    @discardableResult
    func agritrace(_ arguments: [String]) throws -> String {
        let result = try runAgritrace(arguments)
        #expect(result.status == 0, "\(arguments.joined(separator: " ")): \(result.output)")
        return result.output
    }

    /// Runs the CLI and requires it to fail; its output.
    func refused(_ arguments: [String]) throws -> String {
        let result = try runAgritrace(arguments)
        #expect(result.status != 0, "\(arguments.joined(separator: " ")) succeeded: \(result.output)")
        return result.output
    }

    /// Three node directories (operator, regulator, processor) under `directory`.
    func nodes(in directory: TemporaryDirectory, names: [String] = ["operator", "regulator", "processor"]) throws
        -> [String]
    {
        try names.map { name in
            let node = directory.file(name)
            try agritrace(["node", "keygen", "--name", "\(name).agritrace.example", "--output", node])
            return node
        }
    }

    @Test func nodeKeygenWritesASecretKeyAndItsVerifierKey() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let node = directory.file("operator")
        let output = try agritrace([
            "node", "keygen", "--name", "operator.agritrace.example", "--output", node, "--json",
        ])
        let mode = try FileManager.default.attributesOfItem(atPath: node + "/node.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let secret = try String(contentsOfFile: node + "/node.key", encoding: .utf8)
        #expect(!output.contains(secret.trimmingCharacters(in: .whitespacesAndNewlines)))
        let vkey = try String(contentsOfFile: node + "/node.vkey", encoding: .utf8)
        #expect(vkey.hasPrefix("operator.agritrace.example+"))
        #expect(output.contains(vkey.trimmingCharacters(in: .newlines)))
        // A second keygen into the same directory would orphan the consortium's key.
        #expect(try refused(["node", "keygen", "--name", "x.example", "--output", node]).contains("--force"))
        #expect(
            try refused(["node", "keygen", "--name", "bad name", "--output", directory.file("bad")]).contains("--name"))
        // The node enrols with the deployment CA as an aggregator principal, its node key as
        // the signing key.
        let ca = directory.file("ca")
        try agritrace(["enroll", "init", "--ca", ca])
        try agritrace([
            "enroll", "request", "--id", "operator.agritrace.example", "--key", node + "/tls.key", "--out",
            node + "/tls.csr",
        ])
        let publicKey = try String(contentsOfFile: node + "/node.key.pub", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let record = try agritrace([
            "enroll", "aggregator", "--ca", ca, "--csr", node + "/tls.csr", "--out", node + "/tls.crt", "--id",
            "operator.agritrace.example", "--signing-key", publicKey,
        ])
        #expect(record.contains("\"signingPublicKeyHex\" : \"\(publicKey)\""))
    }

    @Test func aGenesisAndAChangeSignedByKOfNMembersApplyOffline() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let nodes = try nodes(in: directory)
        let genesis = directory.file("genesis.txt")
        var arguments = ["consortium", "genesis", "--origin", "agritrace.example/consortium", "--threshold", "2"]
        arguments += nodes.flatMap { ["--member", $0 + "/node.vkey"] } + ["--time", "1796677200", "--output", genesis]
        try agritrace(arguments)
        let shown = try agritrace(["consortium", "show", "--genesis", genesis, "--json"])
        let fields = try #require(try JSONSerialization.jsonObject(with: Data(shown.utf8)) as? [String: Any])
        #expect(fields["threshold"] as? Int == 2)
        #expect((fields["members"] as? [Any])?.count == 3)
        #expect(fields["genesisTime"] as? Int == 1_796_677_200)
        let id = try sha256Hex(of: genesis)
        #expect(fields["consortium"] as? String == id)
        // Add a fourth member at k = 3, signed by two members separately, then combined.
        let firm = try self.nodes(in: directory, names: ["firm"])[0]
        let change = directory.file("add-firm.txt")
        try agritrace([
            "consortium", "propose", "--genesis", genesis, "--add", firm + "/node.vkey", "--threshold", "3", "--output",
            change,
        ])
        try agritrace(["consortium", "sign", "--change", change, "--node", nodes[0], "--output", change + ".a"])
        // One signature is not enough.
        let one = try refused(["consortium", "apply", "--genesis", genesis, "--change", change + ".a"])
        #expect(one.contains("1 current member(s) signed the change, it needs 2"))
        try agritrace(["consortium", "sign", "--change", change, "--node", nodes[2], "--output", change + ".b"])
        try agritrace(["consortium", "combine", change + ".a", change + ".b", "--output", change + ".signed"])
        let applied = try agritrace(["consortium", "apply", "--genesis", genesis, "--change", change + ".signed"])
        #expect(applied.contains("threshold  3 of 4") && applied.contains("firm.agritrace.example"))
        // The newcomer's signature is not a current member's: refused.
        try agritrace(["consortium", "sign", "--change", change + ".a", "--node", firm])
        let outsider = try refused(["consortium", "apply", "--genesis", genesis, "--change", change + ".a"])
        #expect(outsider.contains("firm.agritrace.example signed the change but is not a current member"))
        // Applied twice: the second is stale.
        let twice = try refused([
            "consortium", "apply", "--genesis", genesis, "--change", change + ".signed", "--change", change + ".signed",
        ])
        #expect(twice.contains("sequence 1, the membership's next is 2"))
    }

    @Test func badGenesisInputNamesTheFieldAndTheFix() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let nodes = try nodes(in: directory)
        let members = nodes.flatMap { ["--member", $0 + "/node.vkey"] }
        let base = ["consortium", "genesis", "--origin", "agritrace.example/consortium"]
        let tooHigh = try refused(base + members + ["--threshold", "4", "--output", directory.file("g1")])
        #expect(
            tooHigh.contains("threshold: k = 4 of n = 3 is not a majority") && tooHigh.contains("fix: set k to 2...3"))
        let twice = try refused(
            base + members + [
                "--member", nodes[0] + "/node.vkey", "--threshold", "2", "--output", directory.file("g2"),
            ])
        #expect(twice.contains("member: operator.agritrace.example is listed twice"))
        try "operator+0000+AAAA\n".write(toFile: directory.file("bad.vkey"), atomically: true, encoding: .utf8)
        let malformed = try refused(
            base + ["--member", directory.file("bad.vkey"), "--threshold", "1", "--output", directory.file("g3")])
        #expect(malformed.contains("bad.vkey") && malformed.contains("fix: give the node.vkey"))
    }

    func sha256Hex(of path: String) throws -> String {
        let output = try runCommand("sha256sum", [path])
        return String(output.prefix(64))
    }
}
