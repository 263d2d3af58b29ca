import Crypto
import Foundation
import TestSupport
import Testing

@testable import EdgeAgent

#if canImport(Glibc)
    import Glibc
#endif

/// `StartupPages`: the release of start-up only pages of file mappings (docs/agent.md).
@Suite struct StartupPagesTests {
    /// The resident kilobytes of the mapping that starts at `start`, from `/proc/self/smaps`.
    static func residentKilobytes(at start: UInt) throws -> Int {
        // Read to the end with read(2): /proc files report a size of 0.
        let smaps = try #require(StartupPages.readProcFile("/proc/self/smaps"))
        var inside = false
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let first = fields.first, first.contains("-"), !first.hasSuffix(":") {
                inside = UInt(first.split(separator: "-")[0], radix: 16) == start
            } else if inside, fields.first == "Rss:", fields.count > 1, let kilobytes = Int(fields[1]) {
                return kilobytes
            }
        }
        throw SmapsError.mappingNotFound(start)
    }

    enum SmapsError: Error { case mappingNotFound(UInt) }

    @Test func parsesOnlyPrivateReadOnlyFileMappings() throws {
        let text = """
            00400000-013f5000 r-xp 00000000 fd:01 1234   /usr/local/bin/agritrace-agent
            013f6000-01463000 r--p 00ff5000 fd:01 1234   /usr/local/bin/agritrace-agent
            01463000-016cf000 rw-p 01062000 fd:01 1234   /usr/local/bin/agritrace-agent
            02000000-02100000 rw-p 00000000 00:00 0      [heap]
            7f0000000000-7f0000100000 r--s 00000000 fd:01 99   /var/lib/agritrace-agent/agent.sqlite-shm
            7f0000200000-7f0000300000 r-xp 00000000 fd:01 77   /usr/lib/with space/libx.so
            7f0000400000-7f0000500000 r--p 00000000 fd:01 78   /tmp/gone (deleted)
            7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0      [stack]
            """
        let mappings = text.split(separator: "\n").compactMap { StartupPages.parse(Substring($0)) }
        #expect(
            mappings == [
                .init(start: 0x40_0000, end: 0x13f_5000, path: "/usr/local/bin/agritrace-agent"),
                .init(start: 0x13f_6000, end: 0x146_3000, path: "/usr/local/bin/agritrace-agent"),
                .init(start: 0x7f00_0020_0000, end: 0x7f00_0030_0000, path: "/usr/lib/with space/libx.so"),
            ])
        // The test process's own mappings: its executable and libc are there, nothing writable.
        let own = StartupPages.mappings()
        #expect(own.contains { $0.path.contains("libc.so") })
        #expect(own.allSatisfy { $0.path.hasPrefix("/") && $0.end > $0.start })
    }

    @Test func releaseDropsTouchedFilePagesAndKeepsTheirContent() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("mapped.bin")
        let size = 4 << 20
        var content = [UInt8](repeating: 0, count: size)
        for index in stride(from: 0, to: size, by: 32) {
            let block = SHA256.hash(data: withUnsafeBytes(of: index) { Array($0) })
            block.withUnsafeBytes { content.replaceSubrange(index..<index + 32, with: $0) }
        }
        let descriptor = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        #expect(content.withUnsafeBytes { write(descriptor, $0.baseAddress, size) } == size)
        // Clean page-cache pages only: the kernel does not reclaim dirty ones on advice.
        #expect(fsync(descriptor) == 0)
        let readOnly = try #require(mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0))
        #expect(readOnly != MAP_FAILED)
        defer { munmap(readOnly, size) }
        let start = UInt(bitPattern: readOnly)
        let digest = SHA256.hash(data: UnsafeRawBufferPointer(start: readOnly, count: size))
        #expect(digest == SHA256.hash(data: content))
        let before = try Self.residentKilobytes(at: start)
        #expect(before >= 4000, "every page was read, so the mapping is resident")
        #expect(StartupPages.mappings().contains { $0.start == start && $0.path.hasSuffix("/mapped.bin") })

        let advised = StartupPages.release()
        #expect(advised >= size)
        let after = try Self.residentKilobytes(at: start)
        #expect(after < before / 4, "released: \(before) KiB resident before, \(after) KiB after")
        // The content is read back from the file on use.
        #expect(SHA256.hash(data: UnsafeRawBufferPointer(start: readOnly, count: size)) == digest)
    }

    @Test func configurationSwitchDefaultsOnAndRefusesNonBooleans() throws {
        let authority = Curve25519.Signing.PrivateKey().publicKey.hex
        let base = "[device]\nenterprise = \"e\"\nid = \"d\"\n[authority]\npublic_key = \"\(authority)\"\n"
        #expect(try AgentConfiguration.parse(base).operations.releaseStartupPages)
        let off = try AgentConfiguration.parse(base + "[operations]\nrelease_startup_pages = false\n")
        #expect(!off.operations.releaseStartupPages)
        let error = #expect(throws: ConfigurationError.self) {
            try AgentConfiguration.parse(base + "[operations]\nrelease_startup_pages = \"yes\"\n")
        }
        guard case .invalid(let key, _)? = error else {
            Issue.record("expected an invalid-key error, got \(String(describing: error))")
            return
        }
        #expect(key == "operations.release_startup_pages")
    }
}
