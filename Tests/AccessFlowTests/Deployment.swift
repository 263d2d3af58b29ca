import AccessCrypto
import AccessFlow
import AccessTestSupport
import AgriTraceCore
import Crypto
import Foundation
import Ledger
import TestSupport
import Testing

/// The worked example's deployment (``AccessDeployment``) with one record of the lot, and the
/// requester's side of the access flow.
final class Deployment: AccessDeployment {
    /// The worked example's policy.
    static let policyText = WorkedExample.policy()

    init() throws {
        let reading = Reading(
            stage: .planting, lot: Self.lot, product: Self.product, time: Timestamp(milliseconds: 1_770_000_000_000),
            inputLots: [], fields: ["planting.variety": .text("sweet corn"), "planting.cost_price": .number(3.5)])
        let record = Self.classifier.classify(reading, sequence: 1, bootID: "boot", recordedAt: reading.time).record
        try super.init(directory: try TemporaryDirectory(prefix: "access-flow"), records: [record])
    }

    /// The owner protects the lot's level-2 data under `text`'s policy. Returns the entry and token.
    @discardableResult
    func protect(_ text: String = Deployment.policyText, level: ABAC.Sensitivity = .level2) throws -> (
        entry: EncryptedDataEntry, token: [UInt8]
    ) {
        try protectLot(text, level: level)
    }

    /// A deployment whose lot the owner protected under the worked example's policy, and the
    /// worked example's requester enrolled in it.
    static func protectedWithRequester() throws -> (Deployment, RequesterKeys) {
        let deployment = try Deployment()
        try deployment.protect()
        return (deployment, try deployment.enrollRequester(Deployment.requesterGrant))
    }

    /// A requester asks for the lot (trapdoor sealed to the regulator) through the access
    /// gateway, which observes `observedAddress` (by default `source`); returns the request id and its status
    /// right after the decision contract ran.
    func request(
        _ keys: RequesterKeys, source: String = "10.0.0.7", product: String = Deployment.product,
        lot: String = Deployment.lot, level: ABAC.Sensitivity = .level2, action: ABAC.Action = .read,
        observedAddress: String? = nil
    ) throws -> AccessRequestRow {
        let parameters = try #require(try queries.accessParameters()).parameters
        let request = try keys.trapdoorRequest(
            lot: lot, product: product, stage: .planting, level: level, action: action, source: source,
            parameters: parameters)
        try submit(keys.grant.principal, .addTrapdoor(request), observedAddress: observedAddress ?? source)
        try cut()
        return try #require(try queries.accessRequest(request.requestID))
    }

    /// Publishes the rules, enrolls the worked example's requester (attributes granted) and
    /// registers `Firm/li@ZS123` without attributes, and protects the lot: the state the
    /// decision and punishment property tests start from. Returns both requesters' keys.
    func twoRequesters(maximumStrikes: Int, blockMinutes: Int64, trapdoorsPerMinute: UInt32) throws -> (
        granted: RequesterKeys, unattributed: RequesterKeys
    ) {
        let parameters = secrets.publicParameters(
            maximumStrikes: UInt32(maximumStrikes), blockMinutes: blockMinutes, trapdoorsPerMinute: trapdoorsPerMinute)
        try submit(Deployment.regulator, .publishParameters(parameters))
        try cut()
        let granted = try enrollRequester(Deployment.requesterGrant)
        var bare = Deployment.requesterGrant
        bare.principal = "Firm/li@ZS123"
        try register(bare.principal, kind: .firm, enterprise: "ZS123", role: bare.role.rawValue, stage: .processing)
        try cut()
        let unattributed = try secrets.issueKeys(for: bare)
        try protect()
        return (granted, unattributed)
    }

    /// Enrolls the worked example's requester's attributes under another principal of another
    /// enterprise: attributed, but outside the policy's `subject.enterprise` (ZS123).
    func enrollOutsider(_ principal: String, enterprise: String) throws -> RequesterKeys {
        var grant = Deployment.requesterGrant
        grant.principal = principal
        grant.enterprise = enterprise
        return try enrollRequester(grant)
    }

    /// Request, match, and the final row.
    func requestAndMatch(_ keys: RequesterKeys, source: String = "10.0.0.7", product: String = Deployment.product)
        throws -> AccessRequestRow
    {
        let first = try request(keys, source: source, product: product)
        guard first.status == .pending else { return first }
        try runMatcher()
        return try #require(try queries.accessRequest(first.requestID))
    }

    /// Advances the test clock.
    func advance(minutes: Int64) { clock = Timestamp(milliseconds: clock.milliseconds + minutes * 60_000) }
}
