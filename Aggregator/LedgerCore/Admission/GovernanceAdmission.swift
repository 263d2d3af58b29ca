import AgriTraceCore

extension AccessAdmission {
    /// Why a governance operation (docs/governance.md: `correctRecord`) is malformed, or nil.
    /// The reason names the field and the fix.
    static func governanceMalformation(_ operation: AccessTransaction.Operation) -> String? {
        switch operation {
        case .correctRecord(let correction):
            guard correction.superseded != correction.correction else {
                return
                    "correction: record \(correction.superseded) cannot supersede itself; name the new record with --by"
            }
            guard isValidName(correction.reason, maximum: 512) else {
                return "reason: give 1-512 printable bytes saying why the record is corrected (--reason)"
            }
        case .countersignTransfer(let countersignature):
            guard isValidID(countersignature.requestID) else {
                return "requestID: give the request id (32 lower-case hex characters)"
            }
        case .publishDirectoryEntry(let entry):
            return directoryMalformation(entry)
        default: break
        }
        return nil
    }

    /// Why a directory entry's fields are malformed, or nil: the message names the field (as
    /// the CLI option) and the rule.
    public static func directoryMalformation(_ entry: DirectoryEntry) -> String? {
        if case .dataset(let lot, _) = entry.resource, !isValidName(lot) { return "--lot: give 1-128 printable bytes" }
        let texts: [(String, String, Int)] = [
            ("--name", entry.name, 128), ("--overview", entry.overview, 1024), ("--producer", entry.producer, 128),
            ("--product", entry.product, 128), ("--media-type", entry.mediaType, 128), ("--format", entry.format, 128),
            ("--held-by", entry.heldBy, 256),
        ]
        for (option, text, maximum) in texts where !isValidName(text, maximum: maximum) {
            return "\(option): give 1-\(maximum) printable bytes"
        }
        guard entry.mediaType.contains("/") else {
            return "--media-type: \(entry.mediaType) is not a media type (type/subtype, e.g. application/json)"
        }
        guard (1...36600).contains(entry.retentionDays) else {
            return "--retention-days: \(entry.retentionDays) is out of range: give 1 to 36600 days"
        }
        return nil
    }
}
