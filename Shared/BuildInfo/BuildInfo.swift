/// The version and git commit of this build, printed by `--version` of every binary.
///
/// ``version`` is set here by hand at each release; ``commit`` is baked in at build time by
/// `BuildInfoPlugin` (see docs/operations.md, "Versions").
public enum BuildInfo {
    /// The release version (semantic versioning).
    public static let version = "0.1.0"

    /// The git commit the binary was built from (`-dirty` when the sources had changes),
    /// `AGRITRACE_COMMIT` when set at build time, or `unknown`.
    public static let commit = buildCommit

    /// `0.1.0 (commit 0123456789ab)`: what `--version` prints.
    public static var description: String { "\(version) (commit \(commit))" }
}
