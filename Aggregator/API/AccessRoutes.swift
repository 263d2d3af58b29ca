import AgriTraceCore
import Blobs
import Foundation
import Hummingbird
import Ledger

/// The access-control routes: submitting signed transactions (the only write the API
/// accepts: it queues them for `serve`, which checks them like any other), and reading the
/// access state the CLI's `request`, `regulator match`, `policy` and `audit` need.
public enum AccessRoutes {
    static func add(
        to router: Router<GatewayRequestContext>, reader: StoreReader, submissions: SubmissionQueue,
        gateway: AccessGateway
    ) {
        addSubmissions(to: router, reader: reader, submissions: submissions, gateway: gateway)
        addAccessState(to: router, reader: reader)
        addLeaves(to: router, reader: reader)
    }

    /// Signed transactions in (`POST /v1/transactions`) and their outcome. An access
    /// transaction is queued with the address the gateway observed; a requester's step (a
    /// request, a redemption, a read report) is refused at once while that address or the
    /// submitting principal is blacklisted.
    static func addSubmissions(
        to router: Router<GatewayRequestContext>, reader: StoreReader, submissions: SubmissionQueue,
        gateway: AccessGateway
    ) {
        router.post("/v1/transactions") { request, context in
            let body = try await request.body.collect(upTo: 2 << 20)
            let bytes = [UInt8](buffer: body)
            guard let kind = submittedKind(bytes) else {
                throw HTTPError(
                    .badRequest,
                    message:
                        "the body is not a canonical signed access or registry transaction (application/octet-stream)")
            }
            guard kind == .access else {
                return try JSON(SubmissionAnswer(submission: try await submissions.submit(bytes, kind: kind)))
            }
            let address = try gateway.observedAddress(request, context: context)
            let signed = try Canonical.decode(Signed<AccessTransaction>.self, from: bytes)
            if isRequesterStep(signed.value.operation) {
                try await AccessGateway.refuseBlocked(
                    Decision.subjects(requester: signed.value.submitter, address: address), reader: reader)
            }
            return try JSON(
                SubmissionAnswer(submission: try await submissions.submit(bytes, kind: kind, observedAddress: address)))
        }
        router.get("/v1/submissions/:id") { _, context in
            guard let id = Int64(try context.parameters.require("id")) else {
                throw HTTPError(.badRequest, message: "the submission id is a number")
            }
            return try await reader.read { store in
                let state = try store.submissionStatus(id)
                return try JSON(SubmissionState(status: state.status, reason: state.reason, leafIndex: state.leafIndex))
            }
        }
    }

    /// A directory search's filter from the query; a value that is not what the route takes
    /// is a 400 naming the parameter.
    static func directoryFilter(_ query: Parameters) throws -> LedgerQueries.DirectoryFilter {
        LedgerQueries.DirectoryFilter(
            product: query.get("product"), stage: try QueryParameter.stage(of: query),
            enterprise: query.get("enterprise"), since: try QueryParameter.time("since", of: query),
            until: try QueryParameter.time("until", of: query))
    }

    /// The operations a requester takes to reach data: the gateway refuses them while the
    /// requester or its address is blacklisted.
    static func isRequesterStep(_ operation: AccessTransaction.Operation) -> Bool {
        switch operation {
        case .addTrapdoor, .redeem, .recordRead: true
        default: false
        }
    }

    /// The kind of a body posted to `/v1/transactions`: clients post the bare signed
    /// transaction, so the route tells an access transaction from a registry one here, once,
    /// and the queue keeps the kind. Nil when it is neither.
    static func submittedKind(_ bytes: [UInt8]) -> SubmissionKind? {
        if (try? Canonical.decode(Signed<AccessTransaction>.self, from: bytes)) != nil { return .access }
        if (try? Canonical.decode(Signed<RegistryTransaction>.self, from: bytes)) != nil { return .registry }
        return nil
    }

    /// The access-control state: parameters, lots, requests, entries, the blacklist, events.
    static func addAccessState(to router: Router<GatewayRequestContext>, reader: StoreReader) {
        router.get("/v1/access/parameters") { _, _ in
            try await reader.read { store in
                guard let found = try LedgerQueries(store: store).accessParameters() else {
                    throw LedgerStoreError.missing("published access parameters")
                }
                return try JSON(
                    ParametersAnswer(
                        regulator: found.regulator, parameters: Canonical.encode(found.parameters).hexString))
            }
        }
        router.get("/v1/access/lots/:lot") { _, context in
            let lot = try context.parameters.require("lot")
            return try await reader.read { store in
                guard let summary = try LedgerQueries(store: store).lotSummary(lot) else {
                    throw LedgerStoreError.missing("lot \(lot)")
                }
                return try JSON(
                    LotAnswer(product: summary.product, stage: summary.stage.rawValue, enterprise: summary.enterprise))
            }
        }
        router.get("/v1/access/requests/:id") { _, context in
            let id = try context.parameters.require("id")
            return try await reader.read { store in
                guard let row = try LedgerQueries(store: store).accessRequest(id) else {
                    throw LedgerStoreError.missing("request \(id)")
                }
                return try JSON(row)
            }
        }
        addAccessLists(to: router, reader: reader)
        addGovernanceLists(to: router, reader: reader)
    }

    /// The access-control lists: requests, pending requests with their candidates, entries,
    /// the blacklist, events.
    static func addAccessLists(to router: Router<GatewayRequestContext>, reader: StoreReader) {
        router.get("/v1/access/requests") { request, _ in
            let lot = request.uri.queryParameters.get("lot")
            let requester = request.uri.queryParameters.get("requester")
            return try await reader.read {
                try JSON(LedgerQueries(store: $0).accessRequests(lot: lot, requester: requester))
            }
        }
        router.get("/v1/access/pending") { request, _ in
            let after = try QueryParameter.integer(
                "after", of: request.uri.queryParameters, in: 0...QueryParameter.largest)
            return try await reader.read { store in
                let queries = LedgerQueries(store: store)
                return try JSON(
                    try queries.pendingRequests(after: after).map { row, sealed in
                        PendingAnswer(
                            request: row, sealedTrapdoor: Canonical.encode(sealed).hexString,
                            candidates: try queries.candidates(lot: row.lot, level: row.level).map {
                                Candidate(dataID: $0.dataID, ciphertext: $0.ciphertext.hexString)
                            })
                    })
            }
        }
        router.get("/v1/access/entries") { request, _ in
            let owner = request.uri.queryParameters.get("owner")
            let lot = request.uri.queryParameters.get("lot")
            return try await reader.read { try JSON(LedgerQueries(store: $0).encryptedData(owner: owner, lot: lot)) }
        }
        router.get("/v1/access/blacklist") { _, _ in
            try await reader.read { try JSON(LedgerQueries(store: $0).blacklist()) }
        }
        router.get("/v1/access/events") { request, _ in
            let method = request.uri.queryParameters.get("method")
            let leaf = try QueryParameter.integer(
                "leaf", of: request.uri.queryParameters, in: 0...QueryParameter.largest)
            return try await reader.read { try JSON(LedgerQueries(store: $0).accessEvents(method: method, leaf: leaf)) }
        }
    }

    /// The governance lists (docs/governance.md): the resource directory, corrections, credit,
    /// whitelists, violations, a principal's history, what expires when.
    static func addGovernanceLists(to router: Router<GatewayRequestContext>, reader: StoreReader) {
        router.get("/v1/directory") { request, _ in
            let filter = try directoryFilter(request.uri.queryParameters)
            return try await reader.read { try JSON(LedgerQueries(store: $0).directory(filter)) }
        }
        router.get("/v1/access/corrections") { request, _ in
            let lot = request.uri.queryParameters.get("lot")
            return try await reader.read { try JSON(LedgerQueries(store: $0).corrections(lot: lot)) }
        }
        router.get("/v1/access/credit") { _, _ in
            try await reader.read { try JSON(LedgerQueries(store: $0).credit()) }
        }
        router.get("/v1/access/whitelist") { request, _ in
            let lot = request.uri.queryParameters.get("lot")
            return try await reader.read { try JSON(LedgerQueries(store: $0).whitelist(lot: lot)) }
        }
        router.get("/v1/access/violations") { request, _ in
            let offender = request.uri.queryParameters.get("offender")
            return try await reader.read { try JSON(LedgerQueries(store: $0).violations(offender: offender)) }
        }
        router.get("/v1/access/history") { request, _ in
            guard let principal = request.uri.queryParameters.get("principal") else {
                throw HTTPError(.badRequest, message: "give ?principal=<name> (whose thread to list)")
            }
            return try await reader.read { try JSON(LedgerQueries(store: $0).history(principal: principal)) }
        }
        router.get("/v1/access/expiries") { _, _ in
            try await reader.read { try JSON(LedgerQueries(store: $0).expiries()) }
        }
    }

    /// Any ledger leaf with its inclusion proof.
    static func addLeaves(to router: Router<GatewayRequestContext>, reader: StoreReader) {
        router.get("/v1/leaves/:leaf/entry") { _, context in
            guard let leaf = UInt64(try context.parameters.require("leaf")), leaf <= QueryParameter.largest else {
                throw HTTPError(.badRequest, message: "the leaf index is a number from 0 to \(QueryParameter.largest)")
            }
            return try await reader.read { try JSON(LedgerQueries(store: $0).leafEntryProof(leaf)) }
        }
        router.get("/v1/leaves/:leaf/proof") { _, context in
            guard let leaf = UInt64(try context.parameters.require("leaf")), leaf <= QueryParameter.largest else {
                throw HTTPError(.badRequest, message: "the leaf index is a number from 0 to \(QueryParameter.largest)")
            }
            return try await reader.read { try JSON(LedgerQueries(store: $0).leafProof(leaf)) }
        }
    }

    /// The answer to a submission.
    public struct SubmissionAnswer: Codable, Sendable {
        public var submission: Int64
    }
    /// A submission's state.
    public struct SubmissionState: Codable, Sendable {
        public var status: SubmissionStatus
        public var reason: String?
        public var leafIndex: UInt64?
    }
    /// The regulator's parameters in force.
    public struct ParametersAnswer: Codable, Sendable {
        public var regulator: String
        /// The canonical ``AccessParameters`` in hex.
        public var parameters: String
    }
    /// A lot's public product, stage and enterprise.
    public struct LotAnswer: Codable, Sendable { public var product, stage, enterprise: String }
    /// An active entry a pending request is tested against.
    public struct Candidate: Codable, Sendable { public var dataID, ciphertext: String }
    /// A pending request with its sealed trapdoor and candidates.
    public struct PendingAnswer: Codable, Sendable {
        public var request: AccessRequestRow
        public var sealedTrapdoor: String
        public var candidates: [Candidate]
    }
}

/// The one writable connection the API holds: it appends to the submission queue and stores
/// owners' signed deliveries of re-wrapped keys.
actor SubmissionQueue {
    let store: LedgerStore

    init(path: String) throws { store = try LedgerStore(path: path) }

    func submit(_ bytes: [UInt8], kind: SubmissionKind, observedAddress: String? = nil) throws -> Int64 {
        try store.submit(bytes: bytes, kind: kind, observedAddress: observedAddress)
    }

    /// Checks and stores an owner's signed delivery of re-wrapped keys (``TransferKeyInbox``).
    func deliver(_ bytes: [UInt8]) throws -> Int { try TransferKeyInbox.accept(bytes, store: store) }
}
