import AgriTraceCore
import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The aggregator's content-addressed store of sealed blobs: one file per blob, named by its
/// SHA-256, under `<store>.blobs/ab/cd/<hex>`. A blob is written to a temporary file in
/// `<store>.blobs/tmp/` (named `<hex>.<pid>.<random>`), fsynced and renamed into place (then
/// the folder is fsynced), so a crash leaves either the whole blob or none, plus at most a
/// temporary file that ``removeAbandonedTemporaries()`` deletes at the next start. Blobs are
/// ciphertexts: nothing here opens them.
public struct BlobStore: Sendable {
    public enum Error: Swift.Error, CustomStringConvertible {
        case hashMismatch(expected: Digest32, actual: Digest32)
        case io(String)
        case missing(Digest32)

        public var description: String {
            switch self {
            case .hashMismatch(let expected, let actual): "blob hash \(actual) is not the announced \(expected)"
            case .io(let reason): "blob store I/O: \(reason)"
            case .missing(let id): "blob \(id) is not in the blob store"
            }
        }
    }

    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// The blob store next to a ledger store: `<store path>.blobs`.
    public init(storePath: String) { self.init(directory: storePath + ".blobs") }

    /// Where a blob lives.
    public func path(of id: Digest32) -> String {
        let hex = id.hex
        let a = hex.prefix(2)
        let b = hex.dropFirst(2).prefix(2)
        return "\(directory)/\(a)/\(b)/\(hex)"
    }

    public func contains(_ id: Digest32) -> Bool { FileManager.default.fileExists(atPath: path(of: id)) }

    /// The folder of temporary files of blobs being written.
    public var temporaryDirectory: String { directory + "/tmp" }

    /// Deletes the temporary files of writers that no longer run (a process killed or a power
    /// cut in the middle of an upload): those whose process id is not alive. Returns how many.
    @discardableResult
    public func removeAbandonedTemporaries() -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: temporaryDirectory) else { return 0 }
        var removed = 0
        for name in names {
            let parts = name.split(separator: ".")
            if parts.count == 3, let pid = pid_t(parts[1]), pid == getpid() || kill(pid, 0) == 0 || errno == EPERM {
                continue  // a live writer's file
            }
            if unlink(temporaryDirectory + "/" + name) == 0 { removed += 1 }
        }
        return removed
    }

    /// Stores `blob` under its hash, checking it is `expected`. Idempotent.
    public func put(_ blob: [UInt8], expected: Digest32) throws {
        if contains(expected) {
            let actual = Digest32.sha256(blob)
            guard actual == expected else { throw Error.hashMismatch(expected: expected, actual: actual) }
            return
        }
        let writer = try Writer(store: self, expected: expected, size: UInt64(blob.count))
        try writer.append(blob[...])
        try writer.finish()
    }

    /// Writes one blob to disk as its bytes arrive: a temporary file, SHA-256 computed as it
    /// goes, and the blob accepted (fsync, rename into place, fsync of the folder) only if
    /// its size and hash are the announced ones. Memory: the hash state, not the blob.
    public final class Writer {
        public let expected: Digest32
        public let size: UInt64
        public private(set) var written: UInt64 = 0
        let final: String
        let temporary: String
        let folder: String
        var descriptor: Int32
        var hasher = SHA256()

        /// Starts a blob of `size` bytes whose SHA-256 must be `expected`.
        public init(store: BlobStore, expected: Digest32, size: UInt64) throws {
            self.expected = expected
            self.size = size
            final = store.path(of: expected)
            folder = (final as NSString).deletingLastPathComponent
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw Error.io("cannot create \(folder): \(error)")
            }
            do {
                try FileManager.default.createDirectory(
                    atPath: store.temporaryDirectory, withIntermediateDirectories: true)
            } catch {
                throw Error.io("cannot create \(store.temporaryDirectory): \(error)")
            }
            temporary =
                "\(store.temporaryDirectory)/\(expected.hex).\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
            descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o640)
            guard descriptor >= 0 else { throw Error.io("cannot create \(temporary): errno \(errno)") }
        }

        deinit {
            if descriptor >= 0 {
                close(descriptor)
                unlink(temporary)
            }
        }

        /// Appends the next bytes (hashing them); more than the announced size is refused.
        public func append(_ bytes: ArraySlice<UInt8>) throws {
            guard written + UInt64(bytes.count) <= size else {
                throw Error.io("more than the announced \(size) bytes for blob \(expected)")
            }
            hasher.update(data: bytes)
            let fd = descriptor
            let ok = bytes.withUnsafeBytes { raw -> Bool in
                var done = 0
                while done < raw.count {
                    let n = write(fd, raw.baseAddress! + done, raw.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        return false
                    }
                    done += n
                }
                return true
            }
            guard ok else { throw Error.io("cannot write \(temporary): errno \(errno)") }
            written += UInt64(bytes.count)
        }

        /// Checks size and hash, then moves the blob into place. The temporary file is
        /// removed if the blob is not the announced one.
        public func finish() throws {
            guard written == size else {
                throw Error.io("blob \(expected) has \(written) of its \(size) bytes")
            }
            let actual = Digest32(hasher.finalize())
            guard actual == expected else { throw Error.hashMismatch(expected: expected, actual: actual) }
            guard fsync(descriptor) == 0 else { throw Error.io("cannot fsync \(temporary): errno \(errno)") }
            close(descriptor)
            descriptor = -1
            guard rename(temporary, final) == 0 else {
                unlink(temporary)
                throw Error.io("cannot rename \(temporary): errno \(errno)")
            }
            let dirFD = open(folder, O_RDONLY)
            if dirFD >= 0 {
                fsync(dirFD)
                close(dirFD)
            }
        }
    }

    /// The size of a stored blob.
    public func size(of id: Digest32) throws -> Int {
        var info = stat()
        guard stat(path(of: id), &info) == 0 else { throw Error.missing(id) }
        return Int(info.st_size)
    }

    /// Reads `length` bytes of a blob from `offset` (fewer at its end).
    public func read(_ id: Digest32, offset: Int, length: Int) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path(of: id)) else { throw Error.missing(id) }
        defer { try? handle.close() }
        do {
            try handle.seek(toOffset: UInt64(offset))
            return [UInt8](try handle.read(upToCount: length) ?? Data())
        } catch {
            throw Error.io("cannot read blob \(id): \(error)")
        }
    }

    /// Reads a blob (not checked: the reader checks its hash against the ledger).
    public func get(_ id: Digest32) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path(of: id)) else { throw Error.missing(id) }
        return [UInt8](data)
    }
}
