import AgriTraceCore

/// The record-upload contract at block time. Its rules are admission's (``Admission``: the
/// device registered and active, the record id derived from the device and sequence, the
/// stage); once admitted, a record always lands. What the block changes besides the record's
/// rows is each device's sequence watermark: the highest record sequence on the ledger.
public enum RecordUpload {
    /// A device's new sequence watermark.
    public struct Watermark: Sendable, Hashable {
        public var device: RegistryState.DeviceKey
        public var sequence: UInt64
    }

    /// The highest sequence of `records` per device, in (enterprise, device) order: what the
    /// store raises each device's watermark to (never lowers it). Applying it once per block or
    /// once per record gives the same state.
    public static func watermarks(_ records: [Record]) -> [Watermark] {
        var highest: [RegistryState.DeviceKey: UInt64] = [:]
        // A batch is one device's records: hash the key once per run of one device, not per record.
        var run: Watermark?
        for record in records {
            if let current = run, current.device.device == record.device, current.device.enterprise == record.enterprise
            {
                run?.sequence = max(current.sequence, record.sequence)
                continue
            }
            if let finished = run { highest[finished.device] = max(highest[finished.device] ?? 0, finished.sequence) }
            run = Watermark(
                device: RegistryState.DeviceKey(enterprise: record.enterprise, device: record.device),
                sequence: record.sequence)
        }
        if let finished = run { highest[finished.device] = max(highest[finished.device] ?? 0, finished.sequence) }
        return highest.sorted { ($0.key.enterprise, $0.key.device) < ($1.key.enterprise, $1.key.device) }.map {
            Watermark(device: $0.key, sequence: $0.value)
        }
    }
}
