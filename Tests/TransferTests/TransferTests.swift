import AccessCrypto
import AccessFlow
import AgriTraceCore
import Crypto
import Foundation
import Ledger
import SQLiteStorage
import TestSupport
import Testing

/// The off-chain transfer (docs/transfer.md) on a real ledger store and blob store: upload,
/// redemption, the owner's re-wrapping, fetch-and-verify against the ledger, tampering,
/// revocation, provenance, replay, and an operator's scan for plaintexts.
@Suite("Transfer of private data")
struct TransferTests {
    @Test("an authorized requester receives and verifies the lot's level-2 data, and the read is on the ledger")
    func authorizedLevel2() async throws {
        let d = try await TransferDeployment()
        let (request, transfer, key) = try await d.grantedTransfer()
        #expect(transfer.status == .delivered)
        #expect(transfer.recordCount == d.classified.count)
        #expect(transfer.receiver == TransferDeployment.requesterGrant.principal)
        #expect(transfer.sender == TransferDeployment.owner)
        #expect(transfer.purpose == "quality audit")
        let fetched = try TransferRequester.fetch(transfer: transfer, key: key, queries: d.queries, blobs: d.blobStore)
        #expect(fetched.count == d.classified.count)
        for item in fetched {
            let original = try #require(d.classified.first { $0.record.id == item.record.id })
            #expect(item.fields == original.level2)
            #expect(item.fields.level == .level2)
        }
        // Selective disclosure: one field, with its proof checked against the commitment.
        let selected = try TransferRequester.fetch(
            transfer: transfer, key: key, queries: d.queries, blobs: d.blobStore, fields: ["planting.weeding_records"])
        for item in selected {
            #expect(item.disclosures.map(\.entry.key) == ["planting.weeding_records"])
            try item.disclosures[0].verify(against: try #require(item.record.level2))
        }
        try d.submit(
            TransferDeployment.requesterGrant.principal,
            .recordRead(
                ReadRecord(
                    requestID: request.requestID, transferLeaf: transfer.leafIndex, recordCount: UInt32(fetched.count),
                    fields: [], outcome: "verified", detail: "")))
        try d.cut()
        let provenance = try d.queries.provenance(lot: TransferDeployment.lot)
        #expect(provenance.map(\.kind) == [.redeem, .transfer, .read])
        #expect(provenance[1].who == TransferDeployment.owner)
        #expect(provenance[1].counterpart == TransferDeployment.requesterGrant.principal)
        #expect(provenance[1].detail.contains("quality audit"))
        // Replay rebuilds blobs, redemptions, transfers and reads from the log alone.
        let report = try StateReplay.replay(store: d.ledger.store, authority: d.authority.publicKey)
        #expect(report.ok, "\(report.differences)")
        #expect(report.rows["blobs"] == 2 * d.classified.count)
        #expect(report.rows["transfers"] == 1)
    }

    @Test("level-1 stays unreadable with a level-2 grant; a level-1 request without a level-1 policy is denied")
    func level1Unreadable() async throws {
        let d = try await TransferDeployment()
        let (_, transfer, key) = try await d.grantedTransfer(level: .level2)
        let relayed = try d.queries.transferKeys(redeemLeaf: transfer.redeemLeaf)
        #expect(!relayed.isEmpty)
        #expect(relayed.allSatisfy { $0.level == .level2 })
        // The level-1 blobs are on the ledger, wrapped only to the owner: the requester's key
        // opens none of them.
        let level1 = try d.queries.blobs(lot: TransferDeployment.lot, level: .level1)
        #expect(level1.count == d.classified.count)
        for blob in level1 {
            #expect(throws: Sealing.Error.self) { try blob.wrappedKey.unwrap(with: key) }
        }
        // Asking for level-1: no level-1 entry, so the decision contract denies it.
        let other = try d.enrollRequester(
            AttributeGrant(
                principal: "Firm/li@ZS123", enterprise: "ZS123", role: .processingAdministrator, stage: .processing,
                productCategory: "fresh corn", region: "Beijing"))
        let (row, token) = try d.requestAndMatch(other, level: .level1)
        #expect(row.status == .denied)
        #expect(token == nil)
    }

    @Test("a level-1 grant opens exactly the level-1 values, verified against the level-1 commitments")
    func level1Grant() async throws {
        let d = try await TransferDeployment()
        let (_, transfer, key) = try await d.grantedTransfer(level: .level1)
        #expect(transfer.level == "level-1")
        let fetched = try TransferRequester.fetch(transfer: transfer, key: key, queries: d.queries, blobs: d.blobStore)
        #expect(fetched.count == d.classified.count)
        for item in fetched {
            #expect(item.fields.level == .level1)
            #expect(item.fields == d.classified.first { $0.record.id == item.record.id }?.level1)
        }
        #expect(try d.queries.transferKeys(redeemLeaf: transfer.redeemLeaf).allSatisfy { $0.level == .level1 })
    }

    @Test("a flipped byte in the blob store is detected against the ledger, naming the record")
    func tamperedBlob() async throws {
        let d = try await TransferDeployment()
        let (_, transfer, key) = try await d.grantedTransfer()
        let blob = try #require(try d.queries.blobs(lot: TransferDeployment.lot, level: .level2).first)
        let path = d.blobStore.path(of: blob.blobID)
        var bytes = [UInt8](try #require(FileManager.default.contents(atPath: path)))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try TransferRequester.fetch(transfer: transfer, key: key, queries: d.queries, blobs: d.blobStore)
            Issue.record("a tampered blob was accepted")
        } catch {
            #expect("\(error)".contains("record \(blob.recordID)"))
            #expect("\(error)".contains("altered or swapped"))
        }
    }

    @Test("a tampered or substituted re-wrapped key is detected, naming the record")
    func tamperedKey() async throws {
        let d = try await TransferDeployment()
        let (_, transfer, key) = try await d.grantedTransfer()
        let first = try #require(try d.queries.transferKeys(redeemLeaf: transfer.redeemLeaf).first)
        // 1. A flipped bit in the relayed ciphertext.
        var flipped = first
        flipped.ciphertext[0] ^= 0x80
        try replaceKey(d, transfer.redeemLeaf, flipped)
        #expect(throws: AccessFlowError.self) {
            try TransferRequester.fetch(transfer: transfer, key: key, queries: d.queries, blobs: d.blobStore)
        }
        // 2. A well-formed key for the requester, but of another data key (a relay that swaps keys).
        let substitute = try WrappedDataKey.wrap(
            SymmetricKey(size: .bits256), recordID: first.recordID, level: first.level, for: key.publicKey)
        try replaceKey(d, transfer.redeemLeaf, substitute)
        do {
            _ = try TransferRequester.fetch(transfer: transfer, key: key, queries: d.queries, blobs: d.blobStore)
            Issue.record("a substituted key was accepted")
        } catch {
            #expect("\(error)".contains("record \(first.recordID)"))
        }
        // 3. A value altered in transit: the owner's service re-seals altered values under
        // a fresh key (the blob hash then differs from the ledger's).
        var fields = try #require(d.classified.first { $0.record.id == first.recordID }?.level2)
        fields.entries[0].value = .text("altered")
        let (sealed, dataKey) = try SealedPrivateFields.seal(fields, recordID: first.recordID)
        let blobRow = try #require(try d.queries.blob(record: first.recordID, level: .level2))
        try Data(sealed.blob).write(to: URL(fileURLWithPath: d.blobStore.path(of: blobRow.blobID)))
        try replaceKey(
            d, transfer.redeemLeaf,
            try WrappedDataKey.wrap(dataKey, recordID: first.recordID, level: .level2, for: key.publicKey))
        #expect(throws: AccessFlowError.self) {
            try TransferRequester.fetch(transfer: transfer, key: key, queries: d.queries, blobs: d.blobStore)
        }
    }

    func replaceKey(_ d: TransferDeployment, _ leaf: UInt64, _ key: WrappedDataKey) throws {
        let update = try d.ledger.store.db.prepare(
            "UPDATE transfer_keys SET wrapped = ? WHERE redeem_leaf = ? AND record_id = ? AND level = ?")
        try update.bind(Canonical.encode(key), at: 1)
        try update.bind(Int64(leaf), at: 2)
        try update.bind(Canonical.encode(key.recordID), at: 3)
        try update.bind(key.level.rawValue, at: 4)
        try update.run()
        #expect(d.ledger.store.db.changes == 1)
    }

    @Test("a revoked grant fails to redeem, and the revocation is on the ledger")
    func revokedGrant() async throws {
        let d = try await TransferDeployment()
        let (row, token) = try await d.grantedRequest()
        #expect(row.status == .granted)
        // Only the owner may revoke.
        try d.submit(TransferDeployment.requesterGrant.principal, .revokeGrant(requestID: row.requestID, reason: "x"))
        try d.cut()
        #expect(try d.queries.grants(owner: TransferDeployment.owner).first?.revoked == false)
        try d.submit(TransferDeployment.owner, .revokeGrant(requestID: row.requestID, reason: "contract ended"))
        try d.cut()
        #expect(try d.queries.grants(owner: TransferDeployment.owner).first?.revoked == true)
        let (redemption, _) = try d.redeem(row.requestID, token: try #require(token))
        #expect(redemption.status == .refused)
        #expect(redemption.reason?.hasPrefix("revoked") == true)
        #expect(try d.serveTransfers() == 0)
        let provenance = try d.queries.provenance(lot: TransferDeployment.lot)
        #expect(provenance.map(\.kind) == [.revocation, .redeem])
        #expect(provenance[0].detail == "contract ended")
    }

    @Test("a redemption without the token is refused by the owner; another principal cannot redeem")
    func wrongToken() async throws {
        let d = try await TransferDeployment()
        let (row, _) = try await d.grantedRequest()
        let (redemption, key) = try d.redeem(row.requestID, token: [UInt8](repeating: 7, count: 32))
        #expect(redemption.status == .accepted)
        try d.serveTransfers()
        let transfer = try #require(try d.queries.transfer(redeemLeaf: redemption.leafIndex))
        #expect(transfer.status == .refused)
        #expect(try d.queries.transferKeys(redeemLeaf: redemption.leafIndex).isEmpty)
        #expect(throws: AccessFlowError.self) {
            try TransferRequester.fetch(transfer: transfer, key: key, queries: d.queries, blobs: d.blobStore)
        }
        try d.register("Firm/mallory@EVIL", kind: .firm, enterprise: "EVIL", role: "processing-administrator")
        try d.cut()
        let (stolen, _) = try d.redeem(row.requestID, token: [UInt8](repeating: 7, count: 32), as: "Firm/mallory@EVIL")
        #expect(stolen.status == .refused)
    }

    @Test("uploads are de-duplicated by blob id, and a blob for another device's record is refused")
    func deduplication() async throws {
        let d = try await TransferDeployment()
        try await d.uploadAll()
        try await d.uploadAll()  // fresh seals of the same records: refused (one blob per record and level)
        #expect(try d.queries.blobs(lot: TransferDeployment.lot, level: .level2).count == d.classified.count)
        let item = d.classified[0]
        let upload = try BlobUpload.make(
            try #require(item.level2), record: item.record.id, enterprise: "PLANT1", device: "farm-box",
            owner: d.ownerKey.publicKey, deviceKey: d.box)
        await d.blobService.handle(
            topic: Wire.blobTopic(enterprise: "PLANT1", device: "farm-box"), payload: Canonical.encode(upload))
        await d.blobService.handle(
            topic: Wire.blobTopic(enterprise: "PLANT1", device: "farm-box"), payload: Canonical.encode(upload))
        #expect(await d.blobService.waitingCount == 1)
        // Signed by a key that is not the device's: refused at admission.
        var forged = upload
        forged.reference = try Signed(
            upload.reference.value, domain: .blobReference, key: Curve25519.Signing.PrivateKey())
        #expect(throws: ContractViolation.self) { try d.ledger.admit(blob: forged.reference) }
    }

    @Test("an operator with the aggregator's database files and blob store finds no private value in the clear")
    func operatorScan() async throws {
        let d = try await TransferDeployment()
        let (request, transfer, key) = try await d.grantedTransfer()
        _ = try TransferRequester.fetch(transfer: transfer, key: key, queries: d.queries, blobs: d.blobStore)
        try d.submit(
            TransferDeployment.requesterGrant.principal,
            .recordRead(
                ReadRecord(
                    requestID: request.requestID, transferLeaf: transfer.leafIndex, recordCount: 3, fields: [],
                    outcome: "verified", detail: "")))
        try d.cut()
        var files = [d.storePath, d.storePath + "-wal", d.storePath + "-shm"].filter {
            FileManager.default.fileExists(atPath: $0)
        }
        let enumerator = FileManager.default.enumerator(atPath: d.blobStore.directory)
        while let name = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let path = d.blobStore.directory + "/" + name
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(path)
            }
        }
        #expect(files.count >= 1 + 2 * d.classified.count)
        var scanned = 0
        for file in files {
            let bytes = [UInt8](try #require(FileManager.default.contents(atPath: file)))
            scanned += bytes.count
            for secret in d.plaintexts {
                #expect(!contains(bytes, Array(secret.utf8)), "\(secret) found in \(file)")
            }
        }
        #expect(scanned > 0)
        #expect(d.plaintexts.count == 2 * d.classified.count)
    }

    func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count, let first = needle.first else { return false }
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == first && Array(haystack[index..<index + needle.count]) == needle { return true }
            index += 1
        }
        return false
    }
}
