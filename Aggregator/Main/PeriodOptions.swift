import AgriTraceCore
import ArgumentParser
import LedgerClient

/// `--not-before` / `--not-after`: the effective period of a policy or an attribute grant
/// (docs/governance.md), each an RFC 3339 time or a duration from now.
struct PeriodOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "In effect from this time: RFC 3339 (2027-01-31T00:00:00Z) or a duration from now (90s, 30m, 12h, 7d).")
    var notBefore: String?
    @Option(
        name: .long,
        help: "In effect until this time (expired from then on): RFC 3339 or a duration from now (e.g. 30d).")
    var notAfter: String?

    /// The period, checked before anything is signed; nil when neither option is given.
    func period(now: Timestamp = .now()) throws -> EffectivePeriod? {
        do throws(EffectivePeriod.InputError) {
            return try EffectivePeriod.parse(notBefore: notBefore, notAfter: notAfter, now: now)
        } catch {
            throw UserError(error.description)
        }
    }
}
