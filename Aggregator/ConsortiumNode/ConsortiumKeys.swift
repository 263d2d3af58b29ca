import AgriTraceCore

/// The consortium's keys in etcd under one prefix (docs/consortium.md, "etcd key layout"):
///
/// - `<prefix>sequencer`: the sequencer's name, with its lease (``SequencerElection``);
/// - `<prefix>log/<height, 20 digits>`: the ordered block proposals (fenced appends);
/// - `<prefix>batches/<digest hex>`: the bodies proposals order (``ConsortiumBody``), put by the
///   node that ingested them, deleted once every member applied the proposal that ordered them;
/// - `<prefix>cosignatures/<height, 20 digits>/<node>`: each node's checkpoint for the height as
///   a signed note with its one cosignature line;
/// - `<prefix>applied/<node>` and `<prefix>final/<node>`: the last height the node applied and
///   the last height up to which it holds every final checkpoint (decimal text).
public struct ConsortiumKeys: Sendable {
    public let prefix: String

    public init(prefix: String) { self.prefix = prefix }

    static func digits(_ height: UInt64) -> String {
        let text = String(height)
        return String(repeating: "0", count: 20 - text.count) + text
    }

    func key(_ text: String) -> [UInt8] { Array((prefix + text).utf8) }

    /// The body named `digest`.
    public func batch(_ digest: Digest32) -> [UInt8] { key("batches/" + digest.hex) }
    /// The first key of the bodies, and the first key after them.
    var batches: (from: [UInt8], to: [UInt8]) { (key("batches/"), key("batches0")) }

    /// Node `node`'s checkpoint note for `height`.
    public func cosignature(height: UInt64, node: String) -> [UInt8] {
        key("cosignatures/" + Self.digits(height) + "/" + node)
    }
    /// Every node's checkpoint note for `height`.
    func cosignatures(height: UInt64) -> (from: [UInt8], to: [UInt8]) {
        (key("cosignatures/" + Self.digits(height) + "/"), key("cosignatures/" + Self.digits(height) + "0"))
    }
    /// The notes of every height below `height`.
    func cosignatures(below height: UInt64) -> (from: [UInt8], to: [UInt8]) {
        (key("cosignatures/"), key("cosignatures/" + Self.digits(height)))
    }

    /// Node `node`'s last applied height.
    public func applied(_ node: String) -> [UInt8] { key("applied/" + node) }
    var appliedRange: (from: [UInt8], to: [UInt8]) { (key("applied/"), key("applied0")) }
    /// Node `node`'s last height with every checkpoint final.
    public func final(_ node: String) -> [UInt8] { key("final/" + node) }
    var finalRange: (from: [UInt8], to: [UInt8]) { (key("final/"), key("final0")) }

    /// The node a per-node key names (its last path component).
    static func node(of key: [UInt8]) -> String {
        String(decoding: key.split(separator: UInt8(ascii: "/")).last ?? [], as: UTF8.self)
    }
}
