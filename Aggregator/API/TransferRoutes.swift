import AgriTraceCore
import Blobs
import Foundation
import Hummingbird
import Ledger

/// The transfer routes a remote requester's `agritrace fetch --api` reads: the owner's transfer
/// for a redemption, the data keys re-wrapped to the requester, blob references and blobs.
/// Everything served is ciphertext or wrapped keys; the requester checks it against the ledger.
/// The owner's remote `agritrace transfer serve --api` lists its open redemptions and its
/// blobs' reference leaves (it verifies each leaf against a signed tree head) and delivers the
/// re-wrapped keys, signed (``TransferKeyInbox``).
enum TransferRoutes {
    struct Keys: Codable { var keys: [String] }
    struct Reference: Codable { var blobID: String }
    /// A blob reference's leaf, for the owner to verify (`/v1/blobs/owned`).
    struct ReferenceLeaf: Codable {
        var leafIndex: UInt64
        var recordID: String
        var blobID: String
    }
    struct Delivered: Codable { var stored: Int }
    struct Blob: Codable {
        var blob: String
        /// The whole blob's size (the piece is `blob`).
        var size: Int
    }

    /// The most bytes one blob read returns (4 MiB): larger blobs are read in pieces.
    static let maximumPiece = 4 << 20

    static func add(
        to router: Router<GatewayRequestContext>, reader: StoreReader, blobs: BlobStore, submissions: SubmissionQueue
    ) {
        addTransfers(to: router, reader: reader, submissions: submissions)
        addBlobs(to: router, reader: reader, blobs: blobs)
    }

    /// Open transfers, the wrapped keys sent and fetched, and the transfer list.
    static func addTransfers(
        to router: Router<GatewayRequestContext>, reader: StoreReader, submissions: SubmissionQueue
    ) {
        router.get("/v1/transfers/open") { request, _ in
            guard let owner = request.uri.queryParameters.get("owner") else {
                throw HTTPError(
                    .badRequest, message: "give ?owner=<the entries' owner principal>[&after=<redeem leaf>]")
            }
            let after = try QueryParameter.integer(
                "after", of: request.uri.queryParameters, in: 0...QueryParameter.largest)
            return try await reader.read {
                try JSON(LedgerQueries(store: $0).openRedemptionLeaves(owner: owner, after: after))
            }
        }
        router.post("/v1/transfers/keys") { request, _ in
            let body = try await request.body.collect(upTo: 8 << 20)
            do {
                return try JSON(Delivered(stored: try await submissions.deliver([UInt8](buffer: body))))
            } catch let refusal as TransferKeyInbox.Refusal {
                switch refusal.kind {
                case .malformed: throw HTTPError(.badRequest, message: refusal.description)
                case .forbidden: throw HTTPError(.forbidden, message: refusal.description)
                case .conflict: throw HTTPError(.conflict, message: refusal.description)
                }
            }
        }
        router.get("/v1/audit/transfers") { request, _ in
            let hours = try QueryParameter.integer(
                "deadline-hours", of: request.uri.queryParameters, in: Int64(1)...8784)
            return try await reader.read {
                try JSON(
                    LedgerQueries(store: $0).transferCompletions(
                        deadline: (hours ?? 72) * 3_600_000))
            }
        }
        router.get("/v1/transfers") { request, _ in
            let leaf = try QueryParameter.redeemLeaf(of: request.uri.queryParameters)
            try await refuseBlockedRequester(redeemLeaf: leaf, reader: reader)
            return try await reader.read { store in
                guard let row = try LedgerQueries(store: store).transfer(redeemLeaf: leaf) else {
                    throw LedgerStoreError.missing("transfer for redemption \(leaf) yet")
                }
                return try JSON(row)
            }
        }
        router.get("/v1/transfers/keys") { request, _ in
            let leaf = try QueryParameter.redeemLeaf(of: request.uri.queryParameters)
            try await refuseBlockedRequester(redeemLeaf: leaf, reader: reader)
            return try await reader.read { store in
                try JSON(
                    Keys(
                        keys: try LedgerQueries(store: store).transferKeys(redeemLeaf: leaf).map {
                            Canonical.encode($0).hexString
                        }))
            }
        }
    }

    /// Refuses a fetch (403) while the requester of the redemption at `redeemLeaf` is
    /// blacklisted (the observed address is checked by ``AccessGateMiddleware``), or once the
    /// grant it redeemed is outside its effective period (docs/governance.md).
    static func refuseBlockedRequester(redeemLeaf: UInt64, reader: StoreReader) async throws {
        let redemption = try await reader.read { try LedgerQueries(store: $0).redemption(leaf: redeemLeaf) }
        guard let redemption else { return }
        try await AccessGateway.refuseBlocked([.principal(redemption.requester)], reader: reader)
        let now = Timestamp.now()
        let problem = try await reader.read {
            try LedgerQueries(store: $0).grantPeriodProblem(redemption.requestID, at: now)
        }
        if let problem { throw HTTPError(.forbidden, message: problem) }
    }

    /// The blobs an owner holds, a record's blob reference, and blob downloads.
    static func addBlobs(to router: Router<GatewayRequestContext>, reader: StoreReader, blobs: BlobStore) {
        router.get("/v1/blobs/owned") { request, _ in
            guard let lot = request.uri.queryParameters.get("lot"),
                let level = request.uri.queryParameters.get("level").flatMap(PrivacyLevel.init(rawValue:))
            else { throw HTTPError(.badRequest, message: "give ?lot=<lot>&level=level-2|level-1") }
            return try await reader.read { store in
                try JSON(
                    try LedgerQueries(store: store).blobs(lot: lot, level: level).map {
                        ReferenceLeaf(leafIndex: $0.leafIndex, recordID: $0.recordID.hex, blobID: $0.blobID.hex)
                    })
            }
        }
        router.get("/v1/blobs/reference") { request, _ in
            guard let id = request.uri.queryParameters.get("record").flatMap(RecordID.init(hex:)),
                let level = request.uri.queryParameters.get("level").flatMap(PrivacyLevel.init(rawValue:))
            else { throw HTTPError(.badRequest, message: "give ?record=<32 hex>&level=level-2|level-1") }
            return try await reader.read { store in
                guard let row = try LedgerQueries(store: store).blob(record: id, level: level) else {
                    throw LedgerStoreError.missing("blob of record \(id.hex) \(level.rawValue)")
                }
                return try JSON(Reference(blobID: row.blobID.hex))
            }
        }
        router.get("/v1/blobs/:id") { request, context in
            guard let id = Digest32(hex: try context.parameters.require("id")) else {
                throw HTTPError(.badRequest, message: "the blob id is 64 hex characters")
            }
            guard let size = try? blobs.size(of: id) else { throw HTTPError(.notFound, message: "no blob \(id.hex)") }
            let offset = request.uri.queryParameters.get("offset", as: Int.self) ?? 0
            let length = request.uri.queryParameters.get("length", as: Int.self) ?? size
            guard offset >= 0, offset <= size, length >= 0 else {
                throw HTTPError(.badRequest, message: "give ?offset=<0...\(size)>&length=<bytes>")
            }
            guard length <= maximumPiece || (offset == 0 && size <= maximumPiece) else {
                throw HTTPError(
                    .badRequest,
                    message:
                        "blob \(id.hex) has \(size) bytes: read it in pieces of at most \(maximumPiece) with ?offset=&length="
                )
            }
            do {
                return try JSON(Blob(blob: try blobs.read(id, offset: offset, length: length).hexString, size: size))
            } catch {
                throw HTTPError(.notFound, message: "no blob \(id.hex)")
            }
        }
    }
}
