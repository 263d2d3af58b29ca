import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Two `agritrace serve` processes with separate stores in one share group used to split the
/// devices' batches into two logs signed by the same key. A node now claims its share group
/// on the broker before it subscribes: real brokers, real `serve` processes, separate stores.
@Suite("One single-node ledger per share group", .serialized, .timeLimit(.minutes(2)))
struct ShareGroupClaimTests {
    /// A second store beside the first one's, with the same authority key and device.
    func secondStore(_ setup: ServeSetup) throws -> String {
        let store = setup.directory.file("second.sqlite")
        try runCommand(
            setup.executable,
            [
                "devices", "add", "--store", store, "--authority-key", setup.keyFile, "--enterprise",
                setup.device.enterprise, "--device", setup.device.device, "--public-key",
                setup.device.key.publicKey.hex, "--wait", "0",
            ])
        return store
    }

    /// `serve` on a second store beside the first one's, as `clientID`.
    func startNodeOnASecondStore(_ setup: ServeSetup, clientID: String) throws -> BackgroundProcess {
        try BackgroundProcess(
            setup.executable,
            setup.serveArguments(["--client-id", clientID]).replacingStore(setup.store, with: try secondStore(setup)),
            logFile: setup.directory.file("\(clientID).log"))
    }

    /// A setup whose first `serve` has started ingesting.
    func setupWithANode(_ prefix: String) async throws -> (ServeSetup, BackgroundProcess) {
        let setup = try await ServeSetup(prefix: prefix)
        let first = try setup.startServe()
        await expectIngesting(first, timeout: .seconds(15))
        return (setup, first)
    }

    @Test func aSecondNodeInTheSameShareGroupIsRefusedAndTheFirstKeepsIt() async throws {
        let (setup, first) = try await setupWithANode("agritrace-claim")
        defer { setup.broker.kill() }
        defer { first.kill() }
        #expect(first.log.contains("claimed share group agritrace"))

        let second = try startNodeOnASecondStore(setup, clientID: "second-node")
        defer { second.kill() }
        #expect(await eventually(timeout: .seconds(15)) { !second.isRunning }, "\(second.log)")
        #expect(second.process.terminationStatus != 0)
        #expect(second.log.contains("share group agritrace is served by another aggregator node"), "\(second.log)")
        #expect(!second.log.contains("ingesting"), "the refused node never subscribed to the records")
        #expect(
            await eventually { first.log.contains("ALARM: another aggregator node") }, "\(first.log)")
        #expect(first.isRunning)
    }

    @Test func aCrashedNodeDoesNotHoldItsGroupAndAnotherGroupIsIndependent() async throws {
        let (setup, crashed) = try await setupWithANode("agritrace-claim-crash")
        defer { setup.broker.kill() }
        // SIGKILL: its retained announcement stays on the broker, but no heartbeat follows it.
        crashed.kill()
        let successor = try startNodeOnASecondStore(setup, clientID: "successor")
        defer { successor.kill() }
        await expectIngesting(successor, timeout: .seconds(15))
        // A node in another share group is not refused by this one.
        let other = try BackgroundProcess(
            setup.executable,
            setup.serveArguments(["--client-id", "other-group", "--share-group", "elsewhere"]),
            logFile: setup.directory.file("other.log"))
        defer { other.kill() }
        await expectIngesting(other, timeout: .seconds(15))
        #expect(other.log.contains("claimed share group elsewhere"))
        #expect(successor.isRunning && other.isRunning)
    }
}

extension [String] {
    /// The arguments with the value of `--store` replaced.
    fileprivate func replacingStore(_ store: String, with other: String) -> [String] {
        map { $0 == store ? other : $0 }
    }
}
