import AgriTraceCore

/// The window of plausible reading times: a time before 2000 or from 2100 on (`1970-01-01`,
/// epoch ms `0` or `-1`, `2200-01-01`) is a broken or unset sensor clock, refused with the
/// field named (docs/reading-format.md). The box's own clock is judged differently: a record
/// is flagged `clockTrusted = false` when the box's clock is before its enrollment date.
enum ReadingTimeWindow {
    /// 2000-01-01T00:00:00Z, inclusive.
    static let earliestMilliseconds: Int64 = 946_684_800_000
    /// 2100-01-01T00:00:00Z, exclusive.
    static let endMilliseconds: Int64 = 4_102_444_800_000
    /// The fix of every refused time.
    static let fix =
        "give a time from 2000-01-01T00:00:00Z to before 2100-01-01T00:00:00Z, as RFC 3339 text or whole epoch milliseconds; a time outside that window is a broken or unset clock: set the sensor's clock"

    /// Whether `time` is in the window.
    static func contains(_ time: Timestamp) -> Bool {
        time.milliseconds >= earliestMilliseconds && time.milliseconds < endMilliseconds
    }

    /// Refuses `reading` when its time, a field of kind time, or a sample's or position's
    /// time is outside the window, naming that field (`time`, `fields.sowing_time`,
    /// `fields.temperature_humidity[2].time`).
    static func check(_ reading: Reading) throws(ReadingError) {
        try check(reading.time, field: "time", stage: reading.stage)
        for key in reading.fields.keys.sorted() {
            let name = "fields." + (key.split(separator: ".", maxSplits: 1).last.map(String.init) ?? key)
            switch reading.fields[key]! {
            case .time(let time):
                try check(time, field: name, stage: reading.stage)
            case .series(let samples):
                for (index, sample) in samples.enumerated() {
                    try check(sample.time, field: "\(name)[\(index)].time", stage: reading.stage)
                }
            case .track(let fixes):
                for (index, fix) in fixes.enumerated() {
                    try check(fix.time, field: "\(name)[\(index)].time", stage: reading.stage)
                }
            case .text, .number, .bool:
                continue
            }
        }
    }

    static func check(_ time: Timestamp, field: String, stage: Stage) throws(ReadingError) {
        guard !contains(time) else { return }
        throw ReadingError(
            kind: .invalidValue, field: field, stage: stage.rawValue,
            reason: "\(time.iso8601) is outside the window of reading times (2000-01-01 to 2100-01-01)", fix: fix)
    }

    /// The shared parser calls a time given as a fraction or a huge number "wrong-type: time
    /// is a number"; the number is the right type, so this names the real problem instead.
    static func clarified(_ error: ReadingError) -> ReadingError {
        guard error.kind == .wrongType, let field = error.field, error.reason == "\(field) is a number",
            field == "time" || field.hasSuffix(".time") || field.hasSuffix("_time")
        else { return error }
        var clarified = error
        clarified.kind = .invalidValue
        clarified.reason = "\(field) is not a whole number of epoch milliseconds in the window"
        clarified.fix = fix
        return clarified
    }
}
