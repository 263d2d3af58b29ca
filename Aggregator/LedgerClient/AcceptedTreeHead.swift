import AgriTraceCore
import Crypto
import Foundation
import LedgerCore

/// The last tree head this client accepted from a log, kept in a file, and the rule for taking
/// a new one: only with a consistency proof from it (split-view detection, as transparency-log
/// clients and witnesses do).
///
/// A server that shows this client one log and someone else (or this client, later) another,
/// both signed by the same key, is caught the first time the two views meet: a head of the
/// same size with another root, or a head whose log does not extend (or is not a prefix of) the
/// accepted one. The file is keyed by the log's signing key, so every server that serves the
/// same log is held to the same view.
public struct AcceptedTreeHead: Sendable {
    /// The folder of the files, one a log (`<signing key hex>.json`).
    public var directory: String
    /// The log's signing key (in single-node mode the authority key).
    public var key: Curve25519.Signing.PublicKey

    /// What ``accept(_:api:)`` did.
    public enum Acceptance: Sendable, Equatable {
        /// No head of this log was accepted before: this one is, on first use.
        case first
        /// The same head as the accepted one.
        case same
        /// A larger log, proved to extend the accepted one: it is the accepted head now.
        case extended(from: UInt64)
        /// A smaller log, proved to be a prefix of the accepted one (the accepted head stays).
        case prefix(of: UInt64)
    }

    public init(directory: String, key: Curve25519.Signing.PublicKey) {
        self.directory = directory
        self.key = key
    }

    /// Where the files go by default: `$XDG_STATE_HOME/agritrace/trusted-heads`, or
    /// `~/.local/state/agritrace/trusted-heads`.
    public static var defaultDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        let state = environment["XDG_STATE_HOME"] ?? ((environment["HOME"] ?? ".") + "/.local/state")
        return state + "/agritrace/trusted-heads"
    }

    /// The file that holds this log's accepted head.
    public var file: String { directory + "/" + key.hex + ".json" }

    /// The accepted head, checked again under the key (a changed file is refused, not believed).
    public func current() throws -> BlockHeader? {
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            return try JSONDecoder().decode(SavedTreeHead.self, from: data).verifiedHead(key: key).value
        } catch {
            throw UserError(
                "the accepted tree head in \(file) is unreadable or does not verify under the log's key (\(error)): the file was changed; remove it only if you know why"
            )
        }
    }

    /// Takes `head` (already verified under ``key``) as the view of the log if it is consistent
    /// with the accepted head, asking the API at `api` for the consistency proof between them.
    /// - Throws: a ``UserError`` starting `SPLIT VIEW` when the two heads cannot be of one log.
    @discardableResult
    public func accept(_ head: Signed<BlockHeader>, api: String) async throws -> Acceptance {
        guard let accepted = try current() else {
            try save(head)
            return .first
        }
        let new = head.value
        if new.logSize == accepted.logSize {
            guard new.logRoot == accepted.logRoot else {
                throw splitView(accepted, new, api: api, why: "the same log size with another root")
            }
            return .same
        }
        let (old, newer) = new.logSize > accepted.logSize ? (accepted, new) : (new, accepted)
        let answer: ConsistencyAnswer
        do {
            answer = try await APIClient.get(
                api, "/v1/consistency", query: ["old": String(old.logSize), "new": String(newer.logSize)])
            try answer.check(old: old.logSize, new: newer.logSize, against: (old, newer))
        } catch {
            throw splitView(accepted, new, api: api, why: "no valid consistency proof between them (\(error))")
        }
        if new.logSize > accepted.logSize {
            try save(head)
            return .extended(from: accepted.logSize)
        }
        return .prefix(of: accepted.logSize)
    }

    private func splitView(_ accepted: BlockHeader, _ shown: BlockHeader, api: String, why: String) -> UserError {
        UserError(
            "SPLIT VIEW: \(api) shows a log of size \(shown.logSize) with root \(shown.logRoot.hex) (block \(shown.height)), signed by the log's key, that cannot be the log of size \(accepted.logSize) with root \(accepted.logRoot.hex) (block \(accepted.height)) accepted before and kept in \(file): \(why). Two signed, inconsistent heads are evidence of a fork: keep both and report them; nothing from this server is believed"
        )
    }

    private func save(_ head: Signed<BlockHeader>) throws {
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data = try encoder.encode(SavedTreeHead(head))
        // Written aside and renamed: a crash leaves the old head or the new one, never half of one.
        let temporary = file + ".\(ProcessInfo.processInfo.processIdentifier).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw UserError("cannot write \(temporary): check the folder's permissions")
        }
        guard rename(temporary, file) == 0 else {
            throw UserError("cannot replace \(file) (errno \(errno)): check the folder's permissions")
        }
    }
}
