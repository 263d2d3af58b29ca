import Foundation

/// The number given on the command line as `name N` (e.g. `--seconds 5`), or `fallback` when
/// it is absent or not a whole number: the benchmarks' options.
public func benchmarkOption(_ name: String, _ fallback: Int, in arguments: [String] = CommandLine.arguments) -> Int {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count, let value = Int(arguments[index + 1])
    else { return fallback }
    return value
}

/// The value at `p` (0 to 1) of `values` by nearest rank; NaN when there are none.
public func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

/// `duration` in milliseconds.
public func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}
