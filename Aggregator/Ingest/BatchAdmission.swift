import AgriTraceCore
import Ledger

// Admission of a device's record batch into the pending block: the batch-level checks
// (payload, topic, registry, signature), then each record's (its device, its id), then the
// ledger's (``Ledger/appendRecord(_:entry:leafHash:from:into:)``: the admission rules, then a
// duplicate pending, being written or on the ledger, or a new record). Hot path: one call per
// MQTT message; measured with `bench-aggregator` (BENCHMARKS.md).

extension PendingAnswer {
    /// Adds a refusal to the answer.
    mutating func refuse(_ code: RejectionCode, _ reason: String, record: RecordID? = nil) {
        rejections.append(Rejection(recordID: record, code: code, reason: reason))
    }
}

/// A refusal of a whole batch.
struct BatchRefusal: Error {
    var code: RejectionCode
    var reason: String
}

extension Ledger {
    /// Admits one MQTT message from a device's record topic.
    ///
    /// Checks, in order: the payload decodes as a `Signed<RecordBatch>`; the topic names the
    /// batch's enterprise and device; the device is registered and active; the batch
    /// signature verifies under its key; then per record: it belongs to the device, its id
    /// is derived from its sequence, and a record id already on the ledger with the same
    /// content gets its original receipt again (with other content it is refused).
    /// - Returns: the answer; if ``PendingAnswer/isReady`` it can be published at once,
    ///   otherwise it is completed by a later ``Ledger/cutBlock(now:)``.
    public func admit(topic: String, payload: [UInt8]) -> PendingAnswer? {
        let keys = DeviceKeys()
        return admit(CheckedBatch(topic: topic, payload: payload, keys: keys), keys: keys)
    }

    /// Admits a batch checked by ``CheckedBatch/init(topic:payload:keys:)``; see
    /// ``admit(topic:payload:)``. A signature checked here (not under the key in `keys`)
    /// leaves the device's registered key in `keys` for the next batches.
    public func admit(_ checked: CheckedBatch, keys: DeviceKeys) -> PendingAnswer? {
        count("batches-received")
        guard let sender = checked.sender else {
            count("rejected.bad-topic")
            return nil  // nowhere to answer
        }
        var answer = PendingAnswer(topic: Wire.receiptTopic(enterprise: sender.enterprise, device: sender.device))
        let batch: BatchPayload
        switch admissibleBatch(checked, from: sender, keys: keys) {
        case .success(let admissible): batch = admissible
        case .failure(let refusal):
            count("rejected.\(refusal.code.rawValue)")
            answer.refuse(refusal.code, refusal.reason)
            return answer
        }
        let pendingCountBefore = pendingCount
        admitRecords(of: batch, checked, from: sender, into: &answer)
        count("records-received", batch.records.count)
        holdUntilCommitted(answer)
        // Keep the device's signature with the block that holds the batch's new records;
        // a batch with refused records cannot be rebuilt from the log, so it is not kept.
        if answer.rejections.isEmpty && pendingCount > pendingCountBefore {
            keepBatchSignature(
                BatchSignature(
                    enterprise: sender.enterprise, device: sender.device, sentAt: batch.sentAt,
                    signature: batch.signature, recordIDs: batch.records.map(\.id)))
        }
        return answer
    }

    /// Admits each record of an admissible batch in order: refused (counted, in the answer), a
    /// duplicate answered from where it is, or added to the pending block.
    func admitRecords(
        of batch: BatchPayload, _ checked: CheckedBatch, from sender: RegistryState.DeviceKey,
        into answer: inout PendingAnswer
    ) {
        var underived = checked.underivedIDs.makeIterator()
        var nextUnderived = underived.next()
        for (position, record) in batch.records.enumerated() {
            let idUnderived = position == nextUnderived
            if idUnderived { nextUnderived = underived.next() }
            let admission: RecordAdmission
            if let refusal = Self.refusal(of: record, from: sender, idUnderived: idUnderived) {
                admission = refusal
            } else {
                admission = appendRecord(
                    record, entry: checked.entries[position], leafHash: checked.leafHashes[position], from: sender,
                    into: &answer)
            }
            switch admission {
            case .refused(let code, let reason):
                count("rejected.\(code.rawValue)")
                answer.refuse(code, reason, record: record.id)
            case .duplicate: count("duplicates")
            case .admitted: break
            }
        }
    }

    /// The refusal of a record that is not the batch's device's, or whose id is not derived
    /// from its sequence; nil if neither.
    static func refusal(of record: Record, from sender: RegistryState.DeviceKey, idUnderived: Bool)
        -> RecordAdmission?
    {
        guard record.enterprise == sender.enterprise, record.device == sender.device else {
            return .refused(
                .recordMismatch,
                "record \(record.id) names \(record.enterprise)/\(record.device), not the batch's device")
        }
        if idUnderived {
            return .refused(.badRecordID, "record id \(record.id) is not the id of sequence \(record.sequence)")
        }
        return nil
    }

    /// The batch if it decodes, was published on its own device's topic, and that device is
    /// registered, active and signed it; otherwise why not.
    func admissibleBatch(_ checked: CheckedBatch, from sender: RegistryState.DeviceKey, keys: DeviceKeys)
        -> Result<BatchPayload, BatchRefusal>
    {
        let (enterprise, device) = (sender.enterprise, sender.device)
        let batch: BatchPayload
        switch checked.batch {
        case .success(let decoded): batch = decoded
        case .failure(let error):
            return .failure(
                BatchRefusal(
                    code: .malformed,
                    reason:
                        "the payload is not a canonical signed record batch (\(error)); publish Signed<RecordBatch> canonical bytes"
                ))
        }
        guard batch.enterprise == enterprise, batch.device == device else {
            return .failure(
                BatchRefusal(
                    code: .topicMismatch,
                    reason:
                        "the batch is from \(batch.enterprise)/\(batch.device) but was published on \(checked.topic)"
                ))
        }
        guard let registered = registry.device(enterprise: enterprise, device: device) else {
            return .failure(
                BatchRefusal(
                    code: .unknownDevice,
                    reason: "device \(enterprise)/\(device) is not registered; register it with `agritrace devices add`"
                ))
        }
        guard registered.status == .active else {
            return .failure(BatchRefusal(code: .revokedDevice, reason: "device \(enterprise)/\(device) is revoked"))
        }
        // Checked off this thread under the key registered now, or checked here.
        if checked.verifiedKey?.rawRepresentation != registered.publicKey.rawRepresentation {
            guard batch.isValid(key: registered.publicKey) else {
                return .failure(
                    BatchRefusal(
                        code: .badSignature,
                        reason:
                            "the batch signature does not verify under the registered key of \(enterprise)/\(device)"))
            }
            keys[sender] = registered.publicKey
        }
        return .success(batch)
    }
}
