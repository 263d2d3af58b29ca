import Blobs
import Foundation
import Ledger
import LedgerClient
import Logging

/// `serve --settings FILE`: the settings a reload (SIGHUP, `systemctl reload agritrace`)
/// changes without a restart, as `name = value` lines named like the command-line options
/// (`log-level = debug`, `max-blob-bytes = 1073741824`); `#` starts a comment. Read at start
/// (a value there wins over the command line's) and again on every SIGHUP; a line removed
/// from the file goes back to the command line's value.
struct ServerSettings: Sendable {
    /// The settings the file may hold.
    enum Name: String, CaseIterable, Sendable {
        case logLevel = "log-level"
        case maxUnfinishedUploads = "max-unfinished-uploads"
        case maxUnfinishedUploadsPerDevice = "max-unfinished-uploads-per-device"
        case unfinishedUploadTimeout = "unfinished-upload-timeout"
        case maxBlobBytes = "max-blob-bytes"
    }

    /// The level of every logger of the process.
    var logLevel: Logger.Level
    /// The blob service's upload limits.
    var blobLimits: BlobService.Limits

    /// One line of the log: every setting and its value.
    var summary: String {
        "log-level=\(logLevel) max-unfinished-uploads=\(blobLimits.maxUnfinishedUploads) "
            + "max-unfinished-uploads-per-device=\(blobLimits.maxUnfinishedUploadsPerDevice) "
            + "unfinished-upload-timeout=\(blobLimits.unfinishedUploadTimeout.components.seconds) "
            + "max-blob-bytes=\(blobLimits.maxBlobBytes)"
    }

    /// The settings of `file` over `base` (the command line's).
    /// - Throws: ``UserError`` naming the file, the line and the fix.
    static func read(file: String, over base: ServerSettings) throws -> ServerSettings {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw UserError("--settings \(file): cannot read it (\(error.localizedDescription))")
        }
        var settings = base
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
                .trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty else { continue }
            let place = "--settings \(file) line \(index + 1)"
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[1].isEmpty else {
                throw UserError("\(place): '\(line)' is not 'name = value' (e.g. log-level = debug)")
            }
            guard let name = Name(rawValue: parts[0]) else {
                throw UserError(
                    "\(place): unknown setting '\(parts[0])'; a reload changes "
                        + Name.allCases.map(\.rawValue).joined(separator: ", ")
                        + " (give the other options on the command line: they need a restart)")
            }
            try settings.set(name, to: parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")), at: place)
        }
        return settings
    }

    /// Sets one setting from its text.
    mutating func set(_ name: Name, to value: String, at place: String) throws {
        if name == .logLevel {
            guard let level = Logger.Level(rawValue: value) else {
                throw UserError(
                    "\(place): log-level = \(value): use trace, debug, info, notice, warning, error or critical")
            }
            logLevel = level
            return
        }
        guard let number = UInt64(value), number >= 1 else {
            throw UserError("\(place): \(name.rawValue) = \(value): give a whole number, at least 1")
        }
        switch name {
        case .logLevel: break
        case .maxUnfinishedUploads: blobLimits.maxUnfinishedUploads = Int(clamping: number)
        case .maxUnfinishedUploadsPerDevice: blobLimits.maxUnfinishedUploadsPerDevice = Int(clamping: number)
        case .unfinishedUploadTimeout: blobLimits.unfinishedUploadTimeout = .seconds(Int64(clamping: number))
        case .maxBlobBytes: blobLimits.maxBlobBytes = number
        }
    }
}
