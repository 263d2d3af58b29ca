import AccessFlow
import AgriTraceCore
import Ledger
import PropertyBased
import SQLiteStorage
import Testing

/// The redemption, transfer-report, read-report and grant-revocation contracts through the
/// SQLite state store (a real ledger, a granted request of the worked example) against the
/// pure contracts folded over ``MemoryContractState``: random redemptions, reports and reads
/// from the right and the wrong principals, some naming leaves that are not redemptions or
/// transfers, give the same audit events and the same `transfers` and `transfer_reads` rows.
@Suite struct TransferContractsPropertyTests {
    static let stranger = "Firm/li@ZS123"

    /// One run: the ledger, the model folded beside it, and the random choices.
    struct Fold {
        let d: Deployment
        let requestID: String
        let requester: String
        var model: MemoryContractState
        var random: AccessContractsPropertyTests.SplitMix
        var redeemLeaves: [UInt64] = []
        /// While true, every step is the right principal's, naming the right leaves.
        var honest = true

        mutating func who(_ right: String) -> String {
            !honest && random.next(4) == 0 ? TransferContractsPropertyTests.stranger : right
        }

        /// Submits `operation` from `submitter` in a block of its own; returns its leaf.
        func submit(_ submitter: String, _ operation: AccessTransaction.Operation) throws -> UInt64 {
            try d.submit(submitter, operation)
            return try AccessContractsPropertyTests.cut(d)
        }

        mutating func redeem() throws -> ContractEvent {
            let submitter = who(requester)
            let (operation, _) = TransferRequester.redeem(requestID: requestID, token: [7], purpose: "audit")
            let leaf = try submit(submitter, operation)
            let facts = model.requests[requestID]
            let event = Redemption.apply(requestID: requestID, submitter: submitter, facts: facts)
            model.redemptions[leaf] = RedemptionFacts(
                requestID: requestID, requester: submitter, owner: facts?.owner, outcome: event.outcome)
            redeemLeaves.append(leaf)
            return event
        }

        mutating func report() throws -> ContractEvent {
            let status: TransferStatus = !honest && random.next(3) == 0 ? .refused : .delivered
            let report = TransferRecord(
                requestID: requestID, redeemLeaf: !honest && random.next(5) == 0 ? 999 : redeemLeaves.last ?? 999,
                receiver: who(requester), lot: Deployment.lot, level: .level2, recordCount: UInt32(random.next(5)),
                blobDigest: .zero, source: "10.9.9.9", status: status, purpose: "audit",
                reason: status == .refused ? "not today" : "")
            let submitter = who(Deployment.owner)
            let leaf = try submit(submitter, .addTransfer(report))
            return model.fold(try TransferReport.apply(report, submitter: submitter, view: model), leaf: leaf)
        }

        mutating func read() throws -> ContractEvent {
            let transferLeaf = !honest && random.next(4) == 0 ? 998 : model.transfers.keys.max() ?? 998
            let read = ReadRecord(
                requestID: requestID, transferLeaf: transferLeaf, recordCount: 2, fields: ["planting.cost_price"],
                outcome: "verified", detail: "all values match their commitments")
            let submitter = who(requester)
            let leaf = try submit(submitter, .recordRead(read))
            return model.fold(try ReadReport.apply(read, submitter: submitter, view: model), leaf: leaf)
        }

        mutating func revoke() throws -> ContractEvent {
            let submitter = who(Deployment.owner)
            _ = try submit(submitter, .revokeGrant(requestID: requestID, reason: "contract ended"))
            let event = GrantRevocation.apply(
                requestID: requestID, reason: "contract ended", submitter: submitter, facts: model.requests[requestID])
            if event.outcome == .applied { model.requests[requestID]?.revoked = true }
            return event
        }
    }

    @Test func storedTransfersAndReadsEqualThePureFold() async throws {
        await propertyCheck(count: 3, input: Gen.int(in: 10...16), Gen.int(in: 0...1_000_000)) { steps, seed in
            var fold = try Self.granted(seed: seed)
            for step in 0..<steps {
                // The first three steps are the happy path: redeem, deliver, read.
                fold.honest = step < 3
                let choice = step < 3 ? [0, 2, 5][step] : fold.random.next(8)
                let expected =
                    switch choice {
                    case 0, 1: try fold.redeem()
                    case 2, 3, 4: try fold.report()
                    case 5, 6: try fold.read()
                    default: try fold.revoke()
                    }
                let row = try #require(try fold.d.queries.accessEvents(limit: 1).first)
                #expect(row.subject == expected.subject && row.outcome == expected.outcome, "step \(step)")
                #expect(row.detail == expected.detail, "step \(step)")
            }
            #expect(fold.model.transfers.values.contains { $0.outcome == .applied } && !fold.model.reads.isEmpty)
            let time = Int64(fold.d.clock.milliseconds)
            #expect(
                try AccessContractsPropertyTests.rows("transfers", orderBy: "leaf_index", fold.d)
                    == Self.transferRows(fold.model, time: time))
            #expect(
                try AccessContractsPropertyTests.rows("transfer_reads", orderBy: "leaf_index", fold.d)
                    == Self.readRows(fold.model, time: time))
        }
    }

    /// A deployment with the worked example's request granted, and the model of its state.
    static func granted(seed: Int) throws -> Fold {
        let d = try Deployment()
        let keys = try d.enrollRequester(Deployment.requesterGrant)
        try d.register(stranger, kind: .firm, enterprise: "ZS123", role: "processing-administrator")
        try d.protect()
        let row = try d.requestAndMatch(keys)
        try #require(row.status == .granted)
        let facts = RequestFacts(
            requester: row.requester, lot: row.lot, level: row.level, source: row.source, status: .granted,
            owner: Deployment.owner, revoked: false)
        return Fold(
            d: d, requestID: row.requestID, requester: row.requester,
            model: MemoryContractState(requests: [row.requestID: facts]),
            random: AccessContractsPropertyTests.SplitMix(state: UInt64(seed)))
    }

    /// The model's `transfers` rows, all at the block time `time`.
    static func transferRows(_ model: MemoryContractState, time: Int64) -> [[SQLiteValue]] {
        model.transfers.sorted { $0.key < $1.key }.map { leaf, entry in
            let report = entry.report
            return [
                .integer(Int64(leaf)), .text(report.requestID), .integer(Int64(report.redeemLeaf)), .text(entry.sender),
                .text(report.receiver), .text(report.lot), .text(report.level.rawValue),
                .integer(Int64(report.recordCount)), .blob(report.blobDigest.bytes), .text(entry.source),
                .text(report.status.rawValue), .text(report.purpose), .text(entry.reason),
                .text(entry.outcome.rawValue),
                .integer(time),
            ]
        }
    }

    /// The model's `transfer_reads` rows, all at the block time `time`.
    static func readRows(_ model: MemoryContractState, time: Int64) -> [[SQLiteValue]] {
        model.reads.sorted { $0.key < $1.key }.map { leaf, entry in
            let report = entry.report
            return [
                .integer(Int64(leaf)), .text(report.requestID), .text(entry.reader), .text(entry.lot),
                .text(entry.level), .integer(Int64(report.transferLeaf)), .integer(Int64(report.recordCount)),
                .text(report.fields.joined(separator: ",")), .text(report.outcome), .text(report.detail),
                .integer(time),
            ]
        }
    }
}
