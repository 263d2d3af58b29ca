import Foundation
import Testing

/// Found by schemathesis against docs/api/openapi.yaml (scripts/api-fuzz.sh): query
/// parameters outside the spec were silently ignored and answered 200 (`tree-size=-853201`
/// gave the latest tree head, `direction=AAA` the lot alone, `limit=501` on `/v1/blocks` a
/// page anyway). Each is now a 400 naming the parameter.
extension ReliabilityTests {
    @Test func queryParametersOutsideTheSpecAreRefusedNamingTheParameter() async throws {
        let fixture = try populatedLedger(blocks: 2, perBlock: 5)
        let (base, server) = try serve(fixture)
        defer { server.terminate() }
        let refused = [
            ("tree-size", "/v1/tree-head?tree-size=-853201"), ("tree-size", "/v1/tree-head?tree-size=0"),
            ("direction", "/v1/trace/L?direction=AAA"), ("new", "/v1/consistency?old=1&new=x"),
            ("limit", "/v1/blocks?limit=501"), ("before", "/v1/blocks?before=-1"),
            ("limit", "/v1/principals?limit=1001"), ("leaf", "/v1/access/events?leaf=null&leaf=null"),
            ("after", "/v1/access/pending?after=false"),
            ("after", "/v1/transfers/open?owner=o&after=1.1125369292536007e-308"),
        ]
        for (name, path) in refused {
            let answer = try await get(base + path)
            let body = String(decoding: answer.body, as: UTF8.self)
            #expect(answer.status == 400 && body.contains(name), "\(path): \(answer.status) \(body)")
        }
        // Integers past the store's signed 64 bits trapped in the query and ended the server
        // (`/v1/access/events?leaf=18446744073709551615`); now refused, and the server lives.
        let big = "18446744073709551615"
        for (name, path) in [
            ("leaf", "/v1/access/events?leaf=\(big)"), ("leaf", "/v1/leaves/\(big)/entry"),
            ("leaf", "/v1/leaves/\(big)/proof"), ("redeem-leaf", "/v1/transfers?redeem-leaf=\(big)"),
            ("redeem-leaf", "/v1/transfers/keys?redeem-leaf=\(big)"), ("tree-size", "/v1/tree-head?tree-size=\(big)"),
            ("old", "/v1/consistency?old=\(big)"), ("cursor", "/v1/records?cursor=0-\(big)"),
        ] {
            let answer = try await get(base + path)
            let body = String(decoding: answer.body, as: UTF8.self)
            #expect(answer.status == 400 && body.contains(name), "\(path): \(answer.status) \(body)")
        }
        #expect(try await get(base + "/v1/status").status == 200)
        // The same routes with values the spec allows still answer.
        for path in [
            "/v1/tree-head", "/v1/trace/L?direction=backward", "/v1/blocks?limit=500&before=2",
            "/v1/principals?limit=1000", "/v1/access/events?leaf=0", "/v1/access/pending?after=0",
            "/v1/transfers/open?owner=o&after=3",
        ] {
            let answer = try await get(base + path)
            #expect(answer.status == 200, "\(path): \(answer.status) \(String(decoding: answer.body, as: UTF8.self))")
        }
    }
}
