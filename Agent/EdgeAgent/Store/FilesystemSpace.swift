#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Free space on the filesystem that holds a file (the store), from `statvfs(3)`.
enum FilesystemSpace {
    /// Bytes an unprivileged writer may still use on the filesystem of `path`'s folder, or nil
    /// when the folder cannot be examined.
    static func freeBytes(near path: String) -> Int64? {
        let folder: String
        if let slash = path.lastIndex(of: "/") {
            folder = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            folder = "."
        }
        var info = statvfs()
        guard statvfs(folder, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}
