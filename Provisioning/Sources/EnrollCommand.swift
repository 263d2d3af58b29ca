import ArgumentParser

/// Placeholder replaced below.
public struct EnrollCommand: ParsableCommand {
    public init() {}
    public func run() throws {}
}
