import Foundation
import TestSupport
import Testing

/// `--version` of the three binaries: the release version and the git commit baked in at
/// build time by BuildInfoPlugin.
@Suite("--version of every binary")
struct VersionTests {
    /// The package's root (this file is Tests/EndToEndTests/VersionTests.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test(arguments: ["agritrace", "agritrace-agent", "agritrace-enroll"])
    func printsTheVersionAndACommitOfThisRepository(binary: String) throws {
        let output = try runCommand(try builtProduct(named: binary), ["--version"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let match = try #require(
            output.wholeMatch(of: /(\d+\.\d+\.\d+) \(commit ([0-9a-f]{12})(-dirty)?\)/), "\(binary): \(output)")
        #expect(match.1 == "0.1.0")
        // The commit is one of this repository's (a fresh clone in CI, a worktree here).
        #expect(throws: Never.self, "\(match.2) is not a commit of \(Self.packageRoot)") {
            try runCommand("git", ["-C", Self.packageRoot, "cat-file", "-e", "\(match.2)^{commit}"])
        }
    }
}
