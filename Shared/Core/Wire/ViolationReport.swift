/// A violation report (`reportViolation`; docs/governance.md): who reports whom, about which
/// owner's data, with the SHA-256 of the evidence (kept off the ledger) and a severity.
public struct ViolationReport: Hashable, Sendable, CanonicalCodable {
    /// How serious the reporter says the violation is (printed as the raw value).
    public enum Severity: String, Sendable, Hashable, CaseIterable, Codable {
        case low
        case medium
        case high
    }

    /// A random id (32 hex characters) chosen by the reporter.
    public var reportID: String
    /// The registered principal the report is about.
    public var offender: String
    /// The enterprise whose data is concerned (the owner of the lot's entries).
    public var owner: String
    public var lot: String
    public var level: ABAC.Sensitivity
    /// SHA-256 of the evidence the reporter keeps.
    public var evidence: Digest32
    public var severity: Severity
    public var summary: String

    public init(
        reportID: String, offender: String, owner: String, lot: String, level: ABAC.Sensitivity, evidence: Digest32,
        severity: Severity, summary: String
    ) {
        self.reportID = reportID
        self.offender = offender
        self.owner = owner
        self.lot = lot
        self.level = level
        self.evidence = evidence
        self.severity = severity
        self.summary = summary
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(reportID, offender, owner, lot, level.rawValue, evidence, severity.rawValue, summary)
    }

    public init(from reader: inout CanonicalReader) throws {
        reportID = try reader.readString("report id")
        offender = try reader.readString("offender")
        owner = try reader.readString("owner")
        lot = try reader.readString("lot")
        level = try reader.readRawValue(ABAC.Sensitivity.self, "sensitivity level")
        evidence = try reader.read(Digest32.self)
        severity = try reader.readRawValue(Severity.self, "severity")
        summary = try reader.readString("summary")
    }
}
