import Foundation
import LedgerClient

/// Where an export goes while it is being written: standard output, or a new file beside
/// `--output` that takes its name once complete (no half-written file under that name, as a
/// whole-document atomic write left none).
enum ExportOutput {
    /// Runs `body` with a function taking the export's bytes, chunk by chunk, to `path` (standard
    /// output when nil). The file appears only if `body` returns.
    static func write(
        to path: String?, _ body: (_ output: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        guard let path else {
            try body { FileHandle.standardOutput.write(Data($0)) }
            return
        }
        let url = URL(fileURLWithPath: path)
        let partial = url.deletingLastPathComponent().appendingPathComponent(
            ".\(url.lastPathComponent).partial-\(getpid())")
        var file: FileHandle?
        do {
            try body { chunk in
                if file == nil { file = try Self.create(partial.path, for: path) }
                do {
                    try file?.write(contentsOf: Data(chunk))
                } catch {
                    throw UserError("cannot write \(path): \(error.localizedDescription)")
                }
            }
            if file == nil { file = try Self.create(partial.path, for: path) }
            try file?.close()
            guard rename(partial.path, path) == 0 else {
                throw UserError("cannot write \(path): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? file?.close()
            try? FileManager.default.removeItem(at: partial)
            throw error
        }
    }

    /// A new empty file at `partial` open for writing (named after `path` in errors).
    static func create(_ partial: String, for path: String) throws -> FileHandle {
        guard FileManager.default.createFile(atPath: partial, contents: nil),
            let handle = FileHandle(forWritingAtPath: partial)
        else { throw UserError("cannot write \(path): cannot create \(partial)") }
        return handle
    }
}
