/// An access transaction as the access gateway (the HTTPS API) received it: the requester's
/// signed transaction, unchanged, and the network address the gateway observed for it (the
/// TCP peer, or the client a trusted reverse proxy names). The gateway queues both; `serve`
/// appends them as one leaf (``LogEntry/gateway(_:)``), which the authority's signed tree
/// head covers, so `replay` strikes the same address the gateway saw.
///
/// The requester cannot choose the address: it is not inside the signed transaction, and
/// the request's own `source` is only a label (docs/governance.md).
public struct GatewayAccess: Hashable, Sendable, CanonicalCodable {
    /// The client's network address as the gateway observed it (an IPv4 or IPv6 address).
    public var observedAddress: String
    /// The requester's signed transaction, as posted.
    public var transaction: Signed<AccessTransaction>

    public init(observedAddress: String, transaction: Signed<AccessTransaction>) {
        self.observedAddress = observedAddress
        self.transaction = transaction
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write("agritrace/v1/gateway-access", observedAddress, transaction)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.readDomain("agritrace/v1/gateway-access", "gateway access domain")
        observedAddress = try reader.readString("observed address")
        transaction = try reader.read(Signed<AccessTransaction>.self)
    }
}
