import AccessFlow
import AgriTraceCore
import Foundation
import Ledger
import PropertyBased
import Testing

/// The resource directory (docs/governance.md) through the real ledger against a small
/// reference model written from the rule's text: random entries for two enterprises' lots, a
/// lot with no records and an unknown blob, published by the owner or by another enterprise,
/// naming the right or the wrong producer, give the outcomes the model predicts; random
/// searches by product, stage, enterprise and time return what the model holds; nothing a
/// search prints holds anything of the lot's hidden policy; `replay` rebuilds the same state.
@Suite struct DirectoryModelTests {
    struct Model {
        let owners: [String: String]
        var entries: [String: (entry: DirectoryEntry, publisher: String, time: Int64)] = [:]

        mutating func publish(_ entry: DirectoryEntry, by enterprise: String, publisher: String, at time: Int64)
            -> String?
        {
            guard case .dataset(let lot, _) = entry.resource, let owner = owners[lot] else {
                return "unknown-resource"
            }
            guard owner == enterprise else { return "not-owner" }
            guard entry.producer == owner else { return "producer-mismatch" }
            entries[entry.resource.key] = (entry, publisher, time)
            return nil
        }

        func search(_ filter: LedgerQueries.DirectoryFilter) -> Set<String> {
            Set(
                entries.filter { _, value in
                    (filter.product == nil || value.entry.product == filter.product)
                        && (filter.stage == nil || value.entry.stage == filter.stage)
                        && (filter.enterprise == nil || value.entry.producer == filter.enterprise)
                        && (filter.since.map { value.time >= $0.milliseconds } ?? true)
                        && (filter.until.map { value.time < $0.milliseconds } ?? true)
                }.keys)
        }
    }

    static func entry(
        _ resource: DirectoryEntry.Resource, producer: String, product: String, stage: Stage, name: String
    ) -> DirectoryEntry {
        DirectoryEntry(
            resource: resource, name: name, overview: "sensor series and lab results", producer: producer,
            stage: stage, product: product, mediaType: "application/json", format: "agritrace fetch JSON",
            size: 4096, heldBy: "the owner's transfer service", retentionDays: 365)
    }

    @Test func theLedgersDirectoryEqualsTheReferenceModel() async throws {
        await propertyCheck(count: 3, input: Gen.int(in: 0...1_000_000)) { seed in
            let setup = try CorrectionModelTests.Setup()
            try setup.d.protect()
            _ = try setup.record("OTHER1", lot: "LOT-O")
            var model = Model(owners: [Deployment.lot: "PLANT1", "LOT-O": "OTHER1"])
            var random = AccessContractsPropertyTests.SplitMix(state: UInt64(seed))
            let lots = [Deployment.lot, "LOT-O", "LOT-NONE"]
            for step in 0..<20 {
                setup.d.advance(minutes: Int64(random.next(90)))
                let resource: DirectoryEntry.Resource =
                    random.next(8) == 0
                    ? .blob(Digest32.sha256(Array("blob \(step)".utf8)))
                    : .dataset(lot: lots[random.next(3)], level: random.next(2) == 0 ? .level2 : .level1)
                let (principal, enterprise) =
                    random.next(3) == 0 ? (CorrectionModelTests.Setup.rival, "OTHER1") : (Deployment.owner, "PLANT1")
                let producer = random.next(6) == 0 ? "SOMEONE" : enterprise
                let entry = Self.entry(
                    resource, producer: producer, product: random.next(2) == 0 ? "fresh corn" : "rice",
                    stage: random.next(2) == 0 ? .planting : .processing, name: "entry \(step)")
                let expected = model.publish(
                    entry, by: enterprise, publisher: principal, at: setup.d.clock.milliseconds)
                try setup.d.submit(principal, .publishDirectoryEntry(entry))
                try setup.d.cut()
                let event = try #require(try setup.d.queries.accessEvents(method: "publishDirectoryEntry").first)
                if let expected {
                    #expect(event.outcome == .refused && event.detail.hasPrefix("\(expected): "), "\(event.detail)")
                } else {
                    #expect(event.outcome == .applied, "step \(step): \(event.detail)")
                }
                let filter = LedgerQueries.DirectoryFilter(
                    product: random.next(2) == 0 ? "rice" : nil, stage: random.next(3) == 0 ? .planting : nil,
                    enterprise: random.next(3) == 0 ? "OTHER1" : nil,
                    since: random.next(3) == 0 ? Timestamp(milliseconds: setup.d.clock.milliseconds - 3_600_000) : nil)
                #expect(Set(try setup.d.queries.directory(filter).map(\.resource)) == model.search(filter))
            }
            try Self.expectNothingOfThePolicy(in: try setup.d.queries.directory(), setup.d)
            let replay = try StateReplay.replay(store: setup.d.ledger.store, authority: setup.d.authority.publicKey)
            #expect(replay.ok, "\(replay.differences)")
        }
    }

    /// A search's JSON holds nothing of the lot's hidden policy: not its attribute values, not
    /// the entry's id or its window.
    static func expectNothingOfThePolicy(in rows: [DirectoryRow], _ d: Deployment) throws {
        let text = String(decoding: try JSONEncoder().encode(rows), as: UTF8.self)
        let policy = try #require(try d.queries.encryptedData(owner: nil, lot: Deployment.lot).first)
        for secret in [
            "processing-administrator", "Beijing", "ZS123", "corn-processing-read", policy.dataID,
            policy.window ?? "08:00-12:00",
        ] {
            #expect(!text.contains(secret), "the directory shows \(secret)")
        }
    }
}
