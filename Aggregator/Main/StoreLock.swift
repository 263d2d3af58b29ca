import Foundation
import LedgerClient

#if canImport(Glibc)
    import Glibc
#endif

/// The one writer of a ledger store: an exclusive `flock` on `<store>.lock`, which holds the
/// writer's PID. A second writer is refused at once, naming the store and the holder; the
/// kernel drops the lock when the holder exits, however it exits (kill -9 included), so a
/// lock file left behind never blocks. Readers (`status`, `verify`, `api`, ...) do not take it.
final class StoreLock {
    /// `<store>.lock`.
    let path: String
    private let descriptor: Int32

    /// Takes the lock of `store` for `command` (written into the lock file with the PID).
    /// - Throws: ``UserError`` naming the store, the holder's PID and the fix when another
    ///   process holds it, or the lock file and the reason when it cannot be opened.
    init(store: String, command: String) throws {
        path = store + ".lock"
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw UserError(
                "cannot open the lock file \(path) of \(store): \(String(cString: strerror(errno))) (the store's folder must be writable)"
            )
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            let holder = Self.holder(descriptor)
            close(descriptor)
            if reason == EWOULDBLOCK {
                throw UserError(
                    "the ledger store \(store) is in use by another writer (\(holder)); one writer per store: stop it first (read-only commands work meanwhile)"
                )
            }
            throw UserError("cannot lock \(path): \(String(cString: strerror(reason)))")
        }
        let line = "\(getpid()) \(command)\n"
        _ = ftruncate(descriptor, 0)
        _ = line.withCString { pwrite(descriptor, $0, strlen($0), 0) }
    }

    /// "pid N, agritrace serve" from the lock file, or a note that it is not written yet.
    private static func holder(_ descriptor: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        let text = String(decoding: buffer.prefix(max(0, count)), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard let space = text.firstIndex(of: " "), let pid = Int32(text[..<space]) else {
            return "its PID is not written yet"
        }
        return "pid \(pid), \(text[text.index(after: space)...])"
    }

    deinit { close(descriptor) }
}
