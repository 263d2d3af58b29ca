import Ledger

/// A row of an audit listing with the inclusion proof of its leaf, checked against the latest
/// signed tree head (JSON: `{"entry": ..., "proof": ...}`).
struct ProvenRow<Entry: Encodable>: Encodable {
    var entry: Entry
    var proof: LeafProof
}

extension AccessLedger {
    /// Each of `entries` with the proof of the leaf `leaf` names.
    func proven<Entry: Encodable>(_ entries: [Entry], leaf: (Entry) -> UInt64) async throws -> [ProvenRow<Entry>] {
        var rows: [ProvenRow<Entry>] = []
        for entry in entries { rows.append(ProvenRow(entry: entry, proof: try await proof(leaf(entry)))) }
        return rows
    }
}
