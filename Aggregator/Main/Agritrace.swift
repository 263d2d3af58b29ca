import ArgumentParser
import BuildInfo
import Provisioning

/// `agritrace`: the aggregator server and the CLI for firms and regulators.
@main
struct Agritrace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agritrace",
        abstract: "AgriTrace aggregator: verifiable ledger server and traceability CLI.",
        discussion: """
            `serve` ingests signed record batches from MQTT into signed blocks over an RFC 9162 Merkle log.
            The other commands read the ledger store read-only (--store) and verify what they show.
            `enroll` runs the deployment's certificate authority (devices, firms, regulators, the broker's ACL).
            """,
        version: BuildInfo.description,
        subcommands: [
            Serve.self, API.self, Trace.self, Records.self, Proof.self, VerifyProof.self, TreeHead.self,
            Consistency.self,
            Verify.self, Replay.self, Status.self, Devices.self, Principals.self, Keygen.self, Node.self,
            Consortium.self, EnrollCommand.self,
            Policy.self, Whitelist.self, Violation.self, Request.self, Regulator.self, Audit.self,
            Correct.self, Directory.self, Transfer.self, Fetch.self, Grants.self, Provenance.self, Graph.self,
            Export.self, Backup.self, Restore.self,
            ConsoleCommand.self,
        ])
}
