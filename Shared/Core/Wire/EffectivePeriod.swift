/// The absolute period an authority tuple (a policy, an attribute grant, a grant) is in
/// effect, besides its daily window: from `notBefore` (inclusive) to `notAfter` (exclusive),
/// either end open when nil. The contracts compare it with the block time only, so a thing
/// that expires at T is refused at the first block whose time is T or later (docs/governance.md).
public struct EffectivePeriod: Hashable, Sendable, CanonicalCodable, Codable {
    /// The first instant the tuple is in effect; nil for "from the start".
    public var notBefore: Timestamp?
    /// The first instant the tuple is no longer in effect; nil for "for ever".
    public var notAfter: Timestamp?

    public init(notBefore: Timestamp? = nil, notAfter: Timestamp? = nil) {
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    /// Whether the period is in effect at `time` (`notBefore` ≤ time < `notAfter`).
    public func contains(_ time: Timestamp) -> Bool {
        (notBefore.map { time >= $0 } ?? true) && (notAfter.map { time < $0 } ?? true)
    }

    /// Whether the period has ended at `time`.
    public func hasEnded(at time: Timestamp) -> Bool { notAfter.map { time >= $0 } ?? false }

    /// Where a time falls against a period (printed as the raw value).
    public enum Status: String, Sendable, Hashable, Codable, CaseIterable {
        case notYet = "not-yet"
        case inEffect = "in-effect"
        case expired
    }

    /// Where `time` falls against the period.
    public func status(at time: Timestamp) -> Status {
        if hasEnded(at: time) { return .expired }
        return contains(time) ? .inEffect : .notYet
    }

    /// Whether the period is unbounded on both ends (the same as no period).
    public var isUnbounded: Bool { notBefore == nil && notAfter == nil }

    /// The period in which both are in effect (the later start, the earlier end).
    public func intersection(_ other: EffectivePeriod) -> EffectivePeriod {
        EffectivePeriod(
            notBefore: [notBefore, other.notBefore].compactMap { $0 }.max(),
            notAfter: [notAfter, other.notAfter].compactMap { $0 }.min())
    }

    /// Why the period is malformed, naming the field and the fix, or nil.
    public var problem: String? {
        if let notBefore, let notAfter, notAfter <= notBefore {
            return
                "notAfter \(notAfter.iso8601) is not after notBefore \(notBefore.iso8601): the period must end after it starts (--not-after later than --not-before)"
        }
        return nil
    }

    /// `from T`, `until T`, `T to U`, or `always`: how the audit prints it.
    public var description: String {
        switch (notBefore, notAfter) {
        case (nil, nil): "always"
        case (let start?, nil): "from \(start.iso8601)"
        case (nil, let end?): "until \(end.iso8601)"
        case (let start?, let end?): "\(start.iso8601) to \(end.iso8601)"
        }
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(notBefore, notAfter)
    }

    public init(from reader: inout CanonicalReader) throws {
        notBefore = try reader.readOptional(Timestamp.self, "not-before")
        notAfter = try reader.readOptional(Timestamp.self, "not-after")
    }
}

extension EffectivePeriod {
    /// Bad input for a period, naming the field (the CLI option) and the fix.
    public struct InputError: Error, CustomStringConvertible, Equatable {
        /// The option the value came from: `--not-before` or `--not-after`.
        public var field: String
        public var message: String
        public var description: String { "\(field): \(message)" }
    }

    /// The period the CLI's `--not-before` / `--not-after` describe, each an RFC 3339 time
    /// or a duration from `now` (`90s`, `30m`, `12h`, `7d`, optionally with a leading `+`);
    /// nil when both are absent. Refuses an unparseable value, a not-after that is not after
    /// the not-before, and a not-after already past at `now`, naming the field.
    public static func parse(notBefore: String?, notAfter: String?, now: Timestamp) throws(InputError)
        -> EffectivePeriod?
    {
        guard notBefore != nil || notAfter != nil else { return nil }
        let start = try notBefore.map { text throws(InputError) in try instant(text, field: "--not-before", now: now) }
        let end = try notAfter.map { text throws(InputError) in try instant(text, field: "--not-after", now: now) }
        if let end, end <= now {
            throw InputError(
                field: "--not-after",
                message:
                    "\(end.iso8601) is not in the future (now is \(now.iso8601)): a period must end after it is signed")
        }
        let period = EffectivePeriod(notBefore: start, notAfter: end)
        if let start, let end, end <= start {
            throw InputError(
                field: "--not-after",
                message:
                    "\(end.iso8601) is not after --not-before \(start.iso8601): the period must end after it starts")
        }
        return period
    }

    /// One end: an RFC 3339 time, or a duration from `now`.
    static func instant(_ text: String, field: String, now: Timestamp) throws(InputError) -> Timestamp {
        if let time = Timestamp(iso8601: text) { return time }
        var digits = Substring(text)
        if digits.first == "+" { digits = digits.dropFirst() }
        let units: [Character: Int64] = ["s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000]
        if let unit = digits.last.flatMap({ units[$0] }), let count = Int64(digits.dropLast()), count >= 0,
            count <= 3_660 * 86_400_000 / unit
        {
            return Timestamp(milliseconds: now.milliseconds + count * unit)
        }
        throw InputError(
            field: field,
            message:
                "'\(text)' is neither an RFC 3339 time (e.g. 2027-01-31T00:00:00Z) nor a duration from now (e.g. 90s, 30m, 12h, 7d)"
        )
    }
}
