/// Where a lot's private data went: the lot, the lots made from it (transitively, along the
/// lot graph), every grant, transfer, read and revocation of their data, and who holds it.
public struct LotSpread: Sendable, Codable, Equatable {
    /// A lot reached from the asked one, with how many links away it is (0: the lot itself).
    public struct ReachedLot: Sendable, Codable, Equatable {
        public var lot: String
        public var depth: Int
    }
    /// A principal holding data of the reached lots (a delivered transfer), with the first
    /// such transfer's leaf and the lots it received.
    public struct Holder: Sendable, Codable, Equatable {
        public var principal: String
        public var enterprise: String
        public var firstLeaf: UInt64
        public var lots: [String]
    }

    public var lot: String
    public var lots: [ReachedLot]
    /// Grants, transfers, reads and revocations of the reached lots, in leaf order.
    public var edges: [SharingEdge]
    public var holders: [Holder]
}

/// Everything a principal or an enterprise sent and received in a window.
public struct SharingActivity: Sendable, Codable, Equatable {
    public var name: String
    /// `principal` or `enterprise`.
    public var scope: String
    public var sent: [SharingEdge]
    public var received: [SharingEdge]
}

/// One path along which data moved from one principal to another: the principals in order
/// and, for each hop, the leaf of the first delivery between the two.
public struct SharingPath: Sendable, Codable, Equatable {
    public var principals: [String]
    public var leaves: [UInt64]
}

/// A sender or receiver with its delivered transfers and records.
public struct SharingTotal: Sendable, Codable, Equatable {
    public var principal: String
    public var enterprise: String
    public var transfers: Int
    public var records: Int
}

extension SharingGraph {
    /// Who is counted by ``top(_:count:since:until:)``.
    public enum Direction: String, Sendable, CaseIterable {
        case senders, receivers
    }

    /// Whose activity ``activity(of:scope:since:until:)`` shows.
    public enum Scope: String, Sendable, CaseIterable {
        case principal, enterprise
    }

    /// Where the private data of `lot` went, following lots made from it up to `depth` links.
    public func spread(lot: String, depth: Int = 8) -> LotSpread {
        var reached = [LotSpread.ReachedLot(lot: lot, depth: 0)]
        var seen: Set<String> = [lot]
        var frontier = [lot]
        var level = 0
        while !frontier.isEmpty && level < depth {
            level += 1
            var next: [String] = []
            for input in frontier {
                for made in (outputs[input] ?? []).sorted() where seen.insert(made).inserted {
                    reached.append(.init(lot: made, depth: level))
                    next.append(made)
                }
            }
            frontier = next
        }
        var indices: [Int] = []
        for lot in reached { indices += (byLot[lot.lot] ?? []).filter { edges[$0].kind != .request } }
        indices.sort()
        let found = indices.map { edges[$0] }
        return LotSpread(lot: lot, lots: reached, edges: found, holders: holders(of: found))
    }

    private func holders(of found: [SharingEdge]) -> [LotSpread.Holder] {
        var order: [String] = []
        var holders: [String: LotSpread.Holder] = [:]
        for edge in found where edge.kind == .transfer && edge.delivered {
            if holders[edge.to] == nil {
                order.append(edge.to)
                holders[edge.to] = .init(
                    principal: edge.to, enterprise: enterprise(of: edge.to), firstLeaf: edge.leaf, lots: [])
            }
            if holders[edge.to]?.lots.contains(edge.lot) == false { holders[edge.to]?.lots.append(edge.lot) }
        }
        return order.compactMap { holders[$0] }
    }

    /// What `name` (a principal, or with `.enterprise` all its principals) sent and
    /// received with `since <= time < until` (milliseconds; nil: unbounded).
    public func activity(of name: String, scope: Scope = .principal, since: Int64? = nil, until: Int64? = nil)
        -> SharingActivity
    {
        let names = scope == .principal ? [name] : members(of: name)
        var sent: [Int] = []
        var received: [Int] = []
        for member in names {
            sent += slice(outgoing[member] ?? [], since: since, until: until)
            received += slice(incoming[member] ?? [], since: since, until: until)
        }
        return SharingActivity(
            name: name, scope: scope.rawValue, sent: sent.sorted().map { edges[$0] },
            received: received.sorted().map { edges[$0] })
    }

    /// The shortest paths along which data moved (grants and delivered transfers) from
    /// `source` to `target`, at most `maxDepth` hops, at most `limit` paths.
    public func paths(from source: String, to target: String, maxDepth: Int = 6, limit: Int = 10) -> [SharingPath] {
        guard source != target, limit > 0 else { return [] }
        var parents: [String: [String]] = [source: []]
        var frontier = [source]
        var depth = 0
        while !frontier.isEmpty && parents[target] == nil && depth < maxDepth {
            depth += 1
            var layer: [String: [String]] = [:]
            for node in frontier {
                for next in successors[node] ?? [] where parents[next] == nil { layer[next, default: []].append(node) }
            }
            for (node, from) in layer { parents[node] = from }
            frontier = layer.keys.sorted()
        }
        guard parents[target] != nil else { return [] }
        var found: [SharingPath] = []
        walkBack(target, suffix: [], parents: parents, limit: limit, into: &found)
        return found
    }

    private func walkBack(
        _ node: String, suffix: [String], parents: [String: [String]], limit: Int, into found: inout [SharingPath]
    ) {
        guard found.count < limit else { return }
        let path = [node] + suffix
        guard let from = parents[node], !from.isEmpty else {
            let leaves = zip(path, path.dropFirst()).map { firstLink[Pair(from: $0, to: $1)] ?? 0 }
            found.append(SharingPath(principals: path, leaves: leaves))
            return
        }
        for parent in from.sorted() { walkBack(parent, suffix: path, parents: parents, limit: limit, into: &found) }
    }

    /// The principals that sent (or received) the most delivered transfers with
    /// `since <= time < until`, most first (ties by name).
    public func top(_ direction: Direction, count: Int = 10, since: Int64? = nil, until: Int64? = nil)
        -> [SharingTotal]
    {
        var totals: [String: Totals]
        if since == nil && until == nil {
            // Over all edges: the totals kept as edges are applied.
            totals = direction == .senders ? sentTotals : receivedTotals
        } else {
            let lower = since.map(firstEdge(atOrAfter:)) ?? 0
            let upper = until.map(firstEdge(atOrAfter:)) ?? edges.count
            totals = [:]
            for edge in edges[lower..<max(lower, upper)] where edge.kind == .transfer && edge.delivered {
                totals[direction == .senders ? edge.from : edge.to, default: Totals()].add(edge)
            }
        }
        let ranked = totals.sorted { ($1.value.transfers, $0.key) < ($0.value.transfers, $1.key) }
        return ranked.prefix(max(0, count)).map {
            SharingTotal(
                principal: $0.key, enterprise: enterprise(of: $0.key), transfers: $0.value.transfers,
                records: $0.value.records)
        }
    }
}
