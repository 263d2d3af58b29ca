import AgriTraceCore
import EdgeAgent
import Foundation
import TestSupport
import Testing

extension AgentIntegration {
    /// `/healthz` turns `degraded` (503) when the oldest record without a receipt is older
    /// than `[operations] degraded_after_seconds`: here no broker answers at all.
    @Suite struct HealthTests {
        @Test func healthTurnsDegradedWhenTheOldestUnreceiptedRecordIsTooOld() async throws {
            let fixture = try DeviceFixture()
            let metricsPort = Int(try freeLoopbackPort())
            let configuration = try fixture.writeConfiguration(
                brokerPort: try freeLoopbackPort(), authorityHex: TestReceiverKeys.authorityHex,
                metricsPort: metricsPort, degradedAfterSeconds: 2)
            let agent = try AgentRuntime(configuration: configuration, logger: quietLogger())
            try agent.start()
            defer { agent.shutdown() }
            let empty = try httpGet(port: metricsPort, path: "/healthz")
            #expect(empty.hasPrefix("HTTP/1.1 200"), "\(empty)")
            #expect(empty.contains("\"status\":\"ok\""), "\(empty)")

            try fixture.appendLines([AgentIntegration.InputTests.valid])
            #expect(await waitUntil(timeout: .seconds(20)) { agent.metrics.counters.accepted == 1 })
            var answer = ""
            let degraded = await waitUntil(timeout: .seconds(20)) {
                answer = (try? httpGet(port: metricsPort, path: "/healthz")) ?? ""
                return answer.contains("\"status\":\"degraded\"")
            }
            #expect(degraded, "\(answer)")
            #expect(answer.hasPrefix("HTTP/1.1 503"), "\(answer)")
            #expect(answer.contains("\"outbox_depth\":1"), "\(answer)")
            let age = answer.firstMatch(of: /"oldest_unreceipted_seconds":(\d+)/).flatMap { Int($0.1) }
            #expect((age ?? 0) >= 2, "\(answer)")
        }
    }
}
