import AgriTraceCore
import SQLiteStorage

/// How an effective period (``EffectivePeriod``) is stored: two nullable columns of
/// milliseconds (`not_before`, `not_after`); both NULL is no period.
enum PeriodColumns {
    /// The two values to bind for `period`.
    static func values(_ period: EffectivePeriod?) -> [SQLiteValue] {
        [value(period?.notBefore), value(period?.notAfter)]
    }

    static func value(_ time: Timestamp?) -> SQLiteValue {
        guard let time else { return .null }
        return .integer(time.milliseconds)
    }
}

extension Statement {
    /// The period stored in columns `index` and `index + 1`, or nil when both are NULL.
    func period(at index: Int32) -> EffectivePeriod? {
        let notBefore = isNull(at: index) ? nil : Timestamp(milliseconds: int64(at: index))
        let notAfter = isNull(at: index + 1) ? nil : Timestamp(milliseconds: int64(at: index + 1))
        guard notBefore != nil || notAfter != nil else { return nil }
        return EffectivePeriod(notBefore: notBefore, notAfter: notAfter)
    }
}
