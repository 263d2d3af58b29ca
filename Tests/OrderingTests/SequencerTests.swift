import Foundation
import Ordering
import TestSupport
import Testing

/// The sequencer election and its fenced writes, against real etcd members on loopback.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct SequencerTests {
    /// Leases of 10 s unless a test is about their lapsing: in a whole-suite run other suites'
    /// blocking work can hold up every task of the process (renewals included) for seconds.
    static func election(_ cluster: EtcdCluster, node: String, leaseSeconds: Int = 10) -> SequencerElection {
        SequencerElection(etcd: cluster.client(), prefix: "agritrace/test/", node: node, leaseSeconds: leaseSeconds)
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func oneNodeAtATimeIsTheSequencer() async throws {
        let cluster = try await EtcdCluster.start(members: 1)
        let a = Self.election(cluster, node: "node-a")
        let b = Self.election(cluster, node: "node-b")
        let first = try await a.campaign()
        #expect(try await a.sequencer() == "node-a")
        let second = Task { try await b.campaign() }
        try await Task.sleep(for: .seconds(3))  // node-b keeps trying while node-a holds the role
        #expect(try await b.sequencer() == "node-a")
        try await first.resign()
        let next = try await second.value
        #expect(try await b.sequencer() == "node-b")
        #expect(next.revision > first.revision)
        try await next.resign()
    }

    @Test func aCandidateWhoseLeaseLapsedWhileWaitingStillTakesTheRole() async throws {
        let cluster = try await EtcdCluster.start(members: 1)
        let holder = try await Self.election(cluster, node: "node-a").campaign()
        // node-b waits longer between tries than its lease lives: its lease lapses in between.
        // (A 3 s lease, not 1 s: once node-b holds the role it must keep it while the test
        // checks, and a loaded machine can delay a renewal by more than a second.)
        let waiting = Task {
            try await Self.election(cluster, node: "node-b", leaseSeconds: 3).campaign(retryEvery: .milliseconds(4_000))
        }
        try await Task.sleep(for: .seconds(5))
        try await holder.resign()
        let next = try await waiting.value
        #expect(try await Self.election(cluster, node: "node-b").sequencer() == "node-b")
        try await next.append(Self.bytes("b0"), at: 0)
    }

    @Test func aSequencerThatLostItsLeaseCanNeverAppend() async throws {
        let cluster = try await EtcdCluster.start(members: 1)
        let a = Self.election(cluster, node: "node-a", leaseSeconds: 3)
        let b = Self.election(cluster, node: "node-b")
        let old = try await a.campaign()
        for index in 0..<3 { try await old.append(Self.bytes("a\(index)"), at: UInt64(index)) }
        // The old sequencer stops renewing, as a paused or cut-off process does; it does not know.
        old.stopRenewing()
        let start = ContinuousClock.now
        let new = try await b.campaign()
        #expect(ContinuousClock.now - start < .seconds(10), "a new sequencer within 10 s")
        await #expect(throws: OrderingError.fenced(node: "node-a")) { try await old.append(Self.bytes("a3"), at: 3) }
        try await new.append(Self.bytes("b3"), at: 3)
        await #expect(throws: OrderingError.indexTaken(3)) { try await new.append(Self.bytes("other"), at: 3) }
        // Sending the same entry again (a retry whose answer was lost) is not an error.
        try await new.append(Self.bytes("b3"), at: 3)
        await #expect(throws: OrderingError.fenced(node: "node-a")) { try await old.compact(below: 3) }
        let entries = try await b.entries(from: 0)
        #expect(entries.map(\.index) == [0, 1, 2, 3])
        #expect(entries.map { String(decoding: $0.entry, as: UTF8.self) } == ["a0", "a1", "a2", "b3"])
        try await new.compact(below: 2)
        #expect(try await b.entries(from: 0).map(\.index) == [2, 3])
    }

    @Test func orderingGoesOnWithOneMemberOfThreeDownAndStopsWithTwo() async throws {
        let cluster = try await EtcdCluster.start(members: 3)
        let leadership = try await Self.election(cluster, node: "node-a").campaign()
        try await leadership.append(Self.bytes("e0"), at: 0)
        cluster.kill(0)
        try await leadership.append(Self.bytes("e1"), at: 1)
        cluster.kill(1)
        await #expect(throws: (any Error).self) { try await leadership.append(Self.bytes("e2"), at: 2) }
        try cluster.start(1)
        try await cluster.waitUntilHealthy()
        // The lease may have lapsed while there was no majority: campaign again if so.
        let election = Self.election(cluster, node: "node-a")
        let current = try await election.sequencer() == "node-a" ? leadership : try await election.campaign()
        try await current.append(Self.bytes("e2"), at: 2)
        #expect(
            try await election.entries(from: 0).map(\.entry) == [Self.bytes("e0"), Self.bytes("e1"), Self.bytes("e2")])
    }

    @Test func membersTakeOnlyClientsWithACertificateFromTheDeploymentCA() async throws {
        let cluster = try await EtcdCluster.start(members: 1, tls: true)
        let election = SequencerElection(
            etcd: cluster.client(), prefix: "agritrace/tls/", node: "node-1", leaseSeconds: 10)
        let leadership = try await election.campaign()
        try await leadership.append(Self.bytes("over TLS"), at: 0)
        let anonymous = SequencerElection(
            etcd: cluster.client(certificate: false), prefix: "agritrace/tls/", node: "node-2")
        await #expect(throws: EtcdError.self) { _ = try await anonymous.sequencer() }
        try await leadership.resign()
    }
}
