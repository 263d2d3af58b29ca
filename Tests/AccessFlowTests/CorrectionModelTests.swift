import AccessFlow
import AccessTestSupport
import AgriTraceCore
import Crypto
import Ledger
import PropertyBased
import TestSupport
import Testing

/// The correction rule (docs/governance.md, "Corrections") through the real ledger against a
/// small reference model written from the rule's text: random records of two enterprises in
/// two lots, and random corrections (by either enterprise's principal, of known and unknown
/// records, in and out of order, repeated) give the outcomes the model predicts, the
/// `record_corrections` rows it predicts, and `trace` marks what it predicts; `replay` then
/// rebuilds the same state.
@Suite struct CorrectionModelTests {
    /// A record as the model knows it.
    struct Known: Equatable {
        var id: RecordID
        var lot: String
        var enterprise: String
        var order: Int
    }

    /// The rule, stated directly.
    struct Model {
        var records: [RecordID: Known] = [:]
        var supersededBy: [RecordID: RecordID] = [:]
        var corrects: [RecordID: RecordID] = [:]

        /// The refusal code, or nil when applied (and applies it).
        mutating func correct(_ old: RecordID, by new: RecordID, enterprise: String) -> String? {
            guard let a = records[old], let b = records[new] else { return "unknown-record" }
            guard a.enterprise == enterprise, b.enterprise == enterprise else { return "other-enterprise" }
            guard a.lot == b.lot else { return "other-lot" }
            guard b.order > a.order else { return "not-later" }
            guard supersededBy[old] == nil else { return "already-superseded" }
            guard corrects[new] == nil else { return "already-corrects" }
            supersededBy[old] = new
            corrects[new] = old
            return nil
        }
    }

    /// Two enterprises' boxes and principals on one ledger.
    final class Setup {
        let d: Deployment
        let other = Curve25519.Signing.PrivateKey()
        static let rival = "Firm/rival@OTHER1"
        var sequences: [String: UInt64] = ["PLANT1": 1, "OTHER1": 0]
        var order = 0

        init() throws {
            d = try Deployment()
            try d.ledger.admit(
                registry: try SignedRegistry.addDevice(
                    enterprise: "OTHER1", device: "other-box", key: other.publicKey, stage: .planting,
                    authority: d.authority, nonce: 2))
            try d.register(Self.rival, kind: .firm, enterprise: "OTHER1", role: "farm-administrator")
            try d.cut()
        }

        /// A record of `lot` from `enterprise`'s box, on the ledger.
        func record(_ enterprise: String, lot: String) throws -> Known {
            let sequence = (sequences[enterprise] ?? 0) + 1
            sequences[enterprise] = sequence
            let device = enterprise == "PLANT1" ? "farm-box" : "other-box"
            let classifier = Classifier(
                identity: DeviceIdentity(enterprise: enterprise, device: device, enrolledAt: Timestamp(milliseconds: 0))
            )
            let reading = Reading(
                stage: .planting, lot: lot, product: Deployment.product,
                time: Timestamp(milliseconds: 1_770_000_000_000 + Int64(sequence) * 1000), inputLots: [],
                fields: ["planting.variety": .text("sweet corn \(sequence)")])
            let record = classifier.classify(reading, sequence: sequence, bootID: "boot", recordedAt: reading.time)
                .record
            try d.publish([record], enterprise: enterprise, device: device, key: enterprise == "PLANT1" ? d.box : other)
            try d.cut()
            order += 1
            return Known(id: record.id, lot: lot, enterprise: enterprise, order: order)
        }

        /// `correctRecord` as `principal`; the audit event it got.
        func correct(_ old: RecordID, by new: RecordID, as principal: String, reason: String = "probe miscalibrated")
            throws -> AccessEventRow
        {
            try d.submit(principal, .correctRecord(RecordCorrection(superseded: old, correction: new, reason: reason)))
            try d.cut()
            order += 1
            return try #require(try d.queries.accessEvents(method: "correctRecord").first)
        }
    }

    @Test func theLedgersCorrectionsEqualTheReferenceModel() async throws {
        await propertyCheck(count: 4, input: Gen.int(in: 0...1_000_000)) { seed in
            let setup = try Setup()
            var model = Model()
            var random = AccessContractsPropertyTests.SplitMix(state: UInt64(seed))
            var known: [Known] = []
            let stranger = RecordID.derive(enterprise: "NOBODY", device: "none", sequence: 1)
            for step in 0..<30 {
                if known.count < 2 || random.next(3) == 0 {
                    let record = try setup.record(
                        random.next(3) == 0 ? "OTHER1" : "PLANT1", lot: random.next(3) == 0 ? "LOT-B" : "LOT-A")
                    known.append(record)
                    model.records[record.id] = record
                    continue
                }
                let pick = { (r: inout AccessContractsPropertyTests.SplitMix) -> RecordID in
                    r.next(12) == 0 ? stranger : known[r.next(known.count)].id
                }
                let old = pick(&random)
                var new = pick(&random)
                if new == old { new = stranger }
                let (principal, enterprise) =
                    random.next(4) == 0 ? (Setup.rival, "OTHER1") : (Deployment.owner, "PLANT1")
                let expected = model.correct(old, by: new, enterprise: enterprise)
                let event = try setup.correct(old, by: new, as: principal)
                if let expected {
                    #expect(event.outcome == .refused, "step \(step)")
                    #expect(event.detail.hasPrefix("\(expected): "), "step \(step): \(event.detail)")
                } else {
                    #expect(event.outcome == .applied, "step \(step): \(event.detail)")
                }
            }
            let rows = try setup.d.queries.corrections()
            #expect(
                Dictionary(uniqueKeysWithValues: rows.map { ($0.superseded, $0.correction) })
                    == Dictionary(uniqueKeysWithValues: model.supersededBy.map { ($0.key.hex, $0.value.hex) }))
            for lot in ["LOT-A", "LOT-B"] {
                for row in try setup.d.queries.traceRows(lot: lot) {
                    let id = try #require(RecordID(hex: row.recordID))
                    #expect(row.supersededBy == model.supersededBy[id]?.hex)
                    #expect(row.supersedes == model.corrects[id]?.hex)
                }
            }
            let replay = try StateReplay.replay(store: setup.d.ledger.store, authority: setup.d.authority.publicKey)
            #expect(replay.ok, "\(replay.differences)")
        }
    }

    /// Bad input gets an error naming the field: another enterprise's record, another lot's
    /// record, an unknown record, and a record named as its own correction (refused at
    /// admission, never on the ledger).
    @Test func badCorrectionsAreRefusedNamingTheField() throws {
        let setup = try Setup()
        let mine = try setup.record("PLANT1", lot: "LOT-A")
        let theirs = try setup.record("OTHER1", lot: "LOT-A")
        let otherLot = try setup.record("PLANT1", lot: "LOT-B")
        let later = try setup.record("PLANT1", lot: "LOT-A")
        let foreign = try setup.correct(theirs.id, by: later.id, as: Deployment.owner)
        #expect(foreign.outcome == .refused)
        #expect(
            foreign.detail
                == "other-enterprise: superseded: record \(theirs.id) belongs to enterprise OTHER1, not PLANT1; an enterprise corrects only its own records"
        )
        let lot = try setup.correct(mine.id, by: otherLot.id, as: Deployment.owner)
        #expect(lot.detail.hasPrefix("other-lot: correction: the new record is of lot LOT-B"))
        let unknown = RecordID.derive(enterprise: "PLANT1", device: "farm-box", sequence: 99)
        let missing = try setup.correct(mine.id, by: unknown, as: Deployment.owner)
        #expect(missing.detail.hasPrefix("unknown-record: correction: record \(unknown) is not on the ledger"))
        #expect(throws: ContractViolation.self) {
            try setup.d.submit(
                Deployment.owner,
                .correctRecord(RecordCorrection(superseded: mine.id, correction: mine.id, reason: "x")))
        }
        let applied = try setup.correct(mine.id, by: later.id, as: Deployment.owner, reason: "variety mistyped")
        #expect(applied.outcome == .applied)
        #expect(applied.detail.contains("superseded by \(later.id): variety mistyped"))
        // Nothing is deleted: both records are still in the lot's trace, marked.
        let trace = try setup.d.queries.traceRows(lot: "LOT-A")
        #expect(trace.first { $0.recordID == mine.id.hex }?.supersededBy == later.id.hex)
        #expect(trace.first { $0.recordID == later.id.hex }?.supersedes == mine.id.hex)
        #expect(trace.count == 3)
    }
}
