import AgriTraceCore
import Foundation
import Ledger
import LedgerAPI
import LedgerClient

/// Where the access commands read the ledger and submit transactions: the store on the
/// server itself (`--store`), or the server's API (`--api URL`) from anywhere.
struct AccessLedger {
    let options: StoreOptions

    /// A pending request with what TEST needs.
    struct Pending {
        var row: AccessRequestRow
        var trapdoor: SealedMessage
        var candidates: [(dataID: String, ciphertext: [UInt8])]
    }

    private func queries() throws -> LedgerQueries { try options.queries() }

    func parameters() async throws -> AccessParameters {
        if let api = options.api {
            let answer: AccessRoutes.ParametersAnswer
            do {
                answer = try await APIClient.get(api, "/v1/access/parameters")
            } catch {
                throw UserError(
                    "the regulator has not published its parameters yet (agritrace regulator setup), or \(error)")
            }
            guard let bytes = [UInt8](hexString: answer.parameters),
                let parameters = try? Canonical.decode(AccessParameters.self, from: bytes)
            else { throw UserError("\(api) answered malformed access parameters") }
            return parameters
        }
        return try accessParameters(try queries())
    }

    func lotSummary(_ lot: String) async throws -> LotSummary? {
        if let api = options.api {
            guard
                let answer: AccessRoutes.LotAnswer = try? await APIClient.get(
                    api, "/v1/access/lots/\(Self.escape(lot))"),
                let stage = Stage(name: answer.stage)
            else { return nil }
            return LotSummary(product: answer.product, stage: stage, enterprise: answer.enterprise)
        }
        return try queries().lotSummary(lot)
    }

    func request(_ id: String) async throws -> AccessRequestRow? {
        if let api = options.api { return try? await APIClient.get(api, "/v1/access/requests/\(id)") }
        return try queries().accessRequest(id)
    }

    /// Pending requests with their candidates; with `after`, only requests after that leaf.
    func pending(after leaf: UInt64? = nil) async throws -> [Pending] {
        if let api = options.api {
            let answers: [AccessRoutes.PendingAnswer] = try await APIClient.get(
                api, "/v1/access/pending", query: ["after": leaf.map { String($0) }])
            return try answers.map { answer in
                guard let sealed = [UInt8](hexString: answer.sealedTrapdoor),
                    let trapdoor = try? Canonical.decode(SealedMessage.self, from: sealed)
                else { throw UserError("\(api) answered a malformed trapdoor") }
                return Pending(
                    row: answer.request, trapdoor: trapdoor,
                    candidates: answer.candidates.compactMap { candidate in
                        [UInt8](hexString: candidate.ciphertext).map { (candidate.dataID, $0) }
                    })
            }
        }
        let queries = try queries()
        return try queries.pendingRequests(after: leaf).map { row, trapdoor in
            Pending(row: row, trapdoor: trapdoor, candidates: try queries.candidates(lot: row.lot, level: row.level))
        }
    }

    /// Submits a signed access transaction's canonical bytes and waits up to `wait` seconds for
    /// the block.
    func submit(_ bytes: [UInt8], wait: Double) async throws -> Submitter.Answer {
        guard let api = options.api else {
            return try Submitter.submit(bytes: bytes, kind: .access, options: options, wait: wait)
        }
        let data = try await APIClient.post(api, "/v1/transactions", body: Data(bytes))
        guard let submitted = try? JSONDecoder().decode(AccessRoutes.SubmissionAnswer.self, from: data) else {
            throw UserError(
                "\(api) did not accept the transaction: \(String(decoding: data.prefix(300), as: UTF8.self))")
        }
        var state: AccessRoutes.SubmissionState = try await APIClient.get(
            api, "/v1/submissions/\(submitted.submission)")
        let deadline = Date().addingTimeInterval(wait)
        while state.status == .pending && Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
            state = try await APIClient.get(api, "/v1/submissions/\(submitted.submission)")
        }
        var answer = Submitter.Answer(
            submission: submitted.submission, status: state.status, reason: state.reason, leafIndex: state.leafIndex)
        if let leaf = state.leafIndex {
            let events: [AccessEventRow] = try await APIClient.get(
                api, "/v1/access/events", query: ["leaf": String(leaf)])
            answer.outcome = events.first?.outcome
            answer.detail = events.first?.detail
        }
        return answer
    }

    // MARK: Audit reads. Proofs from the API are checked here again (the audit path from
    // the leaf hash to the root it names); check the root itself against a signed tree head
    // with `agritrace tree-head` and `verify-proof`.
    func blacklist() async throws -> [BlacklistRow] {
        try await options.read("/v1/access/blacklist") { try queries().blacklist() }
    }

    func requests(lot: String?, requester: String?) async throws -> [AccessRequestRow] {
        try await options.read("/v1/access/requests", query: ["lot": lot, "requester": requester]) {
            try queries().accessRequests(lot: lot, requester: requester)
        }
    }

    func proof(_ leaf: UInt64) async throws -> LeafProof {
        guard let api = options.api else {
            return try queries().leafProof(leaf)
        }
        var proof: LeafProof = try await APIClient.get(api, "/v1/leaves/\(leaf)/proof")
        let path = proof.proof.compactMap(Digest32.init(hex:))
        if let leafHash = Digest32(hex: proof.leafHash), let root = Digest32(hex: proof.root),
            path.count == proof.proof.count
        {
            proof.verified =
                (try? MerkleTree.verifyInclusion(
                    leafHash: leafHash, index: leaf, treeSize: proof.treeSize, proof: path, root: root)) != nil
        } else {
            proof.verified = false
        }
        return proof
    }

    /// Each audit row with the proof of its leaf (`leaf`), as `{"entry": …, "proof": …}`.
    func proved<Entry: Encodable>(_ entries: [Entry], leaf: (Entry) -> UInt64) async throws -> [Proved<Entry>] {
        var rows: [Proved<Entry>] = []
        for entry in entries { rows.append(Proved(entry: entry, proof: try await proof(leaf(entry)))) }
        return rows
    }

    /// An audit row and the inclusion proof of its leaf.
    struct Proved<Entry: Encodable>: Encodable {
        var entry: Entry
        var proof: LeafProof
    }

    func events(method: String?) async throws -> [AccessEventRow] {
        try await options.read("/v1/access/events", query: ["method": method]) {
            try queries().accessEvents(method: method)
        }
    }

    func entries(owner: String?, lot: String?) async throws -> [EncryptedDataRow] {
        try await options.read("/v1/access/entries", query: ["owner": owner, "lot": lot]) {
            try queries().encryptedData(owner: owner, lot: lot)
        }
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? text
    }
}
