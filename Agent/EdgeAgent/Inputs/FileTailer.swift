import Logging
import PosixThreads

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Tails a JSON-lines file, surviving rotation (rename + new file, or copy + truncate) and
/// restarts: the inode and the offset of the last complete line are stored in the same
/// transaction as the readings, so no line is read twice or skipped.
public final class FileTailer: Sendable {
    let path: String
    let gate: IntakeGate
    let maxLineBytes: Int
    let pollInterval: TimeInterval
    let logger: Logger
    /// The source name stored with rejects and positions.
    public var source: String { "file:\(path)" }

    /// Bytes read per group commit at most.
    static let maxGroupBytes = 256 * 1024

    public init(
        path: String, gate: IntakeGate, maxLineBytes: Int, pollMilliseconds: Int, logger: Logger
    ) {
        self.path = path
        self.gate = gate
        self.maxLineBytes = maxLineBytes
        self.pollInterval = Double(pollMilliseconds) / 1000
        self.logger = logger
    }

    struct OpenFile {
        var descriptor: Int32
        var device: UInt64
        var inode: UInt64
        var framer: LineFramer
    }

    static func identity(of path: String) -> (device: UInt64, inode: UInt64, size: Int64)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (UInt64(info.st_dev), UInt64(info.st_ino), Int64(info.st_size))
    }

    func open(_ filePath: String, offset: Int64, line: Int64) -> OpenFile? {
        let descriptor = Glibc.open(filePath, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        var info = stat()
        fstat(descriptor, &info)
        if offset > 0 { lseek(descriptor, off_t(offset), SEEK_SET) }
        return OpenFile(
            descriptor: descriptor, device: UInt64(info.st_dev), inode: UInt64(info.st_ino),
            framer: LineFramer(maxLineBytes: maxLineBytes, offset: offset, lineNumber: line))
    }

    /// Finds a file next to `path` (a rotated copy such as `path.1`) with this inode.
    func rotatedFile(device: UInt64, inode: UInt64) -> String? {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return nil }
        for entry in entries where entry.hasPrefix(name) && entry != name {
            let candidate = directory + "/" + entry
            if let identity = Self.identity(of: candidate), identity.device == device, identity.inode == inode {
                return candidate
            }
        }
        return nil
    }

    /// Runs until the stop signal (call on a dedicated thread).
    public func run() {
        var current = resume()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var warnedMissing = false
        while !gate.stopSignal.isStopped {
            if current == nil {
                current = openWhenPresent(warned: &warnedMissing)
                if current == nil { continue }
            }
            guard var file = current else { continue }
            let group = readGroup(&file, buffer: &buffer)
            if !group.lines.isEmpty || group.readBytes > 0 {
                if !group.lines.isEmpty {
                    guard gate.submit(group.lines, source: source, position: position(of: file)) != nil else { break }
                }
                current = file
            }
            guard group.atEnd else { continue }
            // At the end: has the file been rotated or truncated?
            if let identity = Self.identity(of: path), identity.device != file.device || identity.inode != file.inode {
                guard finishRotated(&file, buffer: &buffer) else { break }
                current = followNewFile()
                continue
            }
            if restartIfTruncated(&file) {
                current = file
                continue
            }
            current = file
            PosixThread.sleep(seconds: pollInterval)
        }
        if let file = current { close(file.descriptor) }
    }

    /// The file to resume from the position the store saved: `path` where it was, or its
    /// rotated copy when it was rotated while the agent was stopped; nil to start with `path`
    /// from the beginning.
    func resume() -> OpenFile? {
        guard let saved = try? gate.store.position(of: source) else { return nil }
        if let identity = Self.identity(of: path), identity.device == saved.device, identity.inode == saved.inode {
            if identity.size >= saved.offset { return open(path, offset: saved.offset, line: saved.line) }
            logger.warning(
                "tailed file shrank while the agent was stopped; reading it from the start",
                metadata: ["path": "\(path)"])
            return open(path, offset: 0, line: 0)
        }
        if let rotated = rotatedFile(device: saved.device, inode: saved.inode) {
            logger.info(
                "tailed file was rotated while the agent was stopped; finishing the rotated file first",
                metadata: ["path": "\(rotated)"])
            return open(rotated, offset: saved.offset, line: saved.line)
        }
        if Self.identity(of: path) != nil {
            logger.warning(
                "tailed file was replaced while the agent was stopped and the old file is gone; reading the new file from the start",
                metadata: ["path": "\(path)"])
        }
        return nil
    }

    /// `path` opened from the start once it exists; nil (after one poll interval) while it
    /// does not, said once in the log.
    func openWhenPresent(warned: inout Bool) -> OpenFile? {
        guard Self.identity(of: path) != nil, let opened = open(path, offset: 0, line: 0) else {
            if !warned {
                logger.info("waiting for the tailed file to appear", metadata: ["path": "\(path)"])
                warned = true
            }
            PosixThread.sleep(seconds: pollInterval)
            return nil
        }
        return opened
    }

    /// Reads `file` up to ``maxGroupBytes``: the complete lines, how many bytes were read and
    /// whether the end of the file was reached.
    func readGroup(_ file: inout OpenFile, buffer: inout [UInt8]) -> (
        lines: [InputLine], readBytes: Int, atEnd: Bool
    ) {
        var lines: [InputLine] = []
        var readBytes = 0
        while readBytes < Self.maxGroupBytes {
            let count = buffer.withUnsafeMutableBytes { read(file.descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { return (lines, readBytes, true) }
            readBytes += count
            lines += file.framer.append(buffer[0..<count])
        }
        return (lines, readBytes, false)
    }

    /// The position after the lines of `file` read so far.
    func position(of file: OpenFile) -> InputPosition {
        InputPosition(
            source: source, device: file.device, inode: file.inode, offset: file.framer.consumedOffset,
            line: file.framer.lineNumber)
    }

    /// After a rotation: reads what was appended to the old file before the rename, then its
    /// unterminated tail, submits them and closes it. False when the gate stopped.
    func finishRotated(_ file: inout OpenFile, buffer: inout [UInt8]) -> Bool {
        var rest: [InputLine] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { read(file.descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            rest += file.framer.append(buffer[0..<count])
        }
        let tail = rest + file.framer.finish()
        if !tail.isEmpty {
            guard gate.submit(tail, source: source, position: position(of: file)) != nil else { return false }
        }
        close(file.descriptor)
        return true
    }

    /// Opens the new file at `path` after a rotation and stores the switch now, so a restart
    /// resumes in the new file.
    func followNewFile() -> OpenFile? {
        logger.info("tailed file rotated; following the new file", metadata: ["path": "\(path)"])
        guard let new = open(path, offset: 0, line: 0) else { return nil }
        _ = gate.submit(
            [], source: source,
            position: InputPosition(source: source, device: new.device, inode: new.inode, offset: 0, line: 0))
        return new
    }

    /// When `file` was truncated below what was read: starts it again from the beginning (the
    /// reset position stored) and returns true.
    func restartIfTruncated(_ file: inout OpenFile) -> Bool {
        var info = stat()
        guard fstat(file.descriptor, &info) == 0, Int64(info.st_size) < file.framer.consumedOffset else {
            return false
        }
        logger.warning("tailed file truncated; reading it from the start", metadata: ["path": "\(path)"])
        lseek(file.descriptor, 0, SEEK_SET)
        file.framer = LineFramer(maxLineBytes: maxLineBytes)
        _ = gate.submit(
            [], source: source,
            position: InputPosition(source: source, device: file.device, inode: file.inode, offset: 0, line: 0))
        return true
    }
}
