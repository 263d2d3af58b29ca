import AgriTraceCore
import EdgeAgent
import Foundation
import SQLiteStorage
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension AgentIntegration {
    /// Finding 3 of issue #22: the filesystem itself fills up (not the configured budget).
    /// The store lives on a real 32 MiB tmpfs (mounted by the test; CI runs as root).
    @Suite(.timeLimit(.minutes(3))) struct FullFilesystemTests {
        /// Mounts a tmpfs of `size` on `path`; a clear error when this machine cannot.
        static func mountTmpfs(_ path: String, size: String) throws {
            do {
                _ = try runCommand("mount", ["-t", "tmpfs", "-o", "size=\(size)", "agritrace-test", path])
            } catch {
                throw TmpfsUnavailable(
                    detail:
                        "this test needs a real small filesystem: `mount -t tmpfs` failed (\(error)); run it as root, as CI does"
                )
            }
        }

        struct TmpfsUnavailable: Error, CustomStringConvertible {
            var detail: String; var description: String { detail }
        }

        /// Free bytes on the filesystem holding `path`.
        static func freeBytes(_ path: String) -> Int64 {
            var info = statvfs()
            guard statvfs(path, &info) == 0 else { return -1 }
            return Int64(info.f_bavail) * Int64(info.f_frsize)
        }

        @Test func intakeKeepsHeadroomForDeliveryReportsTheRealCauseAndRecovers() async throws {
            let volume = try TemporaryDirectory(prefix: "agent-fullfs")
            try Self.mountTmpfs(volume.path, size: "32m")
            defer { _ = try? runCommand("umount", ["-l", volume.path]) }
            let rig = try await DeliveryRig.start()
            defer { rig.stop() }
            let (broker, fixture, receiver) = (rig.broker, rig.fixture, rig.receiver)
            try fixture.writeConfiguration(brokerPort: broker.port, authorityHex: receiver.authorityHex)
            var text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            text = text.replacingOccurrences(
                of: "path = \"agent.sqlite\"", with: "path = \"\(volume.path)/agent.sqlite\"\nmin_free_bytes = 6291456")
            try text.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
            let configuration = try AgentConfiguration.load(path: fixture.configPath)

            // Something else on the box leaves 10 MiB free: 4 MiB for intake above the 6 MiB headroom
            // (more than SQLite's write-ahead log needs between checkpoints).
            let filler = volume.file("filler")
            let fillerBytes = Int(Self.freeBytes(volume.path)) - 10_485_760
            #expect(FileManager.default.createFile(atPath: filler, contents: Data(count: fillerBytes)))
            let total = 8_000
            try fixture.appendLines(simulatedLines(total, seed: 9))
            let agent = try AgentRuntime(configuration: configuration, logger: quietLogger())
            try agent.start()
            defer { agent.shutdown() }
            func metrics() throws -> String {
                agent.metrics.render(
                    statistics: try agent.store.statistics(), budgetBytes: configuration.storage.maxBytes)
            }

            // Intake pauses on the filesystem's free space, named as such, not as the budget.
            #expect(
                try await waitUntil(timeout: .seconds(40)) {
                    try metrics().split(separator: "\n").contains("agritrace_agent_filesystem_full 1")
                })
            #expect(agent.metrics.counters.budgetAlarms == 0, "a false storage-budget alarm")
            #expect(!agent.metrics.counters.budgetReached)
            // Delivery and receipts go on in the headroom: everything accepted is receipted.
            let drained = try await waitUntil(timeout: .seconds(40)) {
                let statistics = try agent.store.statistics()
                return statistics.outboxDepth == 0 && statistics.receipted == agent.metrics.counters.accepted
            }
            let afterPause = try agent.store.statistics()
            #expect(drained, "delivery stalled on the full filesystem: \(afterPause)")
            let pausedAt = agent.metrics.counters.accepted
            #expect(pausedAt > 0 && pausedAt < Int64(total))
            #expect(agent.metrics.counters.rejected == 0)
            #expect(Self.freeBytes(volume.path) > 0, "the headroom was kept")

            // Space returns: intake resumes at once and every line arrives, receipted once.
            try FileManager.default.removeItem(atPath: filler)
            let finished = try await waitUntil(timeout: .seconds(60)) {
                let statistics = try agent.store.statistics()
                return agent.metrics.counters.accepted == Int64(total) && statistics.outboxDepth == 0
            }
            #expect(finished, "intake did not resume: \(agent.metrics.counters.accepted) of \(total)")
            #expect(try metrics().split(separator: "\n").contains("agritrace_agent_filesystem_full 0"))
            #expect(receiver.snapshot.ledger.count == total && receiver.snapshot.conflicts == 0)
            #expect(try agent.store.integrityCheck() == "ok")
        }

        /// Finding 4 of the chaos run: killed while the filesystem was full, the agent could not
        /// start again until space returned (`SQLite error 13 ... UPDATE outbox SET sent_at = 0`,
        /// exit 1). It must start, deliver once space returns, and lose nothing.
        @Test func theAgentStartsOnAFilesystemWithNoByteFree() async throws {
            let executable = try agentExecutable()
            let volume = try TemporaryDirectory(prefix: "agent-nofree")
            try Self.mountTmpfs(volume.path, size: "16m")
            defer { _ = try? runCommand("umount", ["-l", volume.path]) }
            let broker = try await TestBroker.start()
            defer { broker.kill() }
            let fixture = try DeviceFixture()
            let receiver = try TestReceiver(port: broker.port, deviceKeys: fixture.deviceKeys)
            try fixture.writeConfiguration(brokerPort: broker.port, authorityHex: receiver.authorityHex)
            let store = "\(volume.path)/agent.sqlite"
            let text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
                .replacingOccurrences(
                    of: "path = \"agent.sqlite\"", with: "path = \"\(store)\"\nmin_free_bytes = 2097152")
            try text.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
            func outbox() throws -> (total: Int, sent: Int) {
                let db = try SQLiteConnection(path: store, readOnly: true, create: false)
                let statement = try db.prepare("SELECT count(*), count(*) FILTER (WHERE sent_at != 0) FROM outbox")
                _ = try statement.step()
                return (Int(statement.int64(at: 0)), Int(statement.int64(at: 1)))
            }
            // 200 readings accepted and sent; no receipt comes (the receiver is not running).
            let total = 200
            try fixture.appendLines(simulatedLines(total, seed: 31))
            let log = fixture.directory.file("agent.log")
            let first = try CrashTests().spawnAgent(executable, config: fixture.configPath, log: log)
            let sent = await waitUntil(timeout: .seconds(30)) { (try? outbox()) ?? (0, 0) == (total, total) }
            let afterSend = try outbox()
            let firstLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(sent, "not all sent: \(afterSend); \(firstLog.suffix(1500))")
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()

            // Something else takes every free byte; the agent starts again (systemd's Restart=).
            let filler = volume.file("filler")
            #expect(FileManager.default.createFile(atPath: filler, contents: nil))
            let handle = try #require(FileHandle(forWritingAtPath: filler))
            for size in [65536, 4096] {
                let block = Data(count: size)
                while (try? handle.write(contentsOf: block)) != nil, Self.freeBytes(volume.path) > 0 {}
            }
            try? handle.close()
            #expect(Self.freeBytes(volume.path) == 0)
            let second = try CrashTests().spawnAgent(executable, config: fixture.configPath, log: log)
            defer { if second.isRunning { kill(second.processIdentifier, SIGKILL) } }
            try await Task.sleep(for: .seconds(3))
            let agentLog = { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
            #expect(second.isRunning, "the agent did not start on the full filesystem: \(agentLog().suffix(1500))")

            // Space returns and the aggregator answers: every record is receipted once.
            try FileManager.default.removeItem(atPath: filler)
            try await receiver.start()
            defer { receiver.stop() }
            let drained = try await waitUntil(timeout: .seconds(60)) { try outbox().total == 0 }
            let left = try outbox()
            #expect(drained, "outbox not drained: \(left); \(agentLog().suffix(1500))")
            #expect(receiver.snapshot.ledger.count == total && Set(receiver.snapshot.ledger).count == total)
            #expect(receiver.snapshot.conflicts == 0)
            kill(second.processIdentifier, SIGTERM)
            second.waitUntilExit()
            #expect(second.terminationStatus == 0, "\(agentLog().suffix(1500))")
        }
    }
}
