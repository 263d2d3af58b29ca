#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Gives back to the kernel the pages of the executable and its libraries that only starting
/// up needed (argument and configuration parsing, TLS and SQLite set-up, the Swift runtime's
/// first metadata and conformance scans).
///
/// Starting faults in code and read-only data in 64 KiB windows, most of which an idle or
/// steadily working agent never touches again; they stay in its resident set until memory is
/// short. ``release()`` asks the kernel (`madvise(MADV_PAGEOUT)`, Linux 5.4+) to reclaim the
/// clean file-backed pages of every private, non-writable file mapping of this process now.
/// Nothing is lost: a page used again is read back from the file (page cache or disk). The
/// process's own memory (heap, stacks, written data) is not touched. The agent calls it once,
/// a few seconds after start (`[operations] release_startup_pages`; docs/agent.md).
public enum StartupPages {
    /// `MADV_PAGEOUT` from `<linux/mman.h>` (glibc's headers may not name it).
    static let adviceValue: Int32 = 21

    /// The mappings ``release()`` advises: private, not writable, backed by a file.
    public struct Mapping: Equatable, Sendable {
        /// The first address.
        public var start: UInt
        /// One past the last address.
        public var end: UInt
        /// The file mapped.
        public var path: String
    }

    /// Releases the clean file-backed pages of the private read-only and executable mappings;
    /// returns how many bytes of mappings were advised (0 where unsupported).
    @discardableResult
    public static func release() -> Int {
        #if os(Linux)
            var advised = 0
            for mapping in mappings() {
                let length = Int(mapping.end - mapping.start)
                if madvise(UnsafeMutableRawPointer(bitPattern: mapping.start), length, adviceValue) == 0 {
                    advised += length
                }
            }
            return advised
        #else
            return 0
        #endif
    }

    /// The resident set size of this process in bytes (`/proc/self/statm`), 0 if unknown.
    public static func residentBytes() -> Int {
        guard let text = readProcFile("/proc/self/statm") else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The private, non-writable, file-backed mappings listed in `/proc/self/maps`.
    public static func mappings() -> [Mapping] {
        guard let text = readProcFile("/proc/self/maps") else { return [] }
        return text.split(separator: "\n").compactMap { parse(Substring($0)) }
    }

    /// One line of `/proc/PID/maps`: `start-end perms offset dev inode path`; nil unless it is a
    /// private (`p`), non-writable mapping of a file (path starting with `/`).
    static func parse(_ line: Substring) -> Mapping? {
        let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
        guard fields.count == 6 else { return nil }
        let permissions = Array(fields[1].utf8)
        let path = fields[5].drop(while: { $0 == " " })
        guard permissions.count == 4, permissions[1] != UInt8(ascii: "w"), permissions[3] == UInt8(ascii: "p"),
            path.hasPrefix("/"), !path.hasSuffix(" (deleted)")
        else { return nil }
        let range = fields[0].split(separator: "-")
        guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16), end > start
        else { return nil }
        return Mapping(start: start, end: end, path: String(path))
    }

    /// Reads a file of `/proc` (size unknown in advance) whole.
    static func readProcFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
