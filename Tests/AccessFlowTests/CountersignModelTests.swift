import AccessFlow
import AgriTraceCore
import Foundation
import Ledger
import LedgerClient
import PropertyBased
import TestSupport
import Testing

/// Trades signed by both sides (docs/governance.md) through the real ledger against a small
/// reference model written from the rule's text: random deliveries (some refused by the
/// owner), countersignatures from the receiver and from others, with the right and wrong
/// digests and counts, of known and unknown transfers, and time passing, give the outcomes
/// the model predicts and the completion statuses it predicts (complete, complete-late,
/// awaiting-countersignature, overdue); `replay` then rebuilds the same state.
@Suite struct CountersignModelTests {
    struct Delivered {
        var receiver: String
        var count: UInt32
        var digest: Digest32
        var delivered: Bool
        var time: Int64
    }

    /// The rule, stated directly.
    struct Model {
        var transfers: [UInt64: Delivered] = [:]
        var signed: [UInt64: Int64] = [:]

        /// The refusal code, or nil when applied (and applies it).
        mutating func countersign(
            _ leaf: UInt64, by submitter: String, digest: Digest32, count: UInt32, at time: Int64
        ) -> String? {
            guard let transfer = transfers[leaf] else { return "unknown-transfer" }
            guard transfer.delivered else { return "not-delivered" }
            guard transfer.receiver == submitter else { return "not-receiver" }
            guard signed[leaf] == nil else { return "already-countersigned" }
            guard digest == transfer.digest else { return "digest-mismatch" }
            guard count == transfer.count else { return "count-mismatch" }
            signed[leaf] = time
            return nil
        }

        func status(_ leaf: UInt64, now: Int64) -> TransferCompletion {
            let due = transfers[leaf]!.time + 72 * 3_600_000
            if let at = signed[leaf] { return at <= due ? .complete : .completeLate }
            return now > due ? .overdue : .awaitingCountersignature
        }
    }

    @Test func theLedgersCountersignaturesEqualTheReferenceModel() async throws {
        await propertyCheck(count: 3, input: Gen.int(in: 0...1_000_000)) { seed in
            var fold = try TransferContractsPropertyTests.granted(seed: seed)
            var model = Model()
            for step in 0..<24 {
                switch step < 2 ? 0 : fold.random.next(4) {
                case 0: try Self.deliver(&fold, &model, step: step)
                case 1: fold.d.advance(minutes: Int64(fold.random.next(3)) * 30 * 60)
                default: try Self.countersign(&fold, &model, step: step)
                }
            }
            // A last leaf, so the latest block is at the clock's time: the audit's "now".
            let now = fold.d.clock.milliseconds
            _ = try fold.submit(fold.requester, .revokeGrant(requestID: fold.requestID, reason: "end of the test"))
            let rows = try fold.d.queries.transferCompletions()
            let delivered = model.transfers.filter { $0.value.delivered }.keys.sorted()
            #expect(rows.map(\.transferLeaf) == delivered)
            for row in rows {
                #expect(row.status == model.status(row.transferLeaf, now: now), "transfer \(row.transferLeaf)")
            }
            let replay = try StateReplay.replay(store: fold.d.ledger.store, authority: fold.d.authority.publicKey)
            #expect(replay.ok, "\(replay.differences)")
        }
    }

    /// The requester redeems its grant and the owner reports a transfer (delivered, or now
    /// and then refused) of a random count and digest.
    static func deliver(
        _ fold: inout TransferContractsPropertyTests.Fold, _ model: inout Model, step: Int, refusing: Bool? = nil
    ) throws {
        let (redeem, _) = TransferRequester.redeem(requestID: fold.requestID, token: [7], purpose: "audit")
        let redeemLeaf = try fold.submit(fold.requester, redeem)
        let delivered = !(refusing ?? (fold.random.next(4) == 0))
        let report = TransferRecord(
            requestID: fold.requestID, redeemLeaf: redeemLeaf, receiver: fold.requester, lot: Deployment.lot,
            level: .level2, recordCount: UInt32(1 + fold.random.next(4)),
            blobDigest: Digest32.sha256(Array("blobs \(step)".utf8)), source: "10.9.9.9",
            status: delivered ? .delivered : .refused, purpose: "audit", reason: delivered ? "" : "not today")
        let leaf = try fold.submit(Deployment.owner, .addTransfer(report))
        model.transfers[leaf] = Delivered(
            receiver: fold.requester, count: report.recordCount, digest: report.blobDigest, delivered: delivered,
            time: fold.d.clock.milliseconds)
    }

    /// A countersignature, right or wrong in each field, checked against the model.
    static func countersign(_ fold: inout TransferContractsPropertyTests.Fold, _ model: inout Model, step: Int) throws {
        let leaves = model.transfers.keys.sorted()
        let leaf = leaves.isEmpty || fold.random.next(8) == 0 ? 997 : leaves[fold.random.next(leaves.count)]
        let known = model.transfers[leaf]
        let submitter = fold.random.next(5) == 0 ? TransferContractsPropertyTests.stranger : fold.requester
        let digest =
            fold.random.next(5) == 0 ? Digest32.sha256(Array("wrong".utf8)) : known?.digest ?? .zero
        let count = (known?.count ?? 1) + (fold.random.next(6) == 0 ? 1 : 0)
        let expected = model.countersign(
            leaf, by: submitter, digest: digest, count: count, at: fold.d.clock.milliseconds)
        _ = try fold.submit(
            submitter,
            .countersignTransfer(
                TransferCountersignature(
                    requestID: fold.requestID, transferLeaf: leaf, receivedDigest: digest, recordCount: count)))
        let event = try #require(try fold.d.queries.accessEvents(method: "countersignTransfer", limit: 1).first)
        if let expected {
            #expect(
                event.outcome == .refused && event.detail.hasPrefix("\(expected): "), "step \(step): \(event.detail)")
        } else {
            #expect(event.outcome == .applied, "step \(step): \(event.detail)")
        }
    }

    /// Bad input names the field: another principal's countersignature, a digest that is not
    /// what the owner reported.
    @Test func badCountersignaturesAreRefusedNamingTheField() throws {
        var fold = try TransferContractsPropertyTests.granted(seed: 1)
        var model = Model()
        try Self.deliver(&fold, &model, step: 0, refusing: false)
        let leaf = try #require(model.transfers.keys.first)
        let transfer = try #require(model.transfers[leaf])
        func countersign(_ submitter: String, _ digest: Digest32) throws -> AccessEventRow {
            _ = try fold.submit(
                submitter,
                .countersignTransfer(
                    TransferCountersignature(
                        requestID: fold.requestID, transferLeaf: leaf, receivedDigest: digest,
                        recordCount: transfer.count)))
            return try #require(try fold.d.queries.accessEvents(method: "countersignTransfer", limit: 1).first)
        }
        do {
            let stranger = try countersign(TransferContractsPropertyTests.stranger, transfer.digest)
            #expect(
                stranger.detail
                    == "not-receiver: submitter: only the receiver \(fold.requester) countersigns this transfer, not \(TransferContractsPropertyTests.stranger)"
            )
            let wrong = try countersign(fold.requester, .zero)
            #expect(wrong.detail.hasPrefix("digest-mismatch: receivedDigest: you received blobs with digest 0000"))
            #expect(try countersign(fold.requester, transfer.digest).outcome == .applied)
            #expect(try fold.d.queries.transferCompletions().first?.status == .complete)
        }
    }
}

/// Countersigning through a real `agritrace api` over mutual TLS: the receiver posts its
/// countersignature; a wrong digest is refused naming the field and leaves the transfer
/// awaiting; the right one completes it, as `GET /v1/audit/transfers` shows.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct CountersignGatewayTests {
    @Test func theReceiverCountersignsThroughTheAPI() async throws {
        var fold = try TransferContractsPropertyTests.granted(seed: 2)
        var model = CountersignModelTests.Model()
        try CountersignModelTests.deliver(&fold, &model, step: 0, refusing: false)
        let leaf = try #require(model.transfers.keys.first)
        let transfer = try #require(model.transfers[leaf])
        let gateway = try await GatewayPunishmentTests.start(fold.d, extra: [])
        defer { gateway.server.terminate() }
        func post(_ digest: Digest32) async throws -> AccessEventRow {
            let body = try fold.d.signed(
                fold.requester,
                .countersignTransfer(
                    TransferCountersignature(
                        requestID: fold.requestID, transferLeaf: leaf, receivedDigest: digest,
                        recordCount: transfer.count)))
            let answer = try await gateway.post("/v1/transactions", body, client: nil)
            #expect(answer.status == 200, "\(answer.status)")
            try GatewayPunishmentTests.order(fold.d)
            return try #require(try fold.d.queries.accessEvents(method: "countersignTransfer", limit: 1).first)
        }
        func statuses() async throws -> [TransferCompletionRow] {
            let answer = try await gateway.get("/v1/audit/transfers?deadline-hours=72", client: nil)
            return try JSONDecoder().decode([TransferCompletionRow].self, from: answer.body)
        }
        #expect(try await statuses().map(\.status) == [.awaitingCountersignature])
        let wrong = try await post(.zero)
        #expect(wrong.outcome == .refused && wrong.detail.hasPrefix("digest-mismatch: receivedDigest: "))
        #expect(try await statuses().map(\.status) == [.awaitingCountersignature])
        // Credit counts a transfer only once the receiver countersigned it in time.
        func creditedTransfers() throws -> Int64 { try fold.d.queries.credit().map(\.transfers).reduce(0, +) }
        #expect(try creditedTransfers() == 0)
        #expect(try await post(transfer.digest).outcome == .applied)
        #expect(try creditedTransfers() == 1)
        let complete = try await statuses()
        #expect(complete.map(\.status) == [.complete])
        #expect(complete.first?.countersignatureLeaf != nil)
        let refused = try await gateway.get("/v1/audit/transfers?deadline-hours=0", client: nil)
        #expect(refused.status == 400)
    }
}
