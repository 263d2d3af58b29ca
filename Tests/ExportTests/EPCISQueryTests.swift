import AgriTraceCore
import Exports
import Foundation
import Ledger
import TestSupport
import Testing

/// The EPCIS 2.0 query interface of `agritrace api`, served in its own process over mutual
/// TLS with certificates from a test CA, asked by a Python HTTPS client with a client certificate.
@Suite("EPCIS 2.0 query interface over HTTPS", .serialized, .timeLimit(.minutes(3)))
struct EPCISQueryTests {
    /// GETs a URL with the client certificate: prints status, headers and body as JSON.
    static let client = #"""
        import json, ssl, sys, time, urllib.error, urllib.request
        url, ca, cert, key, version = sys.argv[1:6]
        context = ssl.create_default_context(cafile=ca)
        context.load_cert_chain(cert, key)
        request = urllib.request.Request(url, headers={"GS1-EPCIS-Version": version, "Accept": "application/ld+json"})
        deadline = time.time() + 15
        while True:
            try:
                answer = urllib.request.urlopen(request, context=context, timeout=10)
                status, headers, body = answer.status, dict(answer.headers), answer.read()
                break
            except urllib.error.HTTPError as error:
                status, headers, body = error.code, dict(error.headers), error.read()
                break
            except (ConnectionError, urllib.error.URLError) as error:
                if time.time() > deadline: raise
                time.sleep(0.2)
        print(json.dumps({"status": status, "headers": headers, "body": body.decode()}))
        """#

    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:] }
        var events: [[String: Any]] {
            let results = (json["epcisBody"] as? [String: Any])?["queryResults"] as? [String: Any]
            return ((results?["resultsBody"] as? [String: Any])?["eventList"] as? [[String: Any]]) ?? []
        }
        func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }
    }

    @Test func queriesPagesAndARoundTripFromEventIDToItsEvent() throws {
        let chain = try ExampleChain()
        let site = try ExampleChain.siteFile(in: chain.directory)
        let certificates = try TestCertificates.generate(in: chain.directory.path, clientCommonName: "firm-alice")
        let port = try freeLoopbackPort()
        let server = try BackgroundProcess(
            try builtProduct(named: "agritrace"),
            [
                "api", "--store", chain.path, "--http-port", "\(port)", "--api-cert",
                certificates.serverCertificateFile,
                "--api-key", certificates.serverKeyFile, "--api-client-ca", certificates.caFile, "--gs1-site", site,
            ],
            logFile: chain.directory.file("api.log"))
        defer { server.terminate() }
        let base = "https://127.0.0.1:\(port)"
        func get(_ path: String, version: String = "2.0.0") throws -> Answer {
            let output = try runCommand(
                "python3",
                [
                    "-c", Self.client, base + path, certificates.caFile, certificates.clientCertificateFile,
                    certificates.clientKeyFile, version,
                ])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
            return Answer(
                status: object["status"] as? Int ?? 0, headers: object["headers"] as? [String: String] ?? [:],
                body: object["body"] as? String ?? "")
        }

        // Every event, two per page, following the Link header's nextPageToken.
        var page = try get("/epcis/events?perPage=2")
        #expect(page.status == 200, "\(page.body)\n\(server.log)")
        #expect(page.header("GS1-EPCIS-Version") == "2.0.0" && page.header("GS1-CBV-Version") == "2.0.0")
        let first = chain.directory.file("page.json")
        try Data(page.body.utf8).write(to: URL(fileURLWithPath: first))
        let verdict = try SchemaValidator.validate(first)
        #expect(verdict.valid, "\(verdict.report)")
        var all = page.events
        var pages = 1
        while let link = page.header("Link"), pages < 10 {
            let target = try #require(link.firstMatch(of: #/<([^>]+)>; rel="next"/#)).1
            page = try get(String(target))
            #expect(page.status == 200 && page.events.count <= 2, "\(page.body)")
            all += page.events
            pages += 1
        }
        #expect(pages == 3 && all.count == 6)
        #expect(all.compactMap { $0["agritrace:stage"] as? String } == Stage.allCases.map(\.rawValue))

        // eventID → GET /epcis/events/{eventID}: the same event the export holds.
        let processing = try #require(all.first { $0["type"] as? String == "TransformationEvent" })
        let eventID = try #require(processing["eventID"] as? String)
        let escaped = try #require(eventID.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
        let single = try get("/epcis/events/\(escaped)")
        #expect(single.status == 200, "\(single.body)")
        #expect(single.json["eventID"] as? String == eventID && single.json["@context"] != nil)
        func canonical(_ object: [String: Any]) throws -> Data {
            try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        }
        #expect(try canonical(single.json.filter { $0.key != "@context" }) == canonical(processing))
        try checkFilters(get)

        // `agritrace export epcis --api` gets the same events as the query interface.
        let exported = chain.directory.file("over-api.json")
        try runCommand(
            try builtProduct(named: "agritrace"),
            [
                "export", "epcis", "SA-2026-5521", "--backward", "--output", exported, "--api", base, "--tls-ca",
                certificates.caFile, "--tls-cert", certificates.clientCertificateFile, "--tls-key",
                certificates.clientKeyFile,
            ])
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: exported))) as? [String: Any])
        let events = try EPCISExportTests.events(document)
        #expect(events.compactMap { $0["eventID"] as? String } == all.compactMap { $0["eventID"] as? String })
        #expect(try SchemaValidator.validate(exported).valid)
    }

    /// The common parameters narrow the answer; bad ones are refused naming the value.
    func checkFilters(_ get: (String, String) throws -> Answer) throws {
        func stages(_ path: String) throws -> [String] {
            let answer = try get(path, "2.0.0")
            #expect(answer.status == 200, "\(path): \(answer.body)")
            return answer.events.compactMap { $0["agritrace:stage"] as? String }
        }
        #expect(try stages("/epcis/events?EQ_bizStep=commissioning") == ["breeding", "planting", "processing"])
        #expect(try stages("/epcis/events?EQ_bizStep=urn:epcglobal:cbv:bizstep:shipping") == ["transport"])
        let farmLot = "https://id.gs1.org/01/\(ExampleChain.key("0614142", item: 7, digits: 14))/10/PL-2026-0417"
        #expect(try stages("/epcis/events?MATCH_anyEPC=\(farmLot)") == ["planting"])
        let plant = "https://id.gs1.org/414/\(ExampleChain.key("0614143", item: 1, digits: 13))"
        #expect(try stages("/epcis/events?EQ_bizLocation=\(plant)") == ["processing"])
        #expect(
            try stages("/epcis/events?GE_eventTime=2026-07-30T00:00:00Z&LT_eventTime=2026-07-31T23:00:00Z")
                == ["warehousing", "transport"])
        var answer = try get(
            "/epcis/events?GE_eventTime=2026-08-01T00:00:00Z&LT_eventTime=2026-07-01T00:00:00Z", "2.0.0")
        #expect(answer.status == 400 && answer.body.contains("give GE_eventTime earlier than LT_eventTime"))
        answer = try get("/epcis/events?EQ_colour=red", "2.0.0")
        #expect(answer.status == 400 && answer.body.contains("query parameter EQ_colour is not supported"))
        answer = try get("/epcis/events", "1.2.0")
        #expect(answer.status == 406 && answer.body.contains("GS1-EPCIS-Version 2.0.0"))
        answer = try get("/epcis/events/urn%3Aagritrace%3Aevent%3A00000000000000000000000000000000", "2.0.0")
        #expect(answer.status == 404)
    }
}
