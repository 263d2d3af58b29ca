import AgriTraceCore

/// A value per stage, read by the stage's ordinal: what a dictionary keyed by stage gives,
/// without hashing on every row of a large export.
struct StageTable<Value> {
    private let values: [Value]

    /// The table of `make(stage)` for every stage.
    init(_ make: (Stage) -> Value) {
        values = Stage.allCases.sorted { $0.ordinal < $1.ordinal }.map(make)
    }

    subscript(stage: Stage) -> Value { values[Int(stage.ordinal)] }
}

extension StageTable: Sendable where Value: Sendable {}
