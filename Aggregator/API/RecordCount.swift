import Ledger

extension StoreReader {
    /// The ledger's status with a running count of its records: the ledger only grows, so after
    /// the first count only the records past the last leaf counted are counted (a range of the
    /// records' integer primary key). A full `count(*)` over 10M records takes seconds, and the
    /// console's ledger page asks for the status on every load (BENCHMARKS.md, web console).
    func status() throws -> LedgerStatus {
        let since = counted.lastLeaf
        let (records, lastLeaf) = try read { store in
            let select = try store.db.prepare("SELECT count(*), max(leaf_index) FROM records WHERE leaf_index > ?")
            try select.bind([.integer(since)])
            _ = try select.step()
            return (Int(select.int64(at: 0)), select.isNull(at: 1) ? since : select.int64(at: 1))
        }
        counted = (counted.records + records, lastLeaf)
        let total = counted.records
        return try read { try LedgerQueries(store: $0).status(recordCount: total) }
    }

    /// Counts the records once at start-up, off the request path, on a read-only connection of
    /// its own (a cold count of 10M records took 14 s): requests go on meanwhile, and the first
    /// ``status()`` after it counts only the records added since.
    func prime(storePath: String) async {
        guard counted.lastLeaf < 0 else { return }
        let found = await Task.detached { () -> (records: Int, lastLeaf: Int64)? in
            guard let store = try? LedgerStore(path: storePath, readOnly: true),
                let select = try? store.db.prepare("SELECT count(*), max(leaf_index) FROM records"),
                (try? select.step()) == true, !select.isNull(at: 1)
            else { return nil }
            return (Int(select.int64(at: 0)), select.int64(at: 1))
        }.value
        if let found, counted.lastLeaf < 0 { counted = found }
    }
}
