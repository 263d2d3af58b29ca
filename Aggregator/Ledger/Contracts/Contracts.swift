import AgriTraceCore
import Crypto
import LedgerCore
import SQLiteStorage

/// The deterministic contracts: each sees the transaction, the block (height, time) and
/// the state, and nothing else, so replaying the log from genesis rebuilds the same state.
public enum Contracts {
    /// Writes the state rows of a checked entry.
    static func write(_ entry: LogEntry, leafIndex: UInt64, height: UInt64, time: Timestamp, to db: SQLiteConnection)
        throws
    {
        switch entry {
        case .access(let signed):
            try AccessContracts.write(signed.value, leafIndex: leafIndex, height: height, time: time, to: db)
        case .gateway(let relayed):
            try AccessContracts.write(relayed, leafIndex: leafIndex, height: height, time: time, to: db)
        case .blob(let signed):
            try TransferContracts.write(signed.value, leafIndex: leafIndex, to: db)
        case .record(let record):
            try RecordRows(db).write(record, leafIndex: leafIndex, height: height)
        case .registry(let signed):
            try RegistryRows(db: db).write(signed.value.operation, height: height)
        }
    }

    /// The end of a block: when it carried a transaction other than records (registry,
    /// access, transfer, blob), the credit contract recomputes every enterprise's score
    /// (``Credit``). A block of records only changes no behaviour and skips it.
    static func finishBlock(carriedTransactions: Bool, in db: SQLiteConnection) throws {
        if carriedTransactions { try AccessStateRows(db: db).updateCredit() }
    }

    /// The registry contract's rows (`enterprises`, `devices`, `principals`). The registry's
    /// rules are pure (``Admission`` and ``RegistryState/apply(_:)``); these are its state.
    struct RegistryRows {
        let db: SQLiteConnection

        func write(_ operation: RegistryTransaction.Operation, height: UInt64) throws {
            switch operation {
            case .addDevice(let enterprise, let device, let publicKey, let stage):
                try addEnterprise(enterprise, height: height)
                try run(
                    "INSERT INTO devices(enterprise, device, public_key, stage, status, registered_height) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        .text(enterprise), .text(device), .blob(publicKey), .text(orNull: stage?.rawValue),
                        .text(RegisteredDevice.Status.active.rawValue), .int(height),
                    ])
            case .revokeDevice(let enterprise, let device, let reason):
                try run(
                    "UPDATE devices SET status = ?, revoked_height = ?, revoked_reason = ? WHERE enterprise = ? AND device = ?",
                    [
                        .text(RegisteredDevice.Status.revoked.rawValue), .int(height), .text(reason),
                        .text(enterprise), .text(device),
                    ])
            case .addPrincipal(let principal):
                try addEnterprise(principal.enterprise, height: height)
                try run(
                    "INSERT INTO principals(name, kind, enterprise, role, stage, public_key, status, registered_height) VALUES (?, ?, ?, ?, ?, ?, 'active', ?)",
                    [
                        .text(principal.name), .text(principal.kind.rawValue), .text(principal.enterprise),
                        .text(principal.role), .text(orNull: principal.stage?.rawValue), .blob(principal.publicKey),
                        .int(height),
                    ])
            case .revokePrincipal(let name, let reason):
                try run(
                    "UPDATE principals SET status = 'revoked', revoked_height = ?, revoked_reason = ? WHERE name = ?",
                    [.int(height), .text(reason), .text(name)])
            }
        }

        func addEnterprise(_ enterprise: String, height: UInt64) throws {
            try run(
                "INSERT OR IGNORE INTO enterprises(id, registered_height) VALUES (?, ?)",
                [.text(enterprise), .int(height)])
        }

        func run(_ sql: String, _ values: [SQLiteValue]) throws { try db.cachedStatement(sql).run(values) }
    }

    /// The record contract's rows (`records`, `lot_links`), with the statements looked up
    /// once, so a block writes its thousands of records without a statement-cache look-up each.
    struct RecordRows {
        let insert: Statement
        let link: Statement

        init(_ db: SQLiteConnection) throws {
            insert = try db.cachedStatement(
                "INSERT INTO records(leaf_index, record_id, height, lot, product, stage, enterprise, device, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            )
            link = try db.cachedStatement(
                "INSERT OR IGNORE INTO lot_links(lot, input_lot, leaf_index) VALUES (?, ?, ?)")
        }

        func write(_ record: Record, leafIndex: UInt64, height: UInt64) throws {
            try insert.bind(Int64(leafIndex), at: 1)
            try insert.bind(Canonical.encode(record.id), at: 2)
            try insert.bind(Int64(height), at: 3)
            try insert.bind(record.lot, at: 4)
            try insert.bind(record.product, at: 5)
            try insert.bind(record.stage.rawValue, at: 6)
            try insert.bind(record.enterprise, at: 7)
            try insert.bind(record.device, at: 8)
            try insert.bind(record.time.milliseconds, at: 9)
            try insert.run()
            for input in record.inputLots {
                try link.bind(record.lot, at: 1)
                try link.bind(input, at: 2)
                try link.bind(Int64(leafIndex), at: 3)
                try link.run()
            }
        }
    }

    /// Raises each device's `last_sequence` (the highest record sequence on the ledger) to
    /// the highest sequence among `records` (``RecordUpload/watermarks(_:)``). Part of the
    /// record contract: the ledger calls it once per block, `replay` once per record; the
    /// resulting state is the same.
    static func raiseSequences(_ records: [Record], in db: SQLiteConnection) throws {
        let update = try db.cachedStatement(
            "UPDATE devices SET last_sequence = ?1 WHERE enterprise = ?2 AND device = ?3 AND last_sequence < ?1")
        for watermark in RecordUpload.watermarks(records) {
            try update.run([
                .integer(Int64(bitPattern: watermark.sequence)), .text(watermark.device.enterprise),
                .text(watermark.device.device),
            ])
        }
    }

    /// The highest record sequence on the ledger per device.
    static func loadSequences(from db: SQLiteConnection) throws -> [RegistryState.DeviceKey: UInt64] {
        let select = try db.prepare("SELECT enterprise, device, last_sequence FROM devices")
        var result: [RegistryState.DeviceKey: UInt64] = [:]
        while try select.step() {
            result[.init(enterprise: select.string(at: 0) ?? "", device: select.string(at: 1) ?? "")] = UInt64(
                bitPattern: select.int64(at: 2))
        }
        return result
    }

    /// Loads the registry from the state tables.
    static func loadRegistry(from db: SQLiteConnection) throws -> RegistryState {
        var registry = RegistryState()
        let enterprises = try db.prepare("SELECT id FROM enterprises")
        while try enterprises.step() { registry.enterprises.insert(enterprises.string(at: 0) ?? "") }
        let devices = try db.prepare("SELECT enterprise, device, public_key, stage, status FROM devices")
        while try devices.step() {
            let enterprise = devices.string(at: 0) ?? ""
            let device = devices.string(at: 1) ?? ""
            guard let key = try? Curve25519.Signing.PublicKey(rawBytes: devices.bytes(at: 2) ?? []) else {
                throw LedgerStoreError.corrupt("device \(enterprise)/\(device) has a malformed key")
            }
            registry.devices[.init(enterprise: enterprise, device: device)] = RegisteredDevice(
                enterprise: enterprise, device: device, publicKey: key,
                stage: devices.string(at: 3).flatMap(Stage.init(name:)),
                status: try stored(
                    RegistrationStatus.self, devices.string(at: 4), "devices row \(enterprise)/\(device)"))
        }
        let principals = try db.prepare(
            "SELECT name, kind, enterprise, role, stage, public_key, status FROM principals")
        while try principals.step() {
            let name = principals.string(at: 0) ?? ""
            let bytes = principals.bytes(at: 5) ?? []
            guard let kind = PrincipalEntry.Kind(rawValue: principals.string(at: 1) ?? ""),
                let key = try? Curve25519.Signing.PublicKey(rawBytes: bytes)
            else {
                throw LedgerStoreError.corrupt("principal \(name) has a malformed kind or key")
            }
            let entry = PrincipalEntry(
                name: name, kind: kind, enterprise: principals.string(at: 2) ?? "",
                role: principals.string(at: 3) ?? "",
                stage: principals.string(at: 4).flatMap(Stage.init(name:)), publicKey: bytes)
            registry.principals[name] = RegisteredPrincipal(
                entry: entry, publicKey: key,
                isActive: try stored(RegistrationStatus.self, principals.string(at: 6), "principals row \(name)")
                    == .active)
        }
        return registry
    }
}
