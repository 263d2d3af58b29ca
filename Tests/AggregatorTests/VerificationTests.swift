import Crypto
import Foundation
import Ingest
import Ledger
import SQLiteStorage
import Testing

@testable import AgriTraceCore

/// A ledger with a few blocks of records, for tampering.
func populatedLedger(
    blocks: Int = 4, perBlock: Int = 25, authority: Curve25519.Signing.PrivateKey = .init()
) throws -> LedgerFixture {
    var fixture = try LedgerFixture(authority: authority)
    for block in 0..<blocks {
        _ = fixture.ledger.admit(
            topic: fixture.device.recordTopic,
            payload: fixture.device.payload(fixture.device.records(perBlock, lot: "PL-\(block)")))
        try fixture.ledger.cutBlock()
    }
    return fixture
}

@Suite struct TamperTests {
    func verify(_ fixture: LedgerFixture) throws -> VerificationReport {
        try LedgerVerifier.verify(
            store: LedgerStore(path: fixture.path, readOnly: true), authority: fixture.authority.publicKey)
    }

    @Test func cleanStoreVerifies() throws {
        let fixture = try populatedLedger()
        let report = try verify(fixture)
        #expect(report.ok, "\(report.fault ?? "")")
        #expect(report.blocks == 5)
        #expect(report.leaves == 101)
        #expect(report.logRoot == fixture.ledger.frontier.root.hex)
    }

    @Test func tamperedRecordIsNamed() throws {
        let fixture = try populatedLedger()
        let db = fixture.ledger.store.db
        // Change one byte of leaf 40's entry (a record in block 3).
        let entry = try #require(try fixture.ledger.store.entry(leafIndex: 40)).entry
        var forged = entry
        forged[forged.count - 3] ^= 0x01
        let update = try db.prepare("UPDATE log_entries SET entry = ? WHERE leaf_index = 40")
        try update.bind(forged, at: 1)
        try update.run()
        let report = try verify(fixture)
        #expect(report.fault?.contains("leaf 40 (block 3)") == true, "\(report.fault ?? "no fault")")
        #expect(report.blocks == 2, "the blocks before the bad one verified")
    }

    @Test func recordWithRecomputedLeafHashIsCaughtByTheTree() throws {
        let fixture = try populatedLedger()
        let db = fixture.ledger.store.db
        var record = try #require(
            { () -> Record? in
                guard
                    case .record(let r) = try Canonical.decode(
                        LogEntry.self, from: try fixture.ledger.store.entry(leafIndex: 60)!.entry)
                else { return nil }
                return r
            }())
        record.lot = "PL-FORGED"
        let bytes = LogEntry.record(record).canonicalBytes
        let update = try db.prepare("UPDATE log_entries SET entry = ?, leaf_hash = ? WHERE leaf_index = 60")
        try update.bind(bytes, at: 1)
        try update.bind(MerkleTree.leafHash(bytes).bytes, at: 2)
        try update.run()
        let report = try verify(fixture)
        let fault = try #require(report.fault)
        #expect(fault.contains("log node") || fault.contains("block 3"), "\(fault)")
    }

    @Test func tamperedHeaderIsNamed() throws {
        let fixture = try populatedLedger()
        var block = try #require(try fixture.ledger.store.block(height: 3))
        block.header.value.time = Timestamp(milliseconds: block.header.value.time.milliseconds + 1)
        let update = try fixture.ledger.store.db.prepare("UPDATE blocks SET header = ? WHERE height = 3")
        try update.bind(Canonical.encode(block.header), at: 1)
        try update.run()
        #expect(try verify(fixture).fault?.contains("block 3: the header signature does not verify") == true)
    }

    @Test func reSignedHeaderWithAnotherKeyIsRefused() throws {
        let fixture = try populatedLedger()
        let block = try #require(try fixture.ledger.store.block(height: 2))
        let forged = try Signed(block.header.value, domain: .blockHeader, key: Curve25519.Signing.PrivateKey())
        let update = try fixture.ledger.store.db.prepare("UPDATE blocks SET header = ? WHERE height = 2")
        try update.bind(Canonical.encode(forged), at: 1)
        try update.run()
        #expect(try verify(fixture).fault?.contains("block 2: the header signature") == true)
    }

    @Test func tamperedTreeNodeIsNamed() throws {
        let fixture = try populatedLedger()
        let position = LogNodePosition(level: 3, index: 5)  // leaves 40..<48
        let update = try fixture.ledger.store.db.prepare("UPDATE log_nodes SET hash = ? WHERE key = ?")
        try update.bind(Digest32.sha256([1, 2, 3]).bytes, at: 1)
        try update.bind(position.storageKey, at: 2)
        try update.run()
        #expect(fixture.ledger.store.db.changes == 1)
        let fault = try #require(try verify(fixture).fault)
        #expect(fault.contains("log node level 3 index 5"), "\(fault)")
    }

    @Test func deletedLeafIsNamed() throws {
        let fixture = try populatedLedger()
        try fixture.ledger.store.db.execute("DELETE FROM log_entries WHERE leaf_index = 77")
        #expect(try verify(fixture).fault?.contains("leaf 77 of block 5 is missing") == true)
    }
}

@Suite struct ProofVerifierTests {
    struct Setup {
        let fixture: LedgerFixture
        let proof: SavedInclusionProof
        var key: Curve25519.Signing.PublicKey { fixture.authority.publicKey }
    }

    func setup() throws -> Setup {
        let fixture = try populatedLedger(blocks: 3, perBlock: 21)
        let queries = LedgerQueries(store: fixture.ledger.store)
        let record = try #require(queries.trace(lot: "PL-1").dropFirst(4).first)
        return Setup(fixture: fixture, proof: try queries.inclusionProof(of: record.record.id))
    }

    @Test func genuineProofVerifiesAndSurvivesJSON() throws {
        let s = try setup()
        let data = try JSONEncoder().encode(s.proof)
        let decoded = try JSONDecoder().decode(SavedInclusionProof.self, from: data)
        let (record, header) = try decoded.verify(authority: s.key)
        #expect(record.lot == "PL-1")
        #expect(header.logSize == 64)
        // Also against the same tree head saved separately.
        try decoded.verify(
            authority: s.key,
            trustedTreeHead: SavedTreeHead(try LedgerQueries(store: s.fixture.ledger.store).treeHead()))
    }

    @Test func everyProofForEveryLeafAndEveryBlockSizeVerifies() throws {
        let s = try setup()
        let queries = LedgerQueries(store: s.fixture.ledger.store)
        for size in [22, 43, 64] as [UInt64] {
            for record in try queries.trace(lot: "PL-0") {
                try queries.inclusionProof(of: record.record.id, treeSize: size).verify(authority: s.key)
            }
        }
        #expect(throws: (any Error).self) {
            try queries.inclusionProof(of: try queries.trace(lot: "PL-2")[0].record.id, treeSize: 22)
        }
    }

    @Test func forgedProofsAreRejected() throws {
        let s = try setup()
        let genuine = s.proof
        var cases: [(String, SavedInclusionProof)] = []
        var p = genuine
        p.proof[1] = Digest32.sha256([9]).hex
        cases.append(("a changed path hash", p))
        p = genuine
        p.proof.removeLast()
        cases.append(("a truncated path", p))
        p = genuine
        p.proof = []
        cases.append(("an empty path", p))
        p = genuine
        p.proof.append(Digest32.sha256([7]).hex)
        cases.append(("an extended path", p))
        p = genuine
        p.proof.append(p.proof.last!)
        cases.append(("a duplicated last hash", p))
        p = genuine
        p.proof = p.proof.reversed()
        cases.append(("a reversed path", p))
        p = genuine
        p.leafIndex += 1
        cases.append(("another leaf index", p))
        p = genuine
        p.leafIndex = 64
        cases.append(("a leaf index at the tree size", p))
        p = genuine
        p.leafIndex = UInt64.max
        cases.append(("a huge leaf index", p))
        p = genuine
        p.treeHead.logSize = 65
        p.treeHead.logRoot = Digest32.sha256([1]).hex
        p.treeHead.signedHeader = {
            var bytes = [UInt8](hexString: genuine.treeHead.signedHeader)!
            var header = try! Canonical.decode(Signed<BlockHeader>.self, from: bytes)
            header.value.logSize = 65
            bytes = Canonical.encode(header)
            return bytes.hexString
        }()
        cases.append(("a tree head with a changed size (signature no longer valid)", p))
        p = genuine
        p.treeHead.signedHeader = {
            var header = try! Canonical.decode(
                Signed<BlockHeader>.self, from: [UInt8](hexString: genuine.treeHead.signedHeader)!)
            header.value.logRoot = Digest32.sha256([2]).hex.isEmpty ? .zero : Digest32.sha256([2])
            return Canonical.encode(
                try! Signed(header.value, domain: .blockHeader, key: Curve25519.Signing.PrivateKey())
            ).hexString
        }()
        cases.append(("a tree head signed by another key", p))
        p = genuine
        p.treeHead.signedHeader = String(genuine.treeHead.signedHeader.dropLast(2))
        cases.append(("a truncated tree head", p))
        p = genuine
        p.entry = {
            guard
                case .record(var record) = try! Canonical.decode(
                    LogEntry.self, from: [UInt8](hexString: genuine.entry)!)
            else { fatalError() }
            record.lot = "PL-FORGED"
            return LogEntry.record(record).canonicalBytes.hexString
        }()
        cases.append(("a changed record", p))
        p = genuine
        p.recordID = RecordID.derive(enterprise: "farm-1", device: "box-1", sequence: 999).hex
        cases.append(("another record id", p))
        p = genuine
        p.entry = String(genuine.entry.dropLast(4))
        cases.append(("a truncated entry", p))
        p = genuine
        // The path's first hash presented as the leaf (an inner node passed off as a leaf).
        p.entry = p.proof[0]
        cases.append(("a node hash as entry", p))
        p = genuine
        p.format = "agritrace-inclusion-proof/v0"
        cases.append(("an unknown format", p))
        for (name, forged) in cases {
            #expect(throws: (any Error).self, "accepted \(name)") { try forged.verify(authority: s.key) }
        }
        // The genuine proof under another key, or against another tree head, is refused too.
        #expect(throws: ProofCheckError.treeHeadSignature) {
            try genuine.verify(authority: Curve25519.Signing.PrivateKey().publicKey)
        }
        let older = SavedTreeHead(try LedgerQueries(store: s.fixture.ledger.store).treeHead(size: 43))
        #expect(throws: ProofCheckError.differentTreeHead(proofSize: 64, savedSize: 43)) {
            try genuine.verify(authority: s.key, trustedTreeHead: older)
        }
    }

    @Test func consistencyProofsBetweenBlockSizesVerify() throws {
        let s = try setup()
        let queries = LedgerQueries(store: s.fixture.ledger.store)
        for old in 1...64 as ClosedRange<UInt64> {
            let answer = try queries.consistency(oldSize: old)
            let proof = answer.proof.map { Digest32(hex: $0)! }
            try MerkleTree.verifyConsistency(
                oldSize: old, newSize: 64, oldRoot: Digest32(hex: answer.oldRoot)!,
                newRoot: Digest32(hex: answer.newRoot)!, proof: proof)
            if !proof.isEmpty {
                var bad = proof
                bad[0] = Digest32.sha256([3])
                #expect(throws: (any Error).self) {
                    try MerkleTree.verifyConsistency(
                        oldSize: old, newSize: 64, oldRoot: Digest32(hex: answer.oldRoot)!,
                        newRoot: Digest32(hex: answer.newRoot)!, proof: bad)
                }
            }
        }
        // Roots at block ends are the signed ones.
        let head = try queries.treeHead(size: 43)
        #expect(try queries.consistency(oldSize: 43).oldRoot == head.value.logRoot.hex)
        #expect(throws: (any Error).self) { try queries.consistency(oldSize: 0) }
        #expect(throws: (any Error).self) { try queries.consistency(oldSize: 65) }
    }
}

@Suite struct BatchSignatureTests {
    @Test func deviceSignaturesAreKeptAndReverifyFromTheLog() throws {
        var fixture = try populatedLedger(blocks: 3, perBlock: 20)
        // A batch with a refused record is not kept (it cannot be rebuilt from the log).
        var forged = fixture.device.record(lot: "PL-X")
        forged.sequence += 100
        _ = fixture.ledger.admit(
            topic: fixture.device.recordTopic,
            payload: fixture.device.payload([fixture.device.record(lot: "PL-X"), forged]))
        try fixture.ledger.cutBlock()
        let report = try LedgerVerifier.verifyBatchSignatures(store: fixture.ledger.store)
        #expect(report.ok, "\(report.fault ?? "")")
        #expect(report.batches == 3)
        #expect(report.recordsSigned == 60)
        #expect(report.records == 61)

        // A record changed in the log (with its leaf hash) no longer matches its device's signature.
        guard
            case .record(var record) = try Canonical.decode(
                LogEntry.self, from: try fixture.ledger.store.entry(leafIndex: 30)!.entry)
        else {
            Issue.record("leaf 30 is not a record")
            return
        }
        record.lot = "PL-FORGED"
        let bytes = LogEntry.record(record).canonicalBytes
        let update = try fixture.ledger.store.db.prepare(
            "UPDATE log_entries SET entry = ?, leaf_hash = ? WHERE leaf_index = 30")
        try update.bind(bytes, at: 1)
        try update.bind(MerkleTree.leafHash(bytes).bytes, at: 2)
        try update.run()
        let tampered = try LedgerVerifier.verifyBatchSignatures(store: fixture.ledger.store)
        #expect(tampered.fault?.contains("batch signature 2") == true, "\(tampered.fault ?? "no fault")")
    }
}
