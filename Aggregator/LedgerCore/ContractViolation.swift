import AgriTraceCore

/// Why a contract refused a transaction at admission. The code's raw value is what
/// rejections carry to devices and clients.
public struct ContractViolation: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: RejectionCode
    public var reason: String

    /// A ``RejectionCode/malformed`` refusal.
    public static func malformed(_ reason: String) -> ContractViolation {
        ContractViolation(code: .malformed, reason: reason)
    }

    public var description: String { "\(code.rawValue): \(reason)" }
}
