/// An error shown to the user as one line, with a non-zero exit.
public struct UserError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
