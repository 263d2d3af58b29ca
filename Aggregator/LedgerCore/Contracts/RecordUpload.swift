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
    public static func watermarks(_ records: some Sequence<Record>) -> [Watermark] {
        var highest: [RegistryState.DeviceKey: UInt64] = [:]
        for record in records {
            let key = RegistryState.DeviceKey(enterprise: record.enterprise, device: record.device)
            highest[key] = max(highest[key] ?? 0, record.sequence)
        }
        return highest.sorted { ($0.key.enterprise, $0.key.device) < ($1.key.enterprise, $1.key.device) }.map {
            Watermark(device: $0.key, sequence: $0.value)
        }
    }
}
