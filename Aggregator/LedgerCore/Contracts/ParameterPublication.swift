import AgriTraceCore

/// The regulator's parameters contract (`publishParameters`): the scheme's public parameters
/// and the punishment rules, in force from this leaf on. It reads no state.
public enum ParameterPublication {
    /// The typed change: the parameters the regulator published, and the audit event.
    public struct Outcome: Sendable, Hashable {
        /// The publishing regulator.
        public var regulator: String
        public var parameters: AccessParameters
        public var event: ContractEvent
    }

    /// Publishes `parameters` for `submitter` (admission has checked it is a regulator).
    public static func apply(_ parameters: AccessParameters, submitter: String) -> Outcome {
        let detail =
            "\(parameters.maximumStrikes) strikes, \(parameters.blockMilliseconds / 1000) s blocks, \(parameters.trapdoorsPerMinute) trapdoors/min"
        return Outcome(
            regulator: submitter, parameters: parameters,
            event: ContractEvent(subject: "parameters", outcome: .applied, detail: detail))
    }
}
