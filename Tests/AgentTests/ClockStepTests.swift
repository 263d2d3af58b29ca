import AgriTraceCore
import EdgeAgent
import Foundation
import TestSupport
import Testing

/// The box's wall clock stepped back (NTP after a dead RTC battery, an operator's `date -s`).
///
/// Found by the chaos run (`scripts/chaos.sh`, libfaketime on the agent): records sent just
/// before the clock went back carried a send time in the future, so the resend timeout never
/// expired for them; a batch the broker or `serve` lost with them stayed unreceipted until the
/// clock caught up again (400 days in the run) or the agent restarted.
@Suite struct ClockStepTests {
    static let timeout: Int64 = 30_000
    static let sentAt: Int64 = 1_800_000_000_000

    /// A store with `count` simulated readings in its outbox, all sent at `sentAt`.
    func storeWithSentRecords(_ count: Int, in directory: TemporaryDirectory) throws -> (AgentStore, [UInt64]) {
        let key = try DeviceKey.create(path: directory.file("device.key"))
        let store = try AgentStore(
            path: directory.file("store.sqlite"), cipher: VaultCipher(key: key.vaultKey(enterprise: "e", device: "d")),
            budgetBytes: 64 << 20)
        let classifier = Classifier(
            identity: DeviceIdentity(enterprise: "e", device: "d", enrolledAt: Timestamp(milliseconds: 0)))
        let lines = simulatedLines(count, seed: 5).enumerated().map {
            InputLine(bytes: Array($0.element.utf8), number: Int64($0.offset + 1))
        }
        _ = try store.ingest(lines, source: "t", position: nil, classifier: classifier, bootID: "b")
        let sent = try store.takeBatch(
            limit: 1_000, resendCutoff: Self.sentAt - Self.timeout, now: Self.sentAt)
        return (store, sent.map { $0.sequence })
    }

    @Test func recordsSentBeforeTheClockSteppedBackAreSentAgainWithinTwoTimeouts() throws {
        let directory = try TemporaryDirectory()
        let (store, sent) = try storeWithSentRecords(10, in: directory)
        #expect(sent.count == 10)
        // No receipt came (the batch was lost). The clock steps back 400 days; two resend
        // timeouts of the new clock later, every unreceipted record goes again, oldest first.
        let now = Self.sentAt - 400 * 86_400_000 + 2 * Self.timeout
        let again = try store.takeBatch(limit: 1_000, resendCutoff: now - Self.timeout, now: now)
        #expect(again.map { $0.sequence } == sent)
        #expect(try store.outstandingCount(sentSince: now - Self.timeout) == 10)
    }

    @Test func aSmallStepBackOrNoStepDoesNotResendEarly() throws {
        let directory = try TemporaryDirectory()
        let (store, sent) = try storeWithSentRecords(5, in: directory)
        #expect(sent.count == 5)
        // The same clock a second later, and a clock 20 s behind: still within the timeout.
        for now in [Self.sentAt + 1_000, Self.sentAt - 20_000] {
            #expect(try store.takeBatch(limit: 1_000, resendCutoff: now - Self.timeout, now: now).isEmpty)
        }
        // The timeout passed on an unchanged clock: go-back-N as before.
        let later = Self.sentAt + Self.timeout + 1
        #expect(
            try store.takeBatch(limit: 1_000, resendCutoff: later - Self.timeout, now: later).map { $0.sequence }
                == sent)
    }
}
