import EdgeAgent
import Foundation
import Logging
import Testing

/// The agent's log lines: UTC ISO 8601 times, and JSON lines that parse back to what was logged.
@Suite("Agent log lines")
struct AgentLogTests {
    @Test func timestampsAreUTCISO8601WithMilliseconds() {
        #expect(AgentLogHandler.timestamp(seconds: 0, milliseconds: 5) == "1970-01-01T00:00:00.005Z")
        #expect(AgentLogHandler.timestamp(seconds: 1_796_613_000, milliseconds: 123) == "2026-12-07T03:10:00.123Z")
        let now = AgentLogHandler.timestamp()
        #expect(now.count == 24 && now.hasSuffix("Z"), "\(now)")
    }

    @Test func jsonLinesParseBackWithEveryFieldAndAwkwardCharacters() throws {
        let message = "refused \"x\"\\ line\nnext\u{1}"
        let line = AgentLogHandler.line(
            format: .json, time: "2026-12-07T03:10:00.123Z", level: .warning, label: "agritrace.agent",
            message: message, metadata: ["error": "bad \"quote\"", "level": "spoofed"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["message"] == message)
        #expect(object["error"] == "bad \"quote\"")
        #expect(object["level"] == "warning", "metadata cannot overwrite the line's own fields")
        #expect(object["time"] == "2026-12-07T03:10:00.123Z")
        #expect(object["label"] == "agritrace.agent")
        let text = AgentLogHandler.line(
            format: .text, time: "T", level: .info, label: "agritrace.agent", message: "agent started",
            metadata: ["b": "2", "a": "1"])
        #expect(text == "T info agritrace.agent: agent started a=1 b=2")
    }
}
