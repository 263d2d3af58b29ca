import AgriTraceCore
import Exports
import Foundation
import HTTPTypes
import Hummingbird
import Ledger

/// The read side of the GS1 EPCIS 2.0 REST interface (docs/api/openapi.yaml, `EPCIS`):
/// `GET /epcis/events` (the `SimpleEventQuery` common parameters, pages linked by
/// `nextPageToken`) and `GET /epcis/events/{eventID}`. Every answer carries the
/// `GS1-EPCIS-Version` and `GS1-CBV-Version` headers; a request asking for another
/// `GS1-EPCIS-Version` gets 406. Events hold public fields and commitments only.
enum EPCISRoutes {
    static let epcisVersion = HTTPField.Name("GS1-EPCIS-Version")!
    static let cbvVersion = HTTPField.Name("GS1-CBV-Version")!
    static let link = HTTPField.Name("Link")!

    static func add(to router: Router<GatewayRequestContext>, reader: StoreReader, identifiers: GS1Identifiers) {
        router.get("/epcis/events") { request, _ in
            if let refused = refusedVersion(request) { return refused }
            let items = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
            do {
                let query = try EPCISQuery.parse(items)
                let page = try await reader.read { store in
                    try EPCISExporter(store: store, identifiers: identifiers).answer(query)
                }
                var response = answer(page.document())
                if let token = page.nextPageToken {
                    response.headers[link] = "<\(nextPage(request, token: token))>; rel=\"next\""
                }
                return response
            } catch let error as ExportError {
                return problem(.badRequest, "QueryParameterException", error.description)
            }
        }
        router.get("/epcis/events/:eventID") { request, context in
            if let refused = refusedVersion(request) { return refused }
            let text = try context.parameters.require("eventID")
            let eventID = text.removingPercentEncoding ?? text
            guard let id = EPCIS.recordID(ofEvent: eventID) else {
                return problem(.notFound, "NoSuchResourceException", "no event \(eventID) on this ledger")
            }
            do {
                let event = try await reader.read { store -> JSONOutput? in
                    let exporter = EPCISExporter(store: store, identifiers: identifiers)
                    return try exporter.record(id).map { try exporter.events([$0])[0] }
                }
                guard case .object(var members)? = event else {
                    return problem(.notFound, "NoSuchResourceException", "no event \(eventID) on this ledger")
                }
                members["@context"] = EPCIS.context
                return answer(.object(members))
            } catch let error as ExportError {
                return problem(.internalServerError, "ImplementationException", error.description)
            }
        }
    }

    /// `GET /v1/export/epcis` and `/v1/export/fsma204` (`agritrace export … --api`): a lot
    /// (`lot`, `direction`) or a window (`since`, `until`), as the commands take them.
    static func addExports(to router: Router<GatewayRequestContext>, reader: StoreReader, identifiers: GS1Identifiers) {
        router.get("/v1/export/epcis") { request, _ in
            do {
                let chosen = try Self.selection(request)
                let document = try await reader.read { store in
                    try EPCISExporter(store: store, identifiers: identifiers).document(chosen)
                }
                return ExportDownload.attach(answer(document), chosen, .epcis)
            } catch let error as ExportError {
                return problem(.badRequest, "QueryParameterException", error.description)
            }
        }
        router.get("/v1/export/fsma204") { request, _ in
            do {
                let chosen = try Self.selection(request)
                let bytes = try await reader.read { store in
                    try FSMA204Exporter(store: store, identifiers: identifiers).csv(chosen)
                }
                let csv = Response(
                    status: .ok, headers: [.contentType: "text/csv; charset=utf-8; header=present"],
                    body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
                return ExportDownload.attach(csv, chosen, .fsma204)
            } catch let error as ExportError {
                return problem(.badRequest, "QueryParameterException", error.description)
            }
        }
    }

    /// The export selection of a `/v1/export/…` request.
    static func selection(_ request: Request) throws(ExportError) -> ExportSelection {
        let query = request.uri.queryParameters
        if let lot = query.get("lot") {
            let direction = LedgerQueries.Direction(rawValue: query.get("direction") ?? "none")
            guard let direction else {
                throw ExportError(
                    value: "direction=\(query.get("direction") ?? "")", problem: "is not a direction",
                    fix: "give none, backward or forward")
            }
            return .lot(lot, direction)
        }
        guard let since = query.get("since").flatMap(Timestamp.init(iso8601:)),
            let until = query.get("until").flatMap(Timestamp.init(iso8601:))
        else {
            throw ExportError(
                value: "the export query", problem: "names neither a lot nor a window",
                fix: "give lot=… [direction=backward|forward], or since=… and until=… (RFC 3339)")
        }
        return .window(since: since, until: until)
    }

    /// 406 when the client asks for an EPCIS version other than 2.0.
    static func refusedVersion(_ request: Request) -> Response? {
        guard let asked = request.headers[epcisVersion], !asked.hasPrefix("2.0") else { return nil }
        return problem(
            .notAcceptable, "UnsupportedVersion", "this server speaks GS1-EPCIS-Version 2.0.0, not \(asked)")
    }

    /// The same request with `nextPageToken` set (other parameters kept).
    static func nextPage(_ request: Request, token: String) -> String {
        var components = URLComponents()
        components.path = request.uri.path
        components.queryItems =
            request.uri.queryParameters.filter { $0.key != "nextPageToken" }.map {
                URLQueryItem(name: String($0.key), value: String($0.value))
            } + [URLQueryItem(name: "nextPageToken", value: token)]
        return components.string ?? request.uri.path
    }

    static func answer(_ body: JSONOutput) -> Response {
        Response(
            status: .ok, headers: headers("application/ld+json"),
            body: .init(byteBuffer: ByteBuffer(bytes: body.jsonBytes())))
    }

    /// An RFC 7807 problem with the EPCIS exception type.
    static func problem(_ status: HTTPResponse.Status, _ type: String, _ detail: String) -> Response {
        let body = JSONOutput.object([
            "type": .string("epcisException:\(type)"), "title": .string(type), "status": .number(Double(status.code)),
            "detail": .string(detail),
        ])
        return Response(
            status: status, headers: headers("application/problem+json"),
            body: .init(byteBuffer: ByteBuffer(bytes: body.jsonBytes())))
    }

    static func headers(_ contentType: String) -> HTTPFields {
        var fields: HTTPFields = [.contentType: contentType]
        fields[epcisVersion] = "2.0.0"
        fields[cbvVersion] = "2.0.0"
        return fields
    }
}
