import AgriTraceCore
import Foundation
import SQLiteStorage

/// A registered principal as the console and its sign-in see it (no secret: the registry is public).
public struct PrincipalRow: Codable, Sendable, Equatable {
    public var name: String
    public var kind: PrincipalEntry.Kind
    public var enterprise: String
    public var role: String
    public var stage: String?
    /// The Ed25519 transaction-signing key (hex).
    public var publicKey: String
    public var status: RegistrationStatus
    public var registeredHeight: UInt64
}

/// One block as the console's ledger page lists it: the signed tree head and its fields.
public struct BlockRow: Codable, Sendable, Equatable {
    public var height: UInt64
    public var time: String
    public var transactionCount: UInt32
    public var logSize: UInt64
    public var logRoot: String
    public var hash: String
    public var proposer: String
    /// The canonical signed header (hex): what a client checks the signature of.
    public var signedHeader: String
}

extension LedgerQueries {
    static let principalColumns =
        "name, kind, enterprise, role, stage, public_key, status, registered_height"

    /// The principal named `name`, if registered (active or revoked).
    public func principal(_ name: String) throws -> PrincipalRow? {
        let select = try store.db.prepare("SELECT \(Self.principalColumns) FROM principals WHERE name = ?")
        return try select.first([.text(name)], Self.principalRow)
    }

    /// Principals in name order, `limit` at most, after the name `after` (keyset paging).
    public func principals(after: String? = nil, limit: Int = 100) throws -> [PrincipalRow] {
        let select = try store.db.prepare(
            "SELECT \(Self.principalColumns) FROM principals WHERE name > ? ORDER BY name LIMIT ?")
        return try select.all([.text(after ?? ""), .int(max(1, min(limit, 1000)))], Self.principalRow)
    }

    static func principalRow(_ select: Statement) throws -> PrincipalRow {
        let row = "principals row \(select.string(at: 0) ?? "")"
        return PrincipalRow(
            name: select.string(at: 0) ?? "",
            kind: try stored(PrincipalEntry.Kind.self, select.string(at: 1), row, column: "kind"),
            enterprise: select.string(at: 2) ?? "",
            role: select.string(at: 3) ?? "", stage: select.string(at: 4),
            publicKey: (select.bytes(at: 5) ?? []).hexString,
            status: try stored(RegistrationStatus.self, select.string(at: 6), row),
            registeredHeight: UInt64(select.int64(at: 7)))
    }

    /// The newest blocks first, `limit` at most, below `before` (keyset paging on the height).
    public func blocks(before: UInt64? = nil, limit: Int = 20) throws -> [BlockRow] {
        let select = try store.db.prepare(
            "SELECT header, hash FROM blocks WHERE height < ? ORDER BY height DESC LIMIT ?")
        let bounds: [SQLiteValue] = [
            .integer(Int64(clamping: before ?? UInt64(Int64.max))), .int(max(1, min(limit, 500))),
        ]
        return try select.all(bounds) { row in
            let bytes = row.bytes(at: 0) ?? []
            guard let header = try? Canonical.decode(Signed<BlockHeader>.self, from: bytes) else {
                throw LedgerStoreError.corrupt("a block header does not decode")
            }
            let value = header.value
            return BlockRow(
                height: value.height, time: value.time.iso8601, transactionCount: value.transactionCount,
                logSize: value.logSize, logRoot: value.logRoot.hex, hash: (row.bytes(at: 1) ?? []).hexString,
                proposer: value.proposer, signedHeader: bytes.hexString)
        }
    }
}
