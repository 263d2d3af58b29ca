import AgriTraceCore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The aggregator's content-addressed store of sealed blobs: one file per blob, named by its
/// SHA-256, under `<store>.blobs/ab/cd/<hex>`. A blob is written to a temporary file, fsynced
/// and renamed into place (then the folder is fsynced), so a crash leaves either the whole
/// blob or none. Blobs are ciphertexts: nothing here opens them.
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

    /// Stores `blob` under its hash, checking it is `expected`. Idempotent.
    public func put(_ blob: [UInt8], expected: Digest32) throws {
        let actual = Digest32.sha256(blob)
        guard actual == expected else { throw Error.hashMismatch(expected: expected, actual: actual) }
        let final = path(of: actual)
        if FileManager.default.fileExists(atPath: final) { return }
        let folder = (final as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw Error.io("cannot create \(folder): \(error)")
        }
        let temporary = "\(final).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o640)
        guard fd >= 0 else { throw Error.io("cannot create \(temporary): errno \(errno)") }
        var written = 0
        let ok = blob.withUnsafeBytes { raw -> Bool in
            while written < raw.count {
                let n = write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                written += n
            }
            return fsync(fd) == 0
        }
        close(fd)
        guard ok else {
            unlink(temporary)
            throw Error.io("cannot write \(temporary): errno \(errno)")
        }
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

    /// Reads a blob (not checked: the reader checks its hash against the ledger).
    public func get(_ id: Digest32) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path(of: id)) else { throw Error.missing(id) }
        return [UInt8](data)
    }
}
