import Hummingbird
import Ledger

/// API routes the console's ledger page pages through (public ledger data, like the rest of
/// `/v1/`): `GET /v1/blocks?before=&limit=` (newest first) and `GET /v1/principals?after=&limit=`;
/// the owner page's `GET /v1/access/grants?owner=` (the owner's granted requests, revoked or
/// not, as `agritrace grants list` shows them); and the regulator page's
/// `GET /v1/access/provenance?lot=` (where a lot's private data went: redemptions, transfers,
/// reads and revocations, as `agritrace provenance` shows them; no private value is in them).
enum ConsoleDataRoutes {
    static func add(to router: Router<GatewayRequestContext>, reader: StoreReader) {
        router.get("/v1/blocks") { request, _ in
            let query = request.uri.queryParameters
            let before = try QueryParameter.integer("before", of: query, in: 0...QueryParameter.largest)
            let limit = try QueryParameter.integer("limit", of: query, in: 1...500) ?? 20
            return try await reader.read { try JSON(LedgerQueries(store: $0).blocks(before: before, limit: limit)) }
        }
        router.get("/v1/principals") { request, _ in
            let after = request.uri.queryParameters.get("after")
            let limit = try QueryParameter.integer("limit", of: request.uri.queryParameters, in: 1...1000) ?? 100
            return try await reader.read { try JSON(LedgerQueries(store: $0).principals(after: after, limit: limit)) }
        }
        router.get("/v1/access/grants") { request, _ in
            guard let owner = request.uri.queryParameters.get("owner") else {
                throw HTTPError(.badRequest, message: "give ?owner=<principal> (the grants of that owner)")
            }
            return try await reader.read { try JSON(LedgerQueries(store: $0).grants(owner: owner)) }
        }
        router.get("/v1/access/provenance") { request, _ in
            guard let lot = request.uri.queryParameters.get("lot") else {
                throw HTTPError(
                    .badRequest, message: "give ?lot=<lot> (the lot whose private data's provenance to list)")
            }
            return try await reader.read { try JSON(LedgerQueries(store: $0).provenance(lot: lot)) }
        }
    }
}
