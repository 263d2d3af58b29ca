/// The Earth Mover's (1-D Wasserstein-1) distance between histograms over the same bins.
///
/// A histogram is a list of non-negative masses, one per bin; bins are equally spaced
/// `binWidth` apart and ordered (hour of day, a log scale of counts, ...). Both histograms
/// are normalized to total mass 1 first, so the distance compares shapes, not volumes. In one
/// dimension the optimal transport has a closed form: the area between the two cumulative
/// distributions,
///
///     EMD(p, q) = binWidth · Σ_{i < n-1} | P(i) − Q(i) |,   P(i) = Σ_{j ≤ i} p(j) / Σ p
///
/// which is a metric on normalized histograms (zero only for equal shapes, symmetric, the
/// triangle inequality). An empty histogram (total mass 0) is at distance 0 from another empty
/// one and at the largest possible distance, ``maximum(bins:binWidth:)``, from any other: the
/// extension keeps all three properties.
public enum EarthMovers {
    /// Why two histograms cannot be compared.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The histograms have different numbers of bins.
        case binCountMismatch(left: Int, right: Int)
        /// A bin holds a negative, infinite or NaN mass.
        case invalidMass(bin: Int, value: Double)
        /// The bin width is not a positive finite number.
        case invalidBinWidth(Double)

        public var description: String {
            switch self {
            case .binCountMismatch(let left, let right):
                "histograms over different bins (\(left) and \(right)): build both over the same bins"
            case .invalidMass(let bin, let value):
                "bin \(bin) holds \(value): masses must be finite and not negative"
            case .invalidBinWidth(let width): "binWidth \(width) must be a positive finite number"
            }
        }
    }

    /// The distance between `left` and `right`, in units of `binWidth` per unit of mass.
    /// - Throws: ``Failure`` when the bins differ or a mass is negative or not finite.
    public static func distance(_ left: [Double], _ right: [Double], binWidth: Double = 1) throws -> Double {
        guard left.count == right.count else { throw Failure.binCountMismatch(left: left.count, right: right.count) }
        guard binWidth > 0, binWidth.isFinite else { throw Failure.invalidBinWidth(binWidth) }
        let leftTotal = try total(left)
        let rightTotal = try total(right)
        switch (leftTotal > 0, rightTotal > 0) {
        case (false, false): return 0
        case (true, false), (false, true): return maximum(bins: left.count, binWidth: binWidth)
        case (true, true): break
        }
        var leftCumulative = 0.0
        var rightCumulative = 0.0
        var area = 0.0
        for bin in 0..<(left.count - 1) {
            leftCumulative += left[bin] / leftTotal
            rightCumulative += right[bin] / rightTotal
            area += abs(leftCumulative - rightCumulative)
        }
        return area * binWidth
    }

    /// The largest distance two histograms over `bins` bins can be apart: all the mass at
    /// one end against all of it at the other.
    public static func maximum(bins: Int, binWidth: Double = 1) -> Double {
        Double(max(bins - 1, 0)) * binWidth
    }

    /// ``distance(_:_:binWidth:)`` divided by ``maximum(bins:binWidth:)``: in [0, 1].
    public static func normalizedDistance(_ left: [Double], _ right: [Double]) throws -> Double {
        let largest = maximum(bins: left.count)
        guard largest > 0 else {
            _ = try distance(left, right)
            return 0
        }
        return try distance(left, right) / largest
    }

    /// The nested form over per-feature histograms: the weighted mean of each feature's
    /// ``normalizedDistance(_:_:)``, so a principal's profile (several histograms) is
    /// compared with another's as one number in [0, 1]. Weights default to equal.
    /// - Throws: ``Failure`` when the profiles have different numbers of features or bins.
    public static func profileDistance(_ left: [[Double]], _ right: [[Double]], weights: [Double]? = nil) throws
        -> Double
    {
        guard left.count == right.count else { throw Failure.binCountMismatch(left: left.count, right: right.count) }
        let weights = weights ?? Array(repeating: 1, count: left.count)
        guard weights.count == left.count else {
            throw Failure.binCountMismatch(left: left.count, right: weights.count)
        }
        var sum = 0.0
        var weightSum = 0.0
        for (index, weight) in weights.enumerated() {
            sum += weight * (try normalizedDistance(left[index], right[index]))
            weightSum += weight
        }
        return weightSum > 0 ? sum / weightSum : 0
    }

    private static func total(_ masses: [Double]) throws -> Double {
        var sum = 0.0
        for (bin, mass) in masses.enumerated() {
            guard mass >= 0, mass.isFinite else { throw Failure.invalidMass(bin: bin, value: mass) }
            sum += mass
        }
        return sum
    }
}
