import AccessCrypto
import AgriTraceCore
import Crypto
import Foundation

/// The slot layout of the deployed hidden policies: the four subject attributes and the
/// request's region are ABSE slots; the object (product, lot, stage, level) is the keyword
/// (``AgriTraceCore/AccessKeyword``), since an encrypted-data entry protects one lot and level.
///
/// The regulator certifies slot values once per principal (``AttributeGrant``), so requesters
/// make their own trapdoors for any lot (TrpG) without asking the regulator each time.
public enum SubjectSlots {
    /// Slot names, in slot order.
    public static let names = [
        "subject.enterprise", "subject.role", "subject.stage", "subject.category", "environment.source",
    ]

    /// Number of slots (5).
    public static var count: Int { names.count }

    /// The policy's subject and source conditions in slot order, nil for a wildcard.
    public static func conditions(of policy: AccessPolicy) -> [String?] {
        let all = PolicySlots.conditions(of: policy)
        return [all[0], all[1], all[2], all[3], all[8]]
    }

    /// A grant's certified values in slot order.
    public static func attributes(of grant: AttributeGrant) -> [String] {
        [grant.enterprise, grant.role.rawValue, grant.stage.rawValue, grant.productCategory, grant.region]
    }

    /// Every CP-ABE key and policy holds this attribute, so an all-wildcard policy still has one.
    static let deploymentAttribute = "agritrace"

    /// The CP-ABE policy of the access token D: the policy's non-wildcard slots as `slot=value`.
    public static func tokenPolicy(of policy: AccessPolicy) -> [String] {
        [deploymentAttribute]
            + zip(names, conditions(of: policy)).compactMap { name, value in value.map { "\(name)=\($0)" } }
    }

    /// The CP-ABE attributes of a grant's key.
    public static func tokenAttributes(of grant: AttributeGrant) -> [String] {
        [deploymentAttribute] + zip(names, attributes(of: grant)).map { "\($0)=\($1)" }
    }
}

/// Errors of the access flow, each naming what to do.
public struct AccessFlowError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The regulator's secrets: the ABSE master key `UMK`, the CP-ABE master key, and the X25519
/// key trapdoors are sealed to, with the public parameters they belong to. Kept in one file
/// (mode 0600) on the regulator's machine; never on the ledger.
public struct RegulatorSecrets: Sendable {
    public var searchableMaster: ABSE.MasterKey
    public var searchableParameters: ABSE.PublicParameters
    public var tokenMaster: CPABE.MasterKey
    public var tokenParameters: CPABE.PublicParameters
    public var trapdoorKey: Curve25519.KeyAgreement.PrivateKey

    /// `TSetup` + CP-ABE setup + a fresh trapdoor key.
    public static func generate() throws -> RegulatorSecrets {
        let (pp, mk) = try ABSE.setup(slotCount: SubjectSlots.count)
        let (tpp, tmk) = CPABE.setup()
        return RegulatorSecrets(
            searchableMaster: mk, searchableParameters: pp, tokenMaster: tmk, tokenParameters: tpp,
            trapdoorKey: Curve25519.KeyAgreement.PrivateKey())
    }

    /// What goes on the ledger (`publishParameters`), with the punishment rules.
    public func publicParameters(maximumStrikes: UInt32 = 5, blockMinutes: Int64 = 10, trapdoorsPerMinute: UInt32 = 10)
        -> AccessParameters
    {
        AccessParameters(
            searchable: searchableParameters.serialized, tokenEncryption: tokenParameters.serialized,
            trapdoorKey: Array(trapdoorKey.publicKey.rawRepresentation), maximumStrikes: maximumStrikes,
            blockMilliseconds: blockMinutes * 60_000, trapdoorsPerMinute: trapdoorsPerMinute)
    }

    /// `AddUser` + `AttG`: the keys for one principal's certified attributes.
    public func issueKeys(for grant: AttributeGrant) throws -> RequesterKeys {
        RequesterKeys(
            grant: grant,
            searchableKey: try ABSE.issueAttributeKey(
                master: searchableMaster, attributes: SubjectSlots.attributes(of: grant)),
            tokenKey: CPABE.keyGen(master: tokenMaster, attributes: SubjectSlots.tokenAttributes(of: grant)))
    }

    /// `TEST` for one pending request: opens the sealed trapdoor and tries every candidate
    /// entry of the lot and level. Returns the matching entry's id and D, or nil (no match).
    public func match(_ sealed: SealedMessage, candidates: [(dataID: String, ciphertext: [UInt8])]) -> (
        dataID: String, token: [UInt8]
    )? {
        guard let bytes = try? sealed.open(with: trapdoorKey, purpose: RequesterKeys.trapdoorPurpose),
            let trapdoor = try? ABSE.Trapdoor(serialized: bytes)
        else { return nil }
        for candidate in candidates {
            guard let ciphertext = try? ABSE.SearchableCiphertext(serialized: candidate.ciphertext) else { continue }
            if let token = ABSE.test(ciphertext, trapdoor, publicParameters: searchableParameters) {
                return (candidate.dataID, token)
            }
        }
        return nil
    }
}

// MARK: File form

extension RegulatorSecrets {
    static let magic = "agritrace/v1/regulator-secrets"

    /// The file form (canonical bytes, hex). Secret: write it with mode 0600.
    public var serialized: [UInt8] {
        var writer = CanonicalWriter()
        writer.write(
            Self.magic, searchableMaster.serialized, searchableParameters.serialized, tokenMaster.serialized,
            tokenParameters.serialized, Array(trapdoorKey.rawRepresentation))
        return writer.bytes
    }

    public init(serialized bytes: [UInt8]) throws {
        var reader = CanonicalReader(bytes)
        guard try reader.readString("magic") == Self.magic else {
            throw AccessFlowError("not a regulator secrets file")
        }
        searchableMaster = try ABSE.MasterKey(serialized: try reader.readBytes("searchable master"))
        searchableParameters = try ABSE.PublicParameters(serialized: try reader.readBytes("searchable parameters"))
        tokenMaster = try CPABE.MasterKey(serialized: try reader.readBytes("token master"))
        tokenParameters = try CPABE.PublicParameters(serialized: try reader.readBytes("token parameters"))
        trapdoorKey = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: try reader.readBytes("trapdoor key"))
    }
}

/// A requester's attribute keys from the regulator: the ABSE attribute key (`ASK`, for
/// trapdoors) and the CP-ABE key (to open D), with the grant they certify.
public struct RequesterKeys: Sendable {
    public var grant: AttributeGrant
    public var searchableKey: ABSE.AttributeKey
    public var tokenKey: CPABE.SecretKey

    static let trapdoorPurpose = "agritrace/v1/trapdoor"
    static let magic = "agritrace/v1/requester-keys"

    /// `TrpG` for one lot and level, sealed to the regulator: the `addTrapdoor` payload.
    /// - Parameters:
    ///   - product, stage: the lot's public product and stage, from the ledger (they are part
    ///     of the keyword).
    public func trapdoorRequest(
        lot: String, product: String, stage: Stage, level: ABAC.Sensitivity, action: ABAC.Action, source: String,
        parameters: AccessParameters, requestID: String = AccessIDs.random()
    ) throws -> TrapdoorRequest {
        let keyword = AccessKeyword.keyword(product: product, lot: lot, stage: stage, level: level)
        let trapdoor = ABSE.trapdoor(keyword: keyword, attributeKey: searchableKey)
        let regulator = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: parameters.trapdoorKey)
        return TrapdoorRequest(
            requestID: requestID, lot: lot, level: level, action: action, source: source,
            sealedTrapdoor: try SealedMessage.seal(trapdoor.serialized, to: regulator, purpose: Self.trapdoorPurpose))
    }

    /// Opens the released D (the CP-ABE ciphertext) to the access token.
    public func openToken(_ released: [UInt8]) throws -> [UInt8] {
        do {
            return try CPABE.decrypt(try CPABE.Ciphertext(serialized: released), secretKey: tokenKey)
        } catch {
            throw AccessFlowError("the released token does not open with these attribute keys (\(error))")
        }
    }
}

// MARK: File form

extension RequesterKeys {
    /// The file form (canonical bytes, hex).
    public var serialized: [UInt8] {
        var writer = CanonicalWriter()
        writer.write(Self.magic, grant, searchableKey.serialized, tokenKey.serialized)
        return writer.bytes
    }

    public init(serialized bytes: [UInt8]) throws {
        var reader = CanonicalReader(bytes)
        guard try reader.readString("magic") == Self.magic else { throw AccessFlowError("not a requester keys file") }
        grant = try reader.read(AttributeGrant.self)
        searchableKey = try ABSE.AttributeKey(serialized: try reader.readBytes("searchable key"))
        tokenKey = try CPABE.SecretKey(serialized: try reader.readBytes("token key"))
    }
}

/// The owner's side: protect one lot and level under a hidden policy.
public enum DataOwner {
    /// `PrdIT` + `ABSE`: the access token, its CP-ABE encryption D under the policy's subject
    /// conditions, and the searchable ciphertext E of D under the hidden policy and the
    /// object keyword.
    /// - Parameters:
    ///   - product, stage: the lot's public product and stage on the ledger.
    /// - Returns: the `addEncryptedData` entry and the token (which the owner's transfer
    ///   service accepts; only its SHA-256 goes on the ledger).
    public static func protect(
        lot: String, product: String, stage: Stage, level: ABAC.Sensitivity, policy: AccessPolicy,
        parameters: AccessParameters, dataID: String = AccessIDs.random()
    ) throws -> (entry: EncryptedDataEntry, token: [UInt8]) {
        try protect(
            lot: lot, product: product, stage: stage, level: level, policy: policy,
            parameters: try DecodedParameters(parameters), dataID: dataID)
    }

    /// The schemes' public parameters decoded once (every point subgroup-checked), for an
    /// owner protecting several entries: each policy's ABSE encrypt tables
    /// (``AccessCrypto/ABSE/PreparedPolicy``) are built on its first use with a decoded value
    /// and reused for every later entry under the same subject conditions.
    public struct DecodedParameters: Sendable {
        public let searchable: ABSE.PublicParameters
        public let tokenEncryption: CPABE.PublicParameters
        let prepared = PreparedPolicies()

        public init(_ parameters: AccessParameters) throws {
            searchable = try ABSE.PublicParameters(serialized: parameters.searchable)
            tokenEncryption = try CPABE.PublicParameters(serialized: parameters.tokenEncryption)
        }

        /// The prepared ABSE policy for these slot conditions (built once, then cached; the
        /// cache is shared by copies of this value and holds at most
        /// ``PreparedPolicies/limit`` policies).
        public func preparedPolicy(_ conditions: [String?]) throws -> ABSE.PreparedPolicy {
            try prepared.policy(conditions, searchable)
        }
    }

    /// The owner's prepared policies, keyed by their slot conditions. Secret (derived from
    /// the policies); in memory only. The lock guards the dictionary and the one-time builds.
    final class PreparedPolicies: @unchecked Sendable {
        /// Policies kept at once (about 1 MB each at five slots); the cache is emptied when
        /// a new one would exceed it.
        static let limit = 16
        private let lock = NSLock()
        private var cache: [[String?]: ABSE.PreparedPolicy] = [:]

        func policy(_ conditions: [String?], _ pp: ABSE.PublicParameters) throws -> ABSE.PreparedPolicy {
            lock.lock()
            defer { lock.unlock() }
            if let hit = cache[conditions] { return hit }
            let built = try ABSE.PreparedPolicy(policy: conditions, publicParameters: pp)
            if cache.count >= Self.limit { cache.removeAll() }
            cache[conditions] = built
            return built
        }

        var count: Int {
            lock.lock()
            defer { lock.unlock() }
            return cache.count
        }
    }

    /// ``protect(lot:product:stage:level:policy:parameters:dataID:)`` with parameters decoded once.
    public static func protect(
        lot: String, product: String, stage: Stage, level: ABAC.Sensitivity, policy: AccessPolicy,
        parameters: DecodedParameters, dataID: String = AccessIDs.random()
    ) throws -> (entry: EncryptedDataEntry, token: [UInt8]) {
        try check(policy, lot: lot, product: product, stage: stage, level: level)
        let token = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let d = try CPABE.encrypt(
            token, policy: SubjectSlots.tokenPolicy(of: policy), publicParameters: parameters.tokenEncryption)
        let e = ABSE.encrypt(
            keyword: AccessKeyword.keyword(product: product, lot: lot, stage: stage, level: level),
            token: d.serialized, prepared: try parameters.preparedPolicy(SubjectSlots.conditions(of: policy)))
        let entry = EncryptedDataEntry(
            dataID: dataID, lot: lot, level: level, window: policy.window, actions: policy.actions,
            searchableCiphertext: e.serialized, tokenDigest: Digest32.sha256(token))
        return (entry, token)
    }

    /// A policy protects the one lot and level it is attached to: its object conditions must
    /// name them (or be wildcards, filled from the ledger).
    static func check(_ policy: AccessPolicy, lot: String, product: String, stage: Stage, level: ABAC.Sensitivity)
        throws
    {
        func mismatch(_ attribute: String, _ wrote: String, _ actual: String) -> AccessFlowError {
            AccessFlowError(
                "policy \(policy.id): \(attribute) = \(wrote), but the data is \(actual); fix: write \(actual) or *")
        }
        if case .equals(let value) = policy.objectLot, value != lot { throw mismatch("object.lot", value, lot) }
        if case .equals(let value) = policy.objectProduct, value != product {
            throw mismatch("object.product", value, product)
        }
        if case .equals(let value) = policy.objectStage, value != stage {
            throw mismatch("object.stage", value.rawValue, stage.rawValue)
        }
        if case .equals(let value) = policy.objectLevel, value != level {
            throw mismatch("object.level", value.rawValue, level.rawValue)
        }
    }
}

/// Random ids for requests and entries: 128 bits as 32 lower-case hex characters.
public enum AccessIDs {
    public static func random() -> String {
        (0..<16).map { _ in UInt8.random(in: 0...255) }.hexString
    }
}
