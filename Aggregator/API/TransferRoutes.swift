import AgriTraceCore
import Foundation
import Hummingbird
import Ledger

/// The transfer routes a remote requester's `agritrace fetch --api` reads: the owner's transfer
/// for a redemption, the data keys re-wrapped to the requester, blob references and blobs.
/// Everything served is ciphertext or wrapped keys; the requester checks it against the ledger.
enum TransferRoutes {
    struct Keys: Codable { var keys: [String] }
    struct Reference: Codable { var blobID: String }
    struct Blob: Codable {
        var blob: String
        /// The whole blob's size (the piece is `blob`).
        var size: Int
    }

    /// The most bytes one blob read returns (4 MiB): larger blobs are read in pieces.
    static let maximumPiece = 4 << 20

    static func add(to router: Router<BasicRequestContext>, reader: StoreReader, blobs: BlobStore) {
        router.get("/v1/transfers") { request, _ in
            guard let leaf = request.uri.queryParameters.get("redeem-leaf", as: UInt64.self) else {
                throw HTTPError(.badRequest, message: "give ?redeem-leaf=<leaf of the redeem transaction>")
            }
            return try await reader.read { store in
                guard let row = try LedgerQueries(store: store).transfer(redeemLeaf: leaf) else {
                    throw LedgerStoreError.missing("transfer for redemption \(leaf) yet")
                }
                return try JSON(row)
            }
        }
        router.get("/v1/transfers/keys") { request, _ in
            guard let leaf = request.uri.queryParameters.get("redeem-leaf", as: UInt64.self) else {
                throw HTTPError(.badRequest, message: "give ?redeem-leaf=<leaf of the redeem transaction>")
            }
            return try await reader.read { store in
                try JSON(
                    Keys(
                        keys: try LedgerQueries(store: store).transferKeys(redeemLeaf: leaf).map {
                            Canonical.encode($0).hexString
                        }))
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
