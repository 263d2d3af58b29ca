import AgriTraceCore
import Crypto
import Foundation
import Hummingbird
import Ledger

/// The owner page's revocations, signed in the browser: the owner's private key never leaves
/// the owner's machine, so the server only prepares and assembles.
///
/// 1. `POST /console/owner/revocations` `{kind, id, reason}` (CSRF token): the server checks that
///    the signed-in principal owns the grant (``Kind/grant``, `revokeGrant`) or the policy entry
///    (``Kind/policy``, `revokeEncryptedData`) and that it is still in force, and answers the
///    canonical transaction and the exact bytes to sign (`agritrace/v1/sig/transaction` then the
///    transaction).
/// 2. The page signs those bytes with WebCrypto Ed25519 under the key file the user picks (read
///    locally; never sent).
/// 3. `POST /console/owner/revocations/signed` `{transaction, signature}` (CSRF token): the server
///    checks the signature under the principal's registered key and the transaction again
///    (freshness, submitter, operation, ownership), and queues the signed transaction in the store's
///    submission queue, the path `POST /v1/transactions` and the CLI's `grants revoke` /
///    `policy revoke` use; `serve` admits and orders it like any other. The page follows
///    `/v1/submissions/{id}` to the leaf.
enum ConsoleRevocations {
    /// What is revoked.
    enum Kind: String, Codable, Sendable {
        /// A granted request (`grants revoke`): later redemptions are refused.
        case grant
        /// An encrypted-data entry under a hidden policy (`policy revoke`): later requests do not match it.
        case policy
    }

    /// A prepared transaction is accepted back for this long (seconds).
    static let freshness: Int64 = 600

    struct Preparation: Codable, Sendable {
        var kind: Kind
        var id: String
        var reason: String?
    }

    struct Prepared: Codable, Sendable {
        /// The canonical `AccessTransaction`, hex.
        var transaction: String
        /// The bytes the owner's key signs, hex.
        var message: String
        var method: String
    }

    struct Signature: Codable, Sendable {
        var transaction: String
        var signature: String
    }

    static func add(
        to router: Router<GatewayRequestContext>, gate: ConsoleGate, reader: StoreReader, submissions: SubmissionQueue
    ) {
        router.post("/console/owner/revocations") { request, _ in
            let session = try await gate.requireWithCSRF(request)
            let asked = try await decode(Preparation.self, request, shape: "{kind: grant|policy, id, reason}")
            let reason = asked.reason?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            let operation: AccessTransaction.Operation =
                switch asked.kind {
                case .grant: .revokeGrant(requestID: asked.id, reason: reason.isEmpty ? "revoked by the owner" : reason)
                case .policy:
                    .revokeEncryptedData(dataID: asked.id, reason: reason.isEmpty ? "revoked by the owner" : reason)
                }
            let transaction = AccessTransaction(submitter: session.principal, operation: operation)
            try await checkOwnership(transaction, session: session, reader: reader)
            return ConsoleResponse.json(
                Prepared(
                    transaction: Canonical.encode(transaction).hexString,
                    message: Signed<AccessTransaction>.message(transaction, domain: .transaction).hexString,
                    method: transaction.method))
        }
        router.post("/console/owner/revocations/signed") { request, _ in
            let session = try await gate.requireWithCSRF(request)
            let sent = try await decode(Signature.self, request, shape: "{transaction, signature}, both hex")
            let signed = try signedTransaction(sent)
            try await checkSignature(signed, principal: session.principal, reader: reader)
            try await checkOwnership(signed.value, session: session, reader: reader)
            let submission = try await submissions.submit(Canonical.encode(signed), kind: .access)
            standardError(
                "agritrace api: console: \(session.principal) submitted \(signed.value.method) (submission \(submission))"
            )
            return ConsoleResponse.json(AccessRoutes.SubmissionAnswer(submission: submission))
        }
    }

    /// The request's JSON body; a 400 naming the expected `shape` otherwise.
    static func decode<Value: Decodable>(_ type: Value.Type, _ request: Request, shape: String) async throws -> Value {
        let body = try await request.body.collect(upTo: 64 << 10)
        guard let value = try? JSONDecoder().decode(type, from: Data([UInt8](buffer: body))) else {
            throw ConsoleRefusal.badRequest("the body is not the JSON the owner page sends (\(shape))")
        }
        return value
    }

    /// The signed transaction from the page's answer; refuses what is not a fresh revocation.
    static func signedTransaction(_ sent: Signature) throws -> Signed<AccessTransaction> {
        guard let bytes = [UInt8](hexString: sent.transaction),
            let transaction = try? Canonical.decode(AccessTransaction.self, from: bytes)
        else { throw ConsoleRefusal.badRequest("transaction is not a canonical access transaction in hex") }
        guard let signature = [UInt8](hexString: sent.signature), signature.count == 64 else {
            throw ConsoleRefusal.badRequest("signature is not 64 bytes of an Ed25519 signature in hex")
        }
        let age = (Timestamp.now().milliseconds - transaction.submittedAt.milliseconds) / 1000
        guard (-60...freshness).contains(age) else {
            throw ConsoleRefusal.badRequest(
                "the prepared transaction is \(age) s old; prepare the revocation again (it is accepted for \(freshness) s)"
            )
        }
        return Signed(value: transaction, signature: signature)
    }

    /// The submitter is the signed-in principal, the operation a revocation of something it owns
    /// and that is still in force; otherwise 403 naming which.
    static func checkOwnership(_ transaction: AccessTransaction, session: ConsoleSession, reader: StoreReader)
        async throws
    {
        guard transaction.submitter == session.principal else {
            throw ConsoleRefusal.forbidden(
                "the transaction's submitter \(transaction.submitter) is not the signed-in \(session.principal)")
        }
        let owner = session.principal
        switch transaction.operation {
        case .revokeGrant(let requestID, _):
            let grants = try await reader.read { try LedgerQueries(store: $0).grants(owner: owner) }
            guard let grant = grants.first(where: { $0.requestID == requestID }) else {
                throw ConsoleRefusal.forbidden("\(owner) granted no request \(requestID) (see the owner page's grants)")
            }
            guard !grant.revoked else { throw ConsoleRefusal.forbidden("grant \(requestID) is already revoked") }
        case .revokeEncryptedData(let dataID, _):
            let entries = try await reader.read { try LedgerQueries(store: $0).encryptedData(owner: owner) }
            guard let entry = entries.first(where: { $0.dataID == dataID }) else {
                throw ConsoleRefusal.forbidden("\(owner) owns no protected entry \(dataID)")
            }
            guard entry.status == .active else {
                throw ConsoleRefusal.forbidden("entry \(dataID) is \(entry.status.rawValue), not active")
            }
        default:
            throw ConsoleRefusal.forbidden("the console only submits revokeGrant and revokeEncryptedData")
        }
    }

    /// The signature verifies under the principal's registered, active key; otherwise 403.
    static func checkSignature(_ signed: Signed<AccessTransaction>, principal: String, reader: StoreReader)
        async throws
    {
        let row = try await reader.read { try LedgerQueries(store: $0).principal(principal) }
        guard let row, row.status == .active, let raw = [UInt8](hexString: row.publicKey),
            let key = try? Curve25519.Signing.PublicKey(rawBytes: raw)
        else { throw ConsoleRefusal.forbidden("\(principal) has no active registered key") }
        guard signed.isValid(domain: .transaction, key: key) else {
            throw ConsoleRefusal.forbidden(
                "the signature does not verify under \(principal)'s registered key; choose that principal's key file (from `agritrace keygen`)"
            )
        }
    }
}
