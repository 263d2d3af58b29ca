import AccessFlow
import AgriTraceCore
import Foundation
import Ledger
import LedgerClient
import PropertyBased
import TestSupport
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
        var blobOwners: [Digest32: String] = [:]
        var entries: [String: (entry: DirectoryEntry, publisher: String, time: Int64)] = [:]

        mutating func publish(_ entry: DirectoryEntry, by enterprise: String, publisher: String, at time: Int64)
            -> String?
        {
            let owner: String? =
                switch entry.resource {
                case .dataset(let lot, _): owners[lot]
                case .blob(let id): blobOwners[id]
                }
            guard let owner else { return "unknown-resource" }
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
            let stored = try Self.storeBlob(setup.d)
            model.blobOwners[stored] = "PLANT1"
            var random = AccessContractsPropertyTests.SplitMix(state: UInt64(seed))
            let lots = [Deployment.lot, "LOT-O", "LOT-NONE"]
            for step in 0..<20 {
                setup.d.advance(minutes: Int64(random.next(90)))
                let resource: DirectoryEntry.Resource =
                    random.next(5) == 0
                    ? .blob(random.next(3) == 0 ? Digest32.sha256(Array("blob \(step)".utf8)) : stored)
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

    /// A level-2 blob of the lot's record, referenced by the planting box (stored on the
    /// ledger): a blob PLANT1 owns. Returns its id.
    static func storeBlob(_ d: Deployment) throws -> Digest32 {
        let record = RecordID.derive(enterprise: "PLANT1", device: "farm-box", sequence: 1)
        let id = Digest32.sha256(Array("sealed level-2 values".utf8))
        let reference = BlobReference(
            enterprise: "PLANT1", device: "farm-box", recordID: record, level: .level2, blobID: id, size: 512,
            ownerKey: [UInt8](repeating: 9, count: 32),
            wrappedKey: WrappedDataKey(
                recordID: record, level: .level2, encapsulatedKey: [UInt8](repeating: 3, count: 32),
                ciphertext: [1, 2, 3]),
            sealedAt: d.clock)
        try d.ledger.admit(blob: try Signed(reference, domain: .blobReference, key: d.box))
        try d.cut()
        return id
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

/// The directory through a real `agritrace api` over mutual TLS and the built CLI's
/// `directory search --api`: the owner's entry is found by product, stage, enterprise and
/// time, a bad filter is a 400 naming the parameter, and nothing of the policy is served.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct DirectoryGatewayTests {
    @Test func theDirectoryIsSearchedOverTheAPIAndTheCLI() async throws {
        let (d, _) = try Deployment.protectedWithRequester()
        let entry = DirectoryModelTests.entry(
            .dataset(lot: Deployment.lot, level: .level2), producer: "PLANT1", product: Deployment.product,
            stage: .planting, name: "planting costs")
        try d.submit(Deployment.owner, .publishDirectoryEntry(entry))
        try d.cut()
        let gateway = try await GatewayPunishmentTests.start(d, extra: [])
        defer { gateway.server.terminate() }
        func search(_ query: String) async throws -> [DirectoryRow] {
            let answer = try await gateway.get("/v1/directory?" + query, client: nil)
            #expect(answer.status == 200, "\(query): \(String(decoding: answer.body, as: UTF8.self))")
            return try JSONDecoder().decode([DirectoryRow].self, from: answer.body)
        }
        let found = try await search("product=fresh%20corn&stage=planting&enterprise=PLANT1&since=2026-01-01T00:00:00Z")
        #expect(found.map(\.resource) == ["dataset:\(Deployment.lot):level-2"])
        #expect(found.first?.publisher == Deployment.owner && found.first?.heldBy == entry.heldBy)
        #expect(try await search("stage=processing").isEmpty)
        #expect(try await search("until=2026-01-01T00:00:00Z").isEmpty)
        let bad = try await gateway.get("/v1/directory?stage=harvest", client: nil)
        #expect(bad.status == 400 && String(decoding: bad.body, as: UTF8.self).contains("stage=harvest"))
        try DirectoryModelTests.expectNothingOfThePolicy(in: found, d)

        let connection = gateway.connection
        let output = try runCommand(
            try builtProduct(named: "agritrace"),
            [
                "directory", "search", "--product", Deployment.product, "--api", gateway.base, "--tls-ca",
                connection.caFile ?? "", "--tls-cert", connection.certificateFile ?? "", "--tls-key",
                connection.keyFile ?? "", "--json",
            ])
        let rows = try JSONDecoder().decode([DirectoryRow].self, from: Data(output.utf8))
        #expect(rows == found)
    }
}
