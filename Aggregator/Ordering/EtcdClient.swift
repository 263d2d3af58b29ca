import Foundation
import LedgerClient
import NIOCore
import NIOHTTP1

/// A client of etcd's v3 API through the JSON gateway every etcd 3.4 member serves on its
/// client port (HTTP/1.1; TLS with a client certificate from the deployment CA in the shipped
/// configuration, through the same transport as the CLI's API client). Keys and values are
/// bytes (base64 in the JSON); etcd's 64-bit integers arrive as JSON strings.
///
/// A request goes to the first endpoint that answers: a member that is down or partitioned is
/// passed over, so the client keeps working while a majority of the cluster does.
public struct EtcdClient: Sendable {
    /// The members' client URLs, e.g. `https://10.0.0.1:2379`.
    public var endpoints: [URL]
    /// TLS: the CA that signs the members' certificates, this node's client certificate and key.
    public var connection: APIConnection
    /// How long one request may take on one endpoint before the next is tried.
    public var timeout: TimeAmount

    public init(endpoints: [URL], connection: APIConnection, timeout: TimeAmount = .seconds(5)) {
        self.endpoints = endpoints
        self.connection = connection
        self.timeout = timeout
    }

    /// One key and its value as etcd holds them.
    public struct KeyValue: Sendable, Equatable {
        public var key: [UInt8]
        public var value: [UInt8]
        /// The revision of the write that created the key (its version 1).
        public var createRevision: Int64
        /// The revision of the key's last write.
        public var modRevision: Int64
        /// The lease the key is attached to, 0 for none.
        public var lease: Int64
    }

    /// A condition of a transaction.
    public enum Condition: Sendable {
        /// The key was created at this revision (0: the key does not exist).
        case createRevision(of: [UInt8], is: Int64)
    }

    /// A request in a branch of a transaction.
    public enum Request: Sendable {
        case put(key: [UInt8], value: [UInt8], lease: Int64)
        case get(key: [UInt8])
        /// Deletes the keys in `[from, to)`.
        case delete(from: [UInt8], to: [UInt8])
    }

    /// What a transaction did.
    public struct TransactionResult: Sendable {
        /// Whether every condition held (the `then` branch ran) or not (the `else` branch).
        public var succeeded: Bool
        /// The store's revision after the transaction.
        public var revision: Int64
        /// The keys each `get` of the branch that ran found, in order.
        public var found: [[KeyValue]]
    }

    /// Grants a lease of `seconds`; keys put with it vanish when it is not renewed in time.
    public func grantLease(seconds: Int) async throws -> Int64 {
        let answer = try await call("/v3/lease/grant", ["TTL": seconds])
        guard let id = Self.int64(answer["ID"]), id != 0 else { throw EtcdError("lease grant", answer) }
        return id
    }

    /// Renews `lease`; returns the seconds it has left, 0 when it has already expired.
    public func keepAlive(lease: Int64) async throws -> Int64 {
        let answer = try await call("/v3/lease/keepalive", ["ID": String(lease)])
        let result = answer["result"] as? [String: Any] ?? answer
        return Self.int64(result["TTL"]) ?? 0
    }

    /// Ends `lease` now: its keys are deleted.
    public func revoke(lease: Int64) async throws {
        _ = try await call("/v3/lease/revoke", ["ID": String(lease)])
    }

    /// The keys in `[from, to)` in key order, at most `limit` (0: all); with `keysOnly`, their
    /// values are left out (empty).
    public func range(from: [UInt8], to end: [UInt8], limit: Int = 0, keysOnly: Bool = false) async throws
        -> [KeyValue]
    {
        let answer = try await call(
            "/v3/kv/range",
            ["key": Self.base64(from), "range_end": Self.base64(end), "limit": limit, "keys_only": keysOnly])
        return Self.keyValues(answer)
    }

    /// Runs `then` if every condition holds, else `otherwise`, as one atomic step.
    public func transaction(if conditions: [Condition], then: [Request], otherwise: [Request] = [])
        async throws -> TransactionResult
    {
        let body: [String: Any] = [
            "compare": conditions.map(Self.json), "success": then.map(Self.json), "failure": otherwise.map(Self.json),
        ]
        let answer = try await call("/v3/kv/txn", body)
        let header = answer["header"] as? [String: Any] ?? [:]
        let responses = answer["responses"] as? [[String: Any]] ?? []
        return TransactionResult(
            succeeded: answer["succeeded"] as? Bool ?? false, revision: Self.int64(header["revision"]) ?? 0,
            found: responses.compactMap { ($0["response_range"] as? [String: Any]).map(Self.keyValues) })
    }

    /// Posts `body` to the first endpoint that answers; an error answer (etcd's `code` and
    /// `error`, or an HTTP status other than 200) is thrown without trying the others.
    func call(_ path: String, _ body: [String: Any]) async throws -> [String: Any] {
        let payload = try JSONSerialization.data(withJSONObject: body)
        var failures: [String] = []
        for endpoint in endpoints {
            let response: APITransport.Response
            do {
                response = try await APITransport.send(
                    method: .POST, url: endpoint.appendingPathComponent(path), body: payload,
                    connection: connection, timeout: timeout)
            } catch {
                failures.append("\(endpoint): \(error)")
                continue
            }
            let answer = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] ?? [:]
            guard response.status == 200, answer["error"] == nil else {
                throw EtcdError("\(path) at \(endpoint) (HTTP \(response.status))", answer)
            }
            return answer
        }
        throw EtcdError(unreachable: path, failures)
    }

    static func json(_ condition: Condition) -> [String: Any] {
        switch condition {
        case .createRevision(let key, let revision):
            return ["key": base64(key), "target": "CREATE", "result": "EQUAL", "create_revision": String(revision)]
        }
    }

    static func json(_ request: Request) -> [String: Any] {
        switch request {
        case .put(let key, let value, let lease):
            return ["request_put": ["key": base64(key), "value": base64(value), "lease": String(lease)]]
        case .get(let key):
            return ["request_range": ["key": base64(key)]]
        case .delete(let from, let to):
            return ["request_delete_range": ["key": base64(from), "range_end": base64(to)]]
        }
    }

    static func keyValues(_ answer: [String: Any]) -> [KeyValue] {
        (answer["kvs"] as? [[String: Any]] ?? []).map { entry in
            KeyValue(
                key: bytes(entry["key"]), value: bytes(entry["value"]),
                createRevision: int64(entry["create_revision"]) ?? 0, modRevision: int64(entry["mod_revision"]) ?? 0,
                lease: int64(entry["lease"]) ?? 0)
        }
    }

    static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    static func bytes(_ value: Any?) -> [UInt8] {
        (value as? String).flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) } ?? []
    }

    /// etcd's JSON writes 64-bit integers as strings (and leaves out zeros).
    static func int64(_ value: Any?) -> Int64? {
        if let text = value as? String { return Int64(text) }
        return (value as? NSNumber)?.int64Value
    }
}

/// etcd refused a request, or no member answered.
public struct EtcdError: Error, CustomStringConvertible {
    public var description: String
    /// etcd's own words, when it answered (e.g. `etcdserver: requested lease not found`).
    public var reason: String?

    init(_ what: String, _ answer: [String: Any]) {
        let reason = answer["error"] as? String ?? answer["message"] as? String ?? "\(answer)"
        self.reason = reason
        description = "etcd: \(what): \(reason)"
    }

    /// The request named a lease that has expired or was revoked.
    public var isLeaseNotFound: Bool { reason?.contains("lease not found") == true }

    init(unreachable path: String, _ failures: [String]) {
        description =
            "etcd: no member answered \(path): " + failures.joined(separator: "; ")
            + " (check the endpoints, that a majority of members is up, and the TLS files)"
    }
}
