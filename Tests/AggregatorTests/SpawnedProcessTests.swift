import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The harness that starts brokers, servers and agents for the tests.
@Suite("Spawned test processes")
struct SpawnedProcessTests {
    @Test(
        "a spawned child holds none of the test process's other descriptors: a pipe's reader sees end-of-file while it runs"
    )
    func spawnedChildInheritsNoDescriptors() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)  // no close-on-exec, like the pipes Foundation's Process uses
        defer { close(ends[0]) }
        let child = try SpawnedProcess("/bin/sleep", ["30"])
        defer { child.kill() }
        close(ends[1])
        // Had the child inherited the write end, the read end would stay open until it exits.
        var ready = pollfd(fd: ends[0], events: Int16(POLLIN), revents: 0)
        #expect(poll(&ready, 1, 5_000) == 1, "no end-of-file: the child holds the pipe's write end")
        var byte: UInt8 = 0
        #expect(read(ends[0], &byte, 1) == 0)
        #expect(child.isRunning)
        // Right after exec the dynamic loader briefly holds the shared libraries it maps (fd 3 on
        // a loaded machine): an inherited descriptor stays open, so wait for the child to settle.
        var open: [String] = []
        for _ in 0..<100 {
            open = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(child.processIdentifier)/fd")
            if Set(open) == ["0", "1", "2"] { break }
            usleep(20_000)
        }
        #expect(Set(open) == ["0", "1", "2"], "descriptors open in the child: \(open.sorted())")
    }
}
