import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// One open HTTP/1.1 connection (TLS handshake done once) that carries the requests given
/// to ``exchange(_:body:timeout:)`` one after another, until the server closes it, a request
/// fails or the process ends. Its channel lives in a task of its own (NIO's scoped
/// `executeThenClose`); requests reach that task through a stream.
final class KeptConnection: Sendable {
    /// How one exchange ended.
    enum Outcome: Sendable {
        /// The whole response.
        case response(APITransport.Response)
        /// The request could not be written (the connection was closed, or its TLS handshake
        /// failed): nothing reached the server, so any request may go again on a new connection.
        case notSent(any Error)
        /// The connection closed after the request went out, before a complete response.
        case closedBeforeAnswer
        /// Another failure (TLS, timeout, ...).
        case failed(any Error)
    }

    struct Exchange: Sendable {
        var head: HTTPRequestHead
        var body: Data?
        var timeout: TimeAmount
        var answer: CheckedContinuation<Outcome, Never>
    }

    private let requests: AsyncStream<Exchange>.Continuation
    private let closed = Mutex(false)

    /// Whether the connection can take another request.
    var isOpen: Bool { !closed.withLock { $0 } }

    init(channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>) {
        let (stream, continuation) = AsyncStream<Exchange>.makeStream()
        requests = continuation
        Task { [self] in
            try? await channel.executeThenClose { inbound, outbound in
                var responses = inbound.makeAsyncIterator()
                for await exchange in stream {
                    let outcome = await Self.run(exchange, channel: channel.channel, responses: &responses, outbound)
                    exchange.answer.resume(returning: outcome)
                    guard case .response(let response) = outcome, !response.closes else { break }
                }
            }
            self.closed.withLock { $0 = true }
            continuation.finish()
            // Requests queued behind the last one never reached the server.
            for await exchange in stream { exchange.answer.resume(returning: .notSent(ChannelError.ioOnClosedChannel)) }
        }
    }

    /// Sends one request on this connection and waits for its outcome.
    func exchange(_ head: HTTPRequestHead, body: Data?, timeout: TimeAmount) async -> Outcome {
        guard isOpen else { return .notSent(ChannelError.ioOnClosedChannel) }
        return await withCheckedContinuation { answer in
            if case .terminated = requests.yield(Exchange(head: head, body: body, timeout: timeout, answer: answer)) {
                answer.resume(returning: .notSent(ChannelError.ioOnClosedChannel))
            }
        }
    }

    /// Writes one request and reads its response; a server that stops answering is cut off
    /// after the exchange's timeout (closing the connection).
    private static func run(
        _ exchange: Exchange, channel: any Channel,
        responses: inout NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator,
        _ outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>
    ) async -> Outcome {
        let deadline = channel.eventLoop.scheduleTask(in: exchange.timeout) { channel.close(promise: nil) }
        defer { deadline.cancel() }
        var wroteHead = false
        do {
            try await outbound.write(.head(exchange.head))
            wroteHead = true
            if let body = exchange.body { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            try await outbound.write(.end(nil))
        } catch {
            // The server may answer and close before the last write completes (seen under
            // load on a POST the server had answered): a complete answer counts. A failed TLS
            // handshake also closes the channel under the writes; its reason comes from the
            // inbound side, and is worth more than the write's "closed channel".
            do {
                if let response = try await readResponse(&responses) { return .response(response) }
            } catch let reason {
                return wroteHead ? .failed(reason) : .notSent(reason)
            }
            return wroteHead ? .failed(error) : .notSent(error)
        }
        do {
            if let response = try await readResponse(&responses) { return .response(response) }
            return .closedBeforeAnswer
        } catch {
            return .failed(error)
        }
    }

    /// The whole response, or nil if the connection closed before its end.
    private static func readResponse(
        _ responses: inout NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
    ) async throws -> APITransport.Response? {
        var response = APITransport.Response(status: 0, body: Data())
        while let part = try await responses.next() {
            switch part {
            case .head(let head):
                response.status = Int(head.status.code)
                response.closes = !head.isKeepAlive
            case .body(let buffer): response.body.append(contentsOf: buffer.readableBytesView)
            case .end: return response
            }
        }
        return nil
    }
}

/// The CLI's open connections, one per server (scheme, host and port) and client identity (CA,
/// revocation list, client certificate and key), kept for the whole command: a command that
/// polls the API makes one TLS handshake, not one per call.
actor KeptConnections {
    /// The connections of this process (a CLI command).
    static let shared = KeptConnections()

    private var open: [String: KeptConnection] = [:]
    /// New connections made (each one TCP connection and TLS handshake).
    private(set) var made = 0

    /// Sends one request on the server's open connection, or a new one. A request that finds
    /// the kept connection closed (an idle server closed it) goes again on a new connection
    /// if nothing of it was sent, or if it is a GET.
    func send(
        _ head: HTTPRequestHead, body: Data?, to key: String, timeout: TimeAmount,
        connect: @Sendable () async throws -> NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
    ) async throws -> KeptConnection.Outcome {
        var outcome = KeptConnection.Outcome.notSent(ChannelError.ioOnClosedChannel)
        for _ in 0..<2 {
            let reused = open[key]?.isOpen == true
            let connection = try await connection(for: key, connect: connect)
            outcome = await connection.exchange(head, body: body, timeout: timeout)
            switch outcome {
            case .response: return outcome
            case .notSent where reused, .closedBeforeAnswer where reused && head.method == .GET:
                open[key] = nil
            default:
                open[key] = nil
                return outcome
            }
        }
        return outcome
    }

    private func connection(
        for key: String,
        connect: @Sendable () async throws -> NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
    ) async throws -> KeptConnection {
        if let kept = open[key], kept.isOpen { return kept }
        let kept = KeptConnection(channel: try await connect())
        made += 1
        open[key] = kept
        return kept
    }
}
