import Ledger
import Testing

@testable import AgriTraceCore

/// The pure contracts of LedgerCore, each over a memory view: their outcomes and the exact
/// refusal and audit texts the ledger records.
@Suite struct PureContractTests {
    static let owner = "Firm/owner@PLANT1"
    static let lot = "20240203A001"
    static let grant = AttributeGrant(
        principal: "Firm/zhang@ZS123", enterprise: "ZS123", role: .processingAdministrator, stage: .processing,
        productCategory: "fresh corn", region: "Beijing")

    static func entry(_ dataID: String, lot: String = lot) -> EncryptedDataEntry {
        EncryptedDataEntry(
            dataID: dataID, lot: lot, level: .level2, window: nil, actions: [.read], searchableCiphertext: [1, 2, 3],
            tokenDigest: .zero)
    }

    @Test func parametersReadNoStateAndDescribeTheRules() {
        let parameters = AccessParameters(
            searchable: [1], tokenEncryption: [2], trapdoorKey: [3], maximumStrikes: 3, blockMilliseconds: 120_000,
            trapdoorsPerMinute: 4)
        let outcome = ParameterPublication.apply(parameters, submitter: "Regulator/a@AGENCY")
        #expect(outcome.regulator == "Regulator/a@AGENCY" && outcome.parameters == parameters)
        #expect(
            outcome.event
                == ContractEvent(
                    subject: "parameters", outcome: .applied, detail: "3 strikes, 120 s blocks, 4 trapdoors/min"))
    }

    @Test func attributesAreRevokedOnlyWhileActive() throws {
        var state = MemoryContractState()
        let refused = try AttributeGrants.revoke(principal: Self.grant.principal, reason: "left", view: state)
        #expect(refused.change == nil)
        #expect(
            refused.event
                == ContractEvent(subject: Self.grant.principal, outcome: .refused, detail: "no active attribute grant"))
        let granted = state.fold(AttributeGrants.grant(Self.grant), leaf: 4)
        #expect(granted.detail == "ZS123, processing-administrator, processing, fresh corn, region Beijing")
        #expect(state.grants[Self.grant.principal] == .init(grant: Self.grant, status: .active, leaf: 4))
        let revoked = try AttributeGrants.revoke(principal: Self.grant.principal, reason: "left", view: state)
        #expect(revoked.change == .revoke(principal: Self.grant.principal))
        #expect(
            state.fold(revoked, leaf: 9)
                == ContractEvent(subject: Self.grant.principal, outcome: .applied, detail: "left"))
        #expect(state.grants[Self.grant.principal]?.status == .revoked && state.grants[Self.grant.principal]?.leaf == 9)
        let again = try AttributeGrants.revoke(principal: Self.grant.principal, reason: "twice", view: state)
        #expect(again.change == nil && again.event.outcome == .refused)
    }

    @Test func onlyALotsOwnerProtectsItOnceAndRevokesIt() throws {
        var state = MemoryContractState(enterprises: [Self.owner: "PLANT1", "Firm/li@ZS123": "ZS123"])
        let id = String(repeating: "a", count: 32)
        let noRecord = try PolicyUpload.protect(Self.entry(id), submitter: Self.owner, view: state)
        #expect(noRecord.change == nil)
        #expect(
            noRecord.event.detail
                == "lot \(Self.lot) has no record of enterprise PLANT1 on the ledger: only its owner may protect it")
        state.recordedLots.insert([Self.lot, "PLANT1"])
        let other = try PolicyUpload.protect(Self.entry(id), submitter: "Firm/li@ZS123", view: state)
        #expect(other.event.outcome == .refused && other.event.detail.contains("enterprise ZS123"))
        let applied = try PolicyUpload.protect(Self.entry(id), submitter: Self.owner, view: state)
        #expect(
            state.fold(applied, leaf: 7)
                == ContractEvent(subject: id, outcome: .applied, detail: "lot \(Self.lot) level-2"))
        let protected = try #require(state.entries[id]?.entry)
        #expect(protected.entry == Self.entry(id) && protected.owner == Self.owner && protected.enterprise == "PLANT1")
        let duplicate = try PolicyUpload.protect(Self.entry(id), submitter: Self.owner, view: state)
        #expect(duplicate.change == nil && duplicate.event.detail == "data id \(id) is already used")
        let stranger = try PolicyUpload.revoke(dataID: id, reason: "r", submitter: "Firm/li@ZS123", view: state)
        #expect(stranger.change == nil && stranger.event.detail == "no active entry \(id) of Firm/li@ZS123")
        let revoked = try PolicyUpload.revoke(dataID: id, reason: "expired", submitter: Self.owner, view: state)
        #expect(state.fold(revoked, leaf: 8) == ContractEvent(subject: id, outcome: .applied, detail: "expired"))
        #expect(state.entries[id]?.status == .revoked && state.entries[id]?.leaf == 7)
        let twice = try PolicyUpload.revoke(dataID: id, reason: "expired", submitter: Self.owner, view: state)
        #expect(twice.change == nil && twice.event.outcome == .refused)
    }

    @Test func aTrapdoorWithAUsedRequestIDIsRefusedBeforeTheDecision() throws {
        struct State: TrapdoorStateView {
            var used: Set<String>
            func rules() -> AccessRules { AccessRules(maximumStrikes: 3) }
            func blacklistEntry(_ source: String) -> Blacklist.Entry? { nil }
            func hasActiveAttributes(_ principal: String) -> Bool { true }
            func requestCount(by requester: String, after time: Timestamp) -> Int64 { 0 }
            func activeEntries(lot: String, level: ABAC.Sensitivity) -> [EntryTerms] { [] }
            func credit(ofEnterpriseOf principal: String) -> Int64? { nil }
            func requestExists(_ requestID: String) -> Bool { used.contains(requestID) }
        }
        let id = String(repeating: "f", count: 32)
        let request = TrapdoorRequest(
            requestID: id, lot: Self.lot, level: .level2, action: .read, source: "10.0.0.7",
            sealedTrapdoor: SealedMessage(encapsulatedKey: [], ciphertext: []))
        let time = Timestamp(milliseconds: 1_772_413_200_000)
        let used = try Decision.submit(request, requester: Self.grant.principal, at: time, view: State(used: [id]))
        #expect(used.change == nil)
        #expect(used.event == ContractEvent(subject: id, outcome: .refused, detail: "request id \(id) is already used"))
        let denied = try Decision.submit(request, requester: Self.grant.principal, at: time, view: State(used: []))
        let decision = try #require(denied.change)
        // No policy published yet: a distinct answer, and nothing counted against the requester.
        #expect(decision.status == .denied && decision.strikes.isEmpty)
        #expect(denied.event.outcome == .denied && denied.event.detail == decision.reason)
        #expect(
            decision.reason
                == "no-data: lot \(Self.lot) has no active level-2 entry; the owner has published no policy for it yet, so nothing is counted against the requester: ask again later"
        )
    }

    @Test func aBlockRaisesEachDevicesWatermarkToItsHighestSequence() {
        func records(_ device: String, _ sequences: [UInt64]) -> [Record] {
            let classifier = Classifier(
                identity: DeviceIdentity(enterprise: "PLANT1", device: device, enrolledAt: Timestamp(milliseconds: 0)))
            let reading = Reading(
                stage: .planting, lot: Self.lot, product: "fresh corn",
                time: Timestamp(milliseconds: 1_770_000_000_000),
                inputLots: [], fields: ["planting.variety": .text("sweet corn")])
            return sequences.map {
                classifier.classify(reading, sequence: $0, bootID: "boot", recordedAt: reading.time).record
            }
        }
        let block = records("truck", [3, 1]) + records("farm-box", [2, 7, 4]) + records("truck", [2])
        let watermarks = RecordUpload.watermarks(block)
        #expect(watermarks.map(\.device.device) == ["farm-box", "truck"])
        #expect(watermarks.map(\.sequence) == [7, 3])
        #expect(RecordUpload.watermarks([]).isEmpty)
    }

    @Test func punishmentByHandRecordsTheReasonAndTheStrike() throws {
        struct Rules: PunishmentStateView {
            func rules() -> AccessRules { AccessRules(maximumStrikes: 2, blockMilliseconds: 60_000) }
            func blacklistEntry(_ source: String) -> Blacklist.Entry? { nil }
        }
        let time = Timestamp(milliseconds: 1_772_413_200_000)
        let punished = try Punishment.addToBlacklist(source: "10.0.0.1", reason: "abuse", at: time, view: Rules())
        #expect(punished.strike.entry?.strikes == 1)
        #expect(punished.event.outcome == .applied && punished.event.subject == "10.0.0.1")
        #expect(punished.event.detail == "abuse; " + punished.strike.detail)
        #expect(punished.strike.detail.hasPrefix("strike 1 of 2: source 10.0.0.1 blocked until "))
    }
}

/// The transfer contracts of LedgerCore over a memory view.
@Suite struct PureTransferContractTests {
    static let requestID = String(repeating: "b", count: 32)
    static let facts = RequestFacts(
        requester: "Firm/zhang@ZS123", lot: "L1", level: "level-2", source: "10.0.0.7", status: .granted,
        owner: "Firm/owner@PLANT1", revoked: false)

    static func report(status: TransferStatus = .delivered, receiver: String = "Firm/zhang@ZS123") -> TransferRecord {
        TransferRecord(
            requestID: requestID, redeemLeaf: 12, receiver: receiver, lot: "L1", level: .level2, recordCount: 3,
            blobDigest: .zero, source: "elsewhere", status: status, purpose: "audit")
    }

    static func redeemed() -> MemoryContractState {
        MemoryContractState(
            requests: [requestID: facts],
            redemptions: [
                12: RedemptionFacts(
                    requestID: requestID, requester: facts.requester, owner: facts.owner, outcome: .accepted)
            ])
    }

    @Test func aTransferAnswersOneAcceptedRedemptionOfItsOwner() throws {
        var state = MemoryContractState()
        let none = try TransferReport.apply(Self.report(), submitter: "Firm/owner@PLANT1", view: state)
        #expect(none.event.detail == "no redemption at leaf 12 for request \(Self.requestID)")
        #expect(none.entry.outcome == .refused && none.entry.reason == none.event.detail)
        #expect(none.entry.source == "elsewhere")
        state = Self.redeemed()
        let stranger = try TransferReport.apply(Self.report(), submitter: "Firm/li@ZS123", view: state)
        #expect(stranger.event.detail == "only the entry's owner Firm/owner@PLANT1 may transfer, not Firm/li@ZS123")
        let wrong = try TransferReport.apply(
            Self.report(receiver: "Firm/x@Y"), submitter: "Firm/owner@PLANT1", view: state)
        #expect(wrong.event.detail == "the receiver, lot or level differ from the request")
        let applied = try TransferReport.apply(Self.report(), submitter: "Firm/owner@PLANT1", view: state)
        #expect(applied.event.outcome == .applied && applied.entry.source == "10.0.0.7")
        #expect(
            state.fold(applied, leaf: 13).detail == "delivered: 3 records of L1 level-2 to Firm/zhang@ZS123 for audit")
        let second = try TransferReport.apply(Self.report(), submitter: "Firm/owner@PLANT1", view: state)
        #expect(second.event.detail == "redemption 12 already has a transfer")
    }

    @Test func aRevokedGrantIsNotDeliveredButMayBeRefused() throws {
        var state = Self.redeemed()
        state.requests[Self.requestID]?.revoked = true
        let delivered = try TransferReport.apply(Self.report(), submitter: "Firm/owner@PLANT1", view: state)
        #expect(delivered.event.detail == "revoked: the grant of request \(Self.requestID) was revoked")
        let refused = try TransferReport.apply(
            Self.report(status: .refused), submitter: "Firm/owner@PLANT1", view: state)
        #expect(refused.event.outcome == .applied)
    }

    @Test func onlyTheReceiverRecordsAReadOfAnAppliedTransfer() throws {
        var state = Self.redeemed()
        let read = ReadRecord(
            requestID: Self.requestID, transferLeaf: 13, recordCount: 3, fields: ["a", "b"], outcome: "verified",
            detail: "ok")
        let early = try ReadReport.apply(read, submitter: "Firm/zhang@ZS123", view: state)
        #expect(early.change == nil && early.event.detail == "no transfer at leaf 13 to Firm/zhang@ZS123")
        _ = state.fold(try TransferReport.apply(Self.report(), submitter: "Firm/owner@PLANT1", view: state), leaf: 13)
        let other = try ReadReport.apply(read, submitter: "Firm/li@ZS123", view: state)
        #expect(other.change == nil && other.event.outcome == .refused)
        let applied = try ReadReport.apply(read, submitter: "Firm/zhang@ZS123", view: state)
        let entry = try #require(applied.change)
        #expect(
            entry.report == read && entry.reader == "Firm/zhang@ZS123" && entry.lot == "L1" && entry.level == "level-2")
        #expect(
            applied.event
                == ContractEvent(
                    subject: Self.requestID, outcome: .applied, detail: "verified: 3 records of L1 level-2"))
    }

    @Test func aBlobIsStoredOnceForItsOwnRecord() throws {
        let record = RecordID.derive(enterprise: "PLANT1", device: "farm-box", sequence: 1)
        func reference(_ id: Digest32, device: String = "farm-box") -> BlobReference {
            BlobReference(
                enterprise: "PLANT1", device: device, recordID: record, level: .level2, blobID: id, size: 10,
                ownerKey: [1],
                wrappedKey: WrappedDataKey(recordID: record, level: .level2, encapsulatedKey: [], ciphertext: []),
                sealedAt: Timestamp(milliseconds: 0))
        }
        let first = Digest32.sha256([1]), second = Digest32.sha256([2])
        var state = MemoryContractState()
        #expect(
            try BlobReferences.apply(reference(first), view: state).reason == "record \(record) is not on the ledger")
        state.records[record] = .init(enterprise: "PLANT1", device: "farm-box")
        let stranger = try BlobReferences.apply(reference(first, device: "truck"), view: state)
        #expect(stranger.status == .refused && stranger.reason == "record \(record) belongs to another device")
        let stored = try BlobReferences.apply(reference(first), view: state)
        #expect(stored.status == .stored && stored.reason == nil)
        state.blobs[5] = stored
        #expect(
            try BlobReferences.apply(reference(first), view: state).reason
                == "duplicate: blob \(first) is already stored")
        #expect(
            try BlobReferences.apply(reference(second), view: state).reason
                == "record \(record) already has a level-2 blob")
    }
}
