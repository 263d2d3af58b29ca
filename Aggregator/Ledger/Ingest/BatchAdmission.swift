import AgriTraceCore
import LedgerCore

// Admission of a device's record batch into the pending block: the batch-level checks
// (payload, topic, registry, signature), then each record's (its device, its id, the
// admission rules), then duplicates (pending, being written, on the ledger). Hot path: one
// call per MQTT message; measured with `bench-aggregator` (BENCHMARKS.md).

extension PendingAnswer {
    /// Adds a refusal to the answer.
    mutating func refuse(_ code: RefusalCode, _ reason: String, record: RecordID? = nil) {
        rejections.append(Rejection(recordID: record, code: code.rawValue, reason: reason))
    }
}

extension Ledger {
    /// What became of one record of a batch.
    enum RecordAdmission {
        /// Refused: the code and the reason go into the answer.
        case refused(RefusalCode, String)
        /// A duplicate whose receipt is answered (now, or when its block is written).
        case duplicate
        /// Added to the pending block.
        case admitted
    }

    /// Admits a batch checked by ``check(topic:payload:keys:)``; see ``admit(topic:payload:)``.
    public func admit(_ checked: CheckedBatch) -> PendingAnswer? {
        count("batches-received")
        guard let sender = checked.sender else {
            count("rejected.bad-topic")
            return nil  // nowhere to answer
        }
        var answer = PendingAnswer(topic: Wire.receiptTopic(enterprise: sender.enterprise, device: sender.device))
        let batch: BatchPayload
        switch admissibleBatch(checked, from: sender) {
        case .success(let admissible): batch = admissible
        case .failure(let refusal):
            count("rejected.\(refusal.code.rawValue)")
            answer.refuse(refusal.code, refusal.reason)
            return answer
        }
        let pendingCountBefore = pending.count
        var underived = checked.underivedIDs.makeIterator()
        var nextUnderived = underived.next()
        for (position, record) in batch.records.enumerated() {
            let idUnderived = position == nextUnderived
            if idUnderived { nextUnderived = underived.next() }
            switch admitRecord(record, at: position, of: checked, from: sender, idUnderived: idUnderived, into: &answer)
            {
            case .refused(let code, let reason):
                count("rejected.\(code.rawValue)")
                answer.refuse(code, reason, record: record.id)
            case .duplicate: count("duplicates")
            case .admitted: break
            }
        }
        count("records-received", batch.records.count)
        if !answer.isReady { pendingAnswers.append(answer) }
        // Keep the device's signature with the block that holds the batch's new records;
        // a batch with refused records cannot be rebuilt from the log, so it is not kept.
        if answer.rejections.isEmpty && pending.count > pendingCountBefore {
            pendingSignatures.append(
                BatchSignature(
                    enterprise: sender.enterprise, device: sender.device, sentAt: batch.sentAt,
                    signature: batch.signature, recordIDs: batch.records.map(\.id)))
        }
        return answer
    }

    /// A refusal of a whole batch.
    struct BatchRefusal: Error {
        var code: RefusalCode
        var reason: String
    }

    /// The batch if it decodes, was published on its own device's topic, and that device is
    /// registered, active and signed it; otherwise why not.
    func admissibleBatch(_ checked: CheckedBatch, from sender: RegistryState.DeviceKey) -> Result<
        BatchPayload, BatchRefusal
    > {
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
            deviceKeys[sender] = registered.publicKey
        }
        return .success(batch)
    }

    /// Admits record `position` of an admissible batch: refused, a duplicate answered from
    /// where it is, or added to the pending block.
    func admitRecord(
        _ record: Record, at position: Int, of checked: CheckedBatch, from sender: RegistryState.DeviceKey,
        idUnderived: Bool, into answer: inout PendingAnswer
    ) -> RecordAdmission {
        guard record.enterprise == sender.enterprise, record.device == sender.device else {
            return .refused(
                .recordMismatch,
                "record \(record.id) names \(record.enterprise)/\(record.device), not the batch's device")
        }
        if idUnderived {
            return .refused(.badRecordID, "record id \(record.id) is not the id of sequence \(record.sequence)")
        }
        let entry = LogEntry.record(record)
        if let violation = Admission.check(entry, registry: registry, authority: authorityKey, idChecked: true) {
            return .refused(violation.code, violation.reason)
        }
        let leafHash = checked.leafHashes[position]
        if let known = knownRecord(record, leafHash: leafHash, device: sender, into: &answer) { return known }
        pendingRecords[record.id] = pending.count
        answer.waiting.append(pending.count)
        appendPending(
            PendingTransaction(entry: entry, bytes: checked.entries[position], leafHash: leafHash, recordID: record.id))
        return .admitted
    }

    /// A record id already pending, being written or on the ledger: its receipt (now or with
    /// its block) if the content is the same, a refusal if not; nil for a new record. Below
    /// the device's sequence watermark only, the ledger is looked up.
    func knownRecord(
        _ record: Record, leafHash: Digest32, device: RegistryState.DeviceKey, into answer: inout PendingAnswer
    ) -> RecordAdmission? {
        if let index = pendingRecords[record.id] {
            guard pending[index].leafHash == leafHash else {
                return .refused(.conflictingDuplicate, "record id \(record.id) is already pending with other content")
            }
            answer.waiting.append(index)
            return .duplicate
        }
        if let index = inFlightRecords[record.id] {
            guard inFlightLeafHashes[index] == leafHash else {
                return .refused(.conflictingDuplicate, "record id \(record.id) is being written with other content")
            }
            answer.waitingInFlight.append(index)
            return .duplicate
        }
        if record.sequence > sequenceWatermarks[device] ?? 0 {
            sequenceWatermarks[device] = record.sequence
            return nil
        }
        do {
            guard let location = try reader.location(of: record.id) else { return nil }
            guard let stored = try reader.entry(leafIndex: location.leafIndex), stored.leafHash == leafHash else {
                return .refused(.conflictingDuplicate, "record id \(record.id) is on the ledger with other content")
            }
            answer.receipts.append(try receipt(for: record.id, at: location))
            return .duplicate
        } catch {
            return .refused(.internal, "the ledger could not look up record \(record.id): \(error); resend later")
        }
    }
}
