import Crypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A transaction of the access-control contracts (data upload, policy decision, policy match,
/// punishment), signed by its submitter's registered principal key in
/// ``SignatureDomain/transaction``. Appended to the log as ``LogEntry/access(_:)``.
///
/// The contracts are deterministic: the outcome of each transaction (granted, denied, the
/// strike it adds) is computed from the log and the block time alone, so `replay` rebuilds it.
public struct AccessTransaction: Hashable, Sendable, CanonicalCodable {
    /// What the transaction does.
    public enum Operation: Hashable, Sendable {
        /// The regulator publishes the public parameters: the ABSE public parameters `CP`,
        /// the CP-ABE public parameters, and the X25519 key requesters seal trapdoors to
        /// (so only the regulator can run TEST). The latest one is in force.
        case publishParameters(AccessParameters)
        /// The regulator certifies a principal's subject attributes and region (`AttG`).
        case grantAttributes(AttributeGrant)
        /// The regulator withdraws a principal's attributes: its trapdoors are denied from now on.
        case revokeAttributes(principal: String, reason: String)
        /// `addEncryptedData`: an owner puts the searchable ciphertext E of one lot and level on the ledger.
        case addEncryptedData(EncryptedDataEntry)
        /// An owner withdraws one of its encrypted-data entries (a policy revocation).
        case revokeEncryptedData(dataID: String, reason: String)
        /// `addTrapdoor`: a requester asks for one lot and level (policy decision).
        case addTrapdoor(TrapdoorRequest)
        /// `addResult`: the regulator records TEST's outcome for a request: the entry that
        /// matched and its released token D, or nil for no match.
        case addResult(requestID: String, dataID: String?, token: [UInt8]?)
        /// `addToBlacklist`: the regulator adds a strike to a source by hand.
        case addToBlacklist(source: String, reason: String)
        /// `redeem`: the requester of a granted request asks for the data (docs/transfer.md).
        case redeem(RedeemRequest)
        /// `addTransfer`: the owner's transfer service records a transfer (the 4Wh record).
        case addTransfer(TransferRecord)
        /// `revokeGrant`: the owner revokes a granted request; later redemptions are refused.
        case revokeGrant(requestID: String, reason: String)
        /// `recordRead`: the requester records a fetch (provenance).
        case recordRead(ReadRecord)
        /// `setMinimumCredit`: the owner of an entry sets its public credit condition: requests
        /// from principals whose enterprise's credit is below `basisPoints` (0 to 10,000) are
        /// denied; 0 lifts the condition (docs/governance.md, "Credit").
        case setMinimumCredit(dataID: String, basisPoints: UInt16)
        /// `addToWhitelist`: the owner of a lot names a principal whose requests for one of its
        /// levels are granted without a match (docs/governance.md).
        case addToWhitelist(WhitelistEntry)
        /// `removeFromWhitelist`: the owner takes a principal off its whitelist.
        case removeFromWhitelist(WhitelistEntry)
        /// `reportViolation`: a registered principal reports a violation (docs/governance.md).
        case reportViolation(ViolationReport)
        /// `confirmViolation`: the regulator confirms a report; the offender's grants on the
        /// owner's data are revoked in the same block.
        case confirmViolation(reportID: String, note: String)
        /// `dismissViolation`: the regulator dismisses a report.
        case dismissViolation(reportID: String, note: String)
        /// `correctRecord`: an enterprise's principal names the record that supersedes one of
        /// its earlier records of the same lot (docs/governance.md).
        case correctRecord(RecordCorrection)
        /// `countersignTransfer`: the receiver of a transfer signs what it received
        /// (docs/governance.md, "Trades signed by both sides").
        case countersignTransfer(TransferCountersignature)
        /// `publishDirectoryEntry`: the owner of a lot or blob publishes its directory entry
        /// (docs/governance.md, "Resource directory").
        case publishDirectoryEntry(DirectoryEntry)
    }

    /// The submitter's principal name (`Firm/alice@ZS123`), registered on the ledger.
    public var submitter: String
    public var operation: Operation
    /// When the submitter signed it (its clock; informational: contracts use the block time).
    public var submittedAt: Timestamp
    /// A random nonce, so two identical operations are distinct transactions.
    public var nonce: UInt64

    public init(submitter: String, operation: Operation, submittedAt: Timestamp = .now(), nonce: UInt64? = nil) {
        self.submitter = submitter
        self.operation = operation
        self.submittedAt = submittedAt
        self.nonce = nonce ?? UInt64.random(in: 0...UInt64.max)
    }

    /// The operation's contract method name, as the audit shows it.
    public var method: String {
        switch operation {
        case .publishParameters: "publishParameters"
        case .grantAttributes: "grantAttributes"
        case .revokeAttributes: "revokeAttributes"
        case .addEncryptedData: "addEncryptedData"
        case .revokeEncryptedData: "revokeEncryptedData"
        case .addTrapdoor: "addTrapdoor"
        case .addResult: "addResult"
        case .addToBlacklist: "addToBlacklist"
        case .redeem: "redeem"
        case .addTransfer: "addTransfer"
        case .revokeGrant: "revokeGrant"
        case .recordRead: "recordRead"
        case .setMinimumCredit: "setMinimumCredit"
        case .addToWhitelist: "addToWhitelist"
        case .removeFromWhitelist: "removeFromWhitelist"
        case .reportViolation: "reportViolation"
        case .confirmViolation: "confirmViolation"
        case .dismissViolation: "dismissViolation"
        case .correctRecord: "correctRecord"
        case .countersignTransfer: "countersignTransfer"
        case .publishDirectoryEntry: "publishDirectoryEntry"
        }
    }

    static let domain = "agritrace/v1/access-transaction"

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(Self.domain, submitter)
        switch operation {
        case .publishParameters(let parameters):
            writer.write(UInt8(1), parameters)
        case .grantAttributes(let grant):
            if let period = grant.period {
                writer.write(UInt8(14), grant, period)
            } else {
                writer.write(UInt8(2), grant)
            }
        case .revokeAttributes(let principal, let reason):
            writer.write(UInt8(3), principal, reason)
        case .addEncryptedData(let entry):
            // An entry with an effective period is a new operation (tag 13), so the bytes of
            // every entry without one stay as they were.
            if let period = entry.period {
                writer.write(UInt8(13), entry, period)
            } else {
                writer.write(UInt8(4), entry)
            }
        case .revokeEncryptedData(let dataID, let reason):
            writer.write(UInt8(5), dataID, reason)
        case .addTrapdoor(let request):
            writer.write(UInt8(6), request)
        case .addResult(let requestID, let dataID, let token):
            writer.write(UInt8(7), requestID, dataID, token != nil)
            if let token { writer.writeBytes(token) }
        case .addToBlacklist(let source, let reason):
            writer.write(UInt8(8), source, reason)
        case .redeem(let request):
            writer.write(UInt8(9), request)
        case .addTransfer(let transfer):
            writer.write(UInt8(10), transfer)
        case .revokeGrant(let requestID, let reason):
            writer.write(UInt8(11), requestID, reason)
        case .recordRead(let read):
            writer.write(UInt8(12), read)
        case .setMinimumCredit(let dataID, let basisPoints):
            writer.write(UInt8(30), dataID, basisPoints)
        case .addToWhitelist(let entry):
            writer.write(UInt8(15), entry)
        case .removeFromWhitelist(let entry):
            writer.write(UInt8(16), entry)
        case .reportViolation(let report):
            writer.write(UInt8(17), report)
        case .confirmViolation(let reportID, let note):
            writer.write(UInt8(18), reportID, note)
        case .dismissViolation(let reportID, let note):
            writer.write(UInt8(19), reportID, note)
        case .correctRecord(let correction):
            writer.write(UInt8(20), correction)
        case .countersignTransfer(let countersignature):
            writer.write(UInt8(21), countersignature)
        case .publishDirectoryEntry(let entry):
            writer.write(UInt8(22), entry)
        }
        writer.write(submittedAt, nonce)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.readDomain(Self.domain, "access transaction domain")
        submitter = try reader.readString("submitter")
        switch try reader.readUInt8("access operation") {
        case 1: operation = .publishParameters(try reader.read(AccessParameters.self))
        case 2: operation = .grantAttributes(try reader.read(AttributeGrant.self))
        case 3:
            operation = .revokeAttributes(
                principal: try reader.readString("principal"), reason: try reader.readString("reason"))
        case 4: operation = .addEncryptedData(try reader.read(EncryptedDataEntry.self))
        case 5:
            operation = .revokeEncryptedData(
                dataID: try reader.readString("data id"), reason: try reader.readString("reason"))
        case 6: operation = .addTrapdoor(try reader.read(TrapdoorRequest.self))
        case 7:
            let requestID = try reader.readString("request id")
            let dataID = try reader.readOptional(String.self, "data id")
            let token = try reader.readBool("token present") ? try reader.readBytes("token") : nil
            operation = .addResult(requestID: requestID, dataID: dataID, token: token)
        case 8:
            operation = .addToBlacklist(
                source: try reader.readString("source"), reason: try reader.readString("reason"))
        case 9: operation = .redeem(try reader.read(RedeemRequest.self))
        case 10: operation = .addTransfer(try reader.read(TransferRecord.self))
        case 11:
            operation = .revokeGrant(
                requestID: try reader.readString("request id"), reason: try reader.readString("reason"))
        case 12: operation = .recordRead(try reader.read(ReadRecord.self))
        case 30:
            operation = .setMinimumCredit(
                dataID: try reader.readString("data id"), basisPoints: try reader.readUInt16("minimum credit"))
        case 13:
            var entry = try reader.read(EncryptedDataEntry.self)
            entry.period = try reader.read(EffectivePeriod.self)
            operation = .addEncryptedData(entry)
        case 14:
            var grant = try reader.read(AttributeGrant.self)
            grant.period = try reader.read(EffectivePeriod.self)
            operation = .grantAttributes(grant)
        case 15: operation = .addToWhitelist(try reader.read(WhitelistEntry.self))
        case 16: operation = .removeFromWhitelist(try reader.read(WhitelistEntry.self))
        case 17: operation = .reportViolation(try reader.read(ViolationReport.self))
        case let tag where tag == 18 || tag == 19:
            let (reportID, note) = (try reader.readString("report id"), try reader.readString("note"))
            operation =
                tag == 18
                ? .confirmViolation(reportID: reportID, note: note) : .dismissViolation(reportID: reportID, note: note)
        case 20: operation = .correctRecord(try reader.read(RecordCorrection.self))
        case 21: operation = .countersignTransfer(try reader.read(TransferCountersignature.self))
        case 22: operation = .publishDirectoryEntry(try reader.read(DirectoryEntry.self))
        case let tag:
            throw Canonical.DecodingError.invalidTag(tag, context: "access operation")
        }
        submittedAt = try reader.read(Timestamp.self)
        nonce = try reader.readUInt64("nonce")
    }
}

/// What the regulator publishes: the public parameters of the schemes, the key trapdoors are
/// sealed to, and the punishment and rate-limit rules the contracts apply (on the ledger, so
/// every node and every replay applies the same ones).
public struct AccessParameters: Hashable, Sendable, CanonicalCodable {
    /// The serialized ABSE public parameters `CP`.
    public var searchable: [UInt8]
    /// The serialized CP-ABE public parameters.
    public var tokenEncryption: [UInt8]
    /// The regulator's X25519 public key (32 bytes) requesters seal trapdoors to.
    public var trapdoorKey: [UInt8]
    /// Strikes before a permanent block (published default 5).
    public var maximumStrikes: UInt32
    /// How long each strike blocks a source (published default 10 minutes).
    public var blockMilliseconds: Int64
    /// Trapdoors one principal may submit per minute of block time (against keyword guessing).
    public var trapdoorsPerMinute: UInt32

    public init(
        searchable: [UInt8], tokenEncryption: [UInt8], trapdoorKey: [UInt8], maximumStrikes: UInt32 = 5,
        blockMilliseconds: Int64 = 10 * 60 * 1000, trapdoorsPerMinute: UInt32 = 10
    ) {
        self.searchable = searchable
        self.tokenEncryption = tokenEncryption
        self.trapdoorKey = trapdoorKey
        self.maximumStrikes = maximumStrikes
        self.blockMilliseconds = blockMilliseconds
        self.trapdoorsPerMinute = trapdoorsPerMinute
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(searchable, tokenEncryption, trapdoorKey, maximumStrikes, blockMilliseconds, trapdoorsPerMinute)
    }

    public init(from reader: inout CanonicalReader) throws {
        searchable = try reader.readBytes("searchable parameters")
        tokenEncryption = try reader.readBytes("token-encryption parameters")
        trapdoorKey = try reader.readBytes("trapdoor key")
        maximumStrikes = try reader.readUInt32("maximum strikes")
        blockMilliseconds = try reader.readInt64("block duration")
        trapdoorsPerMinute = try reader.readUInt32("trapdoors per minute")
    }
}

/// The subject attributes and region the regulator certifies for one principal. They are the
/// values bound into the principal's ABSE attribute key and CP-ABE key.
public struct AttributeGrant: Hashable, Sendable, CanonicalCodable, Codable {
    public var principal: String
    public var enterprise: String
    public var role: ABAC.Role
    public var stage: Stage
    public var productCategory: String
    /// The region the requester's requests come from (the ABSE `environment.source` slot).
    public var region: String
    /// When the grant is in effect (nil: always). Not part of the grant's own bytes: a grant
    /// with a period travels as its own operation (``AccessTransaction`` tag 14).
    public var period: EffectivePeriod?

    public init(
        principal: String, enterprise: String, role: ABAC.Role, stage: Stage, productCategory: String, region: String,
        period: EffectivePeriod? = nil
    ) {
        self.period = period
        self.principal = principal
        self.enterprise = enterprise
        self.role = role
        self.stage = stage
        self.productCategory = productCategory
        self.region = region
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(principal, enterprise, role.rawValue, stage, productCategory, region)
    }

    public init(from reader: inout CanonicalReader) throws {
        principal = try reader.readString("principal")
        enterprise = try reader.readString("enterprise")
        role = try reader.readRawValue(ABAC.Role.self, "role")
        stage = try reader.read(Stage.self)
        productCategory = try reader.readString("product category")
        region = try reader.readString("region")
    }
}

/// `addEncryptedData`: the searchable ciphertext of one lot and level, with the parts of the
/// policy that are not hidden (the daily time window and the actions, which the decision
/// contract checks against the block time) and the SHA-256 of the access token D carries.
public struct EncryptedDataEntry: Hashable, Sendable, CanonicalCodable {
    /// A random id (32 hex characters) chosen by the owner.
    public var dataID: String
    public var lot: String
    public var level: ABAC.Sensitivity
    public var window: TimeWindow?
    /// Sorted by raw value.
    public var actions: [ABAC.Action]
    /// The serialized ABSE ciphertext E (hidden policy and keyword, sealed D).
    public var searchableCiphertext: [UInt8]
    /// SHA-256 of the access token, so the transfer service can check a presented token.
    public var tokenDigest: Digest32
    /// When the policy is in effect besides its daily window (nil: always). Not part of the
    /// entry's own bytes: an entry with a period travels as its own operation
    /// (``AccessTransaction`` tag 13).
    public var period: EffectivePeriod?

    public init(
        dataID: String, lot: String, level: ABAC.Sensitivity, window: TimeWindow?, actions: Set<ABAC.Action>,
        searchableCiphertext: [UInt8], tokenDigest: Digest32, period: EffectivePeriod? = nil
    ) {
        self.period = period
        self.dataID = dataID
        self.lot = lot
        self.level = level
        self.window = window
        self.actions = actions.sorted { $0.rawValue < $1.rawValue }
        self.searchableCiphertext = searchableCiphertext
        self.tokenDigest = tokenDigest
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(dataID, lot, level.rawValue, window != nil)
        if let window { window.encodeCanonical(to: &writer) }
        writer.write(UInt32(actions.count))
        for action in actions { writer.write(action.rawValue) }
        writer.write(searchableCiphertext, tokenDigest)
    }

    public init(from reader: inout CanonicalReader) throws {
        dataID = try reader.readString("data id")
        lot = try reader.readString("lot")
        level = try reader.readRawValue(ABAC.Sensitivity.self, "sensitivity level")
        window = try reader.readBool("window present") ? try TimeWindow.decodeCanonical(from: &reader) : nil
        let count = Int(try reader.readUInt32("actions"))
        guard count <= ABAC.Action.allCases.count else {
            throw Canonical.DecodingError.nonCanonical("\(count) actions")
        }
        var actions: [ABAC.Action] = []
        for _ in 0..<count {
            let action = try reader.readRawValue(ABAC.Action.self, "action")
            if let last = actions.last, last.rawValue >= action.rawValue {
                throw Canonical.DecodingError.nonCanonical("actions out of order")
            }
            actions.append(action)
        }
        self.actions = actions
        searchableCiphertext = try reader.readBytes("searchable ciphertext")
        tokenDigest = try reader.read(Digest32.self)
    }
}

/// `addTrapdoor`: a request for one lot and level. The trapdoor T is sealed to the
/// regulator's trapdoor key, so only the regulator can run TEST with it.
public struct TrapdoorRequest: Hashable, Sendable, CanonicalCodable {
    /// A random id (32 hex characters) chosen by the requester.
    public var requestID: String
    public var lot: String
    public var level: ABAC.Sensitivity
    public var action: ABAC.Action
    /// The request's source address as the requester's edge node reports it (the punishment
    /// contract's key).
    public var source: String
    /// The trapdoor, HPKE-sealed to the regulator (``SealedMessage``).
    public var sealedTrapdoor: SealedMessage

    public init(
        requestID: String, lot: String, level: ABAC.Sensitivity, action: ABAC.Action, source: String,
        sealedTrapdoor: SealedMessage
    ) {
        self.requestID = requestID
        self.lot = lot
        self.level = level
        self.action = action
        self.source = source
        self.sealedTrapdoor = sealedTrapdoor
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(requestID, lot, level.rawValue, action.rawValue, source, sealedTrapdoor)
    }

    public init(from reader: inout CanonicalReader) throws {
        requestID = try reader.readString("request id")
        lot = try reader.readString("lot")
        level = try reader.readRawValue(ABAC.Sensitivity.self, "sensitivity level")
        action = try reader.readRawValue(ABAC.Action.self, "action")
        source = try reader.readString("source")
        sealedTrapdoor = try reader.read(SealedMessage.self)
    }
}

/// A message HPKE-sealed (RFC 9180 base mode, the ``Sealing/ciphersuite``) to one X25519 key,
/// bound to a purpose label.
public struct SealedMessage: Hashable, Sendable {
    public var encapsulatedKey: [UInt8]
    public var ciphertext: [UInt8]

    /// Seals `plaintext` to `recipient` for `purpose` (e.g. `agritrace/v1/trapdoor`).
    public static func seal(
        _ plaintext: [UInt8], to recipient: Curve25519.KeyAgreement.PublicKey, purpose: String
    ) throws -> SealedMessage {
        var sender = try HPKE.Sender(
            recipientKey: recipient, ciphersuite: Sealing.ciphersuite, info: Data(purpose.utf8))
        let ciphertext = try sender.seal(Data(plaintext))
        return SealedMessage(encapsulatedKey: Array(sender.encapsulatedKey), ciphertext: Array(ciphertext))
    }

    /// Opens the message with the recipient's private key.
    public func open(with privateKey: Curve25519.KeyAgreement.PrivateKey, purpose: String) throws(Sealing.Error)
        -> [UInt8]
    {
        do {
            var recipient = try HPKE.Recipient(
                privateKey: privateKey, ciphersuite: Sealing.ciphersuite, info: Data(purpose.utf8),
                encapsulatedKey: Data(encapsulatedKey))
            return Array(try recipient.open(Data(ciphertext)))
        } catch {
            throw .decryptionFailed
        }
    }
}

extension SealedMessage: CanonicalCodable {
    public func encode(to writer: inout CanonicalWriter) {
        writer.write(encapsulatedKey, ciphertext)
    }

    public init(from reader: inout CanonicalReader) throws {
        encapsulatedKey = try reader.readBytes("encapsulated key")
        ciphertext = try reader.readBytes("sealed ciphertext")
    }
}

extension TimeWindow {
    func encodeCanonical(to writer: inout CanonicalWriter) {
        writer.write(UInt32(start.minutes), UInt32(end.minutes), Int64(utcOffsetMinutes))
    }

    static func decodeCanonical(from reader: inout CanonicalReader) throws -> TimeWindow {
        let start = Int(try reader.readUInt32("window start"))
        let end = Int(try reader.readUInt32("window end"))
        let offset = try reader.readInt64("window offset")
        guard start < 24 * 60, end < 24 * 60, abs(offset) <= 14 * 60 else {
            throw Canonical.DecodingError.nonCanonical("time window out of range")
        }
        return TimeWindow(
            start: ABAC.TimeOfDay(hour: start / 60, minute: start % 60),
            end: ABAC.TimeOfDay(hour: end / 60, minute: end % 60), utcOffsetMinutes: Int(offset))
    }
}

/// How the deployment names the object a request is for: the ABSE keyword both the owner
/// (at `addEncryptedData`) and the requester (in its trapdoor) derive from the lot's public
/// ledger data, so a trapdoor matches only the lot, product, stage and level it asks for.
public enum AccessKeyword {
    /// `agritrace/v1/object` ‖ product ‖ lot ‖ stage ‖ level, canonically encoded, in hex.
    public static func keyword(product: String, lot: String, stage: Stage, level: ABAC.Sensitivity) -> String {
        var writer = CanonicalWriter(capacity: 96)
        writer.write("agritrace/v1/object", product, lot, stage, level.rawValue)
        return writer.bytes.hexString
    }
}
