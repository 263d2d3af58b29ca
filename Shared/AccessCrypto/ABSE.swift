import BLS12381
import Crypto
import Foundation

/// Attribute-based searchable encryption with a fully hidden AND-gate policy.
///
/// The owner's policy is a list of `slotCount` attribute conditions (a required value or a
/// wildcard) plus a keyword. It is encoded as a hidden vector (Katz–Sahai–Waters) and
/// encrypted with an attribute-hiding inner-product predicate encryption over a dual pairing
/// vector space (Okamoto–Takashima). A requester's trapdoor encodes its certified attribute
/// values and a keyword; TEST (the regulator) recovers the access token D exactly when every
/// non-wildcard slot equals the requester's value and the keywords are equal, and otherwise
/// learns nothing but "no match". See `docs/crypto.md` for the exact scheme.
///
/// Published algorithm names map as follows: `TSetup` → ``setup(slotCount:)``;
/// `AddUser` + `ASetup` + `AttG` → ``issueAttributeKey(master:attributes:)`` (attribute keys
/// are issued as one inseparable vector; there are no per-attribute keys, see the docs);
/// `PrdIT` → ``indexToken(policy:publicParameters:)``; `PrdST` →
/// ``searchToken(attributes:)``; `ABSE` → ``encrypt(keyword:token:indexToken:publicParameters:)``;
/// `TrpG` → ``trapdoor(keyword:attributeKey:)``; `TEST` → ``test(_:_:publicParameters:)``.
public enum ABSE {
    typealias S = BLS12381.Scalar

    static let attributeTag = "AgriTrace-ABSE-v1-attribute"
    static let keywordTag = "AgriTrace-ABSE-v1-keyword"
    static let kemTag = "AgriTrace-ABSE-v1-kem"

    /// Dimension of the vector space for `n` attribute slots: two coordinates per slot,
    /// two for the keyword, and three for the scheme (ζ, η, δ).
    static func dimension(_ n: Int) -> Int { 2 * (n + 1) + 3 }

    // MARK: Types

    /// `CP`: the public basis B (N vectors of N points of G1) and e(g1, g2)^ψ.
    public struct PublicParameters: Sendable, Equatable {
        public let slotCount: Int
        /// basis[i][j]: component j of basis vector b_i.
        let basis: [[BLS12381.G1]]
        let gtPsi: BLS12381.GT
        /// Fixed-base tables for `encrypt`, built on first use (see ``BasisTables``).
        let tables: BasisTables

        init(slotCount: Int, basis: [[BLS12381.G1]], gtPsi: BLS12381.GT) {
            self.slotCount = slotCount
            self.basis = basis
            self.gtPsi = gtPsi
            self.tables = BasisTables()
        }

        var dimension: Int { ABSE.dimension(slotCount) }

        public static func == (a: PublicParameters, b: PublicParameters) -> Bool {
            a.slotCount == b.slotCount && a.basis == b.basis && a.gtPsi == b.gtPsi
        }
    }

    /// Per-column fixed-base MSM tables over the public basis, built once per
    /// ``PublicParameters`` value on the first `encrypt` and shared by its copies.
    ///
    /// Column j holds the points basis[i][j] for every row i but η (a ciphertext's η
    /// coefficient is always zero). Memory: N·(N−1)·16·parts affine points of 104 bytes;
    /// `parts` is 4 while that stays within `tableBudget`, else 2, else 1 (see docs/crypto.md).
    /// Also the powers of e(g1, g2)^ψ for the KEM's exponentiation (576 KiB), built on first use
    /// by either `encrypt`.
    final class BasisTables: @unchecked Sendable {
        static let tableBudget = 16 << 20
        private let lock = NSLock()
        private var columns: [BLS12381.G1.FixedBases]?
        private var gtPowers: BLS12381.GT.FixedBase?

        /// The value in `slot`, built by `build` under the lock on first use (the lock guards
        /// only these one-time builds and the cached references).
        private func cached<T>(_ slot: ReferenceWritableKeyPath<BasisTables, T?>, _ build: () -> T) -> T {
            lock.lock()
            defer { lock.unlock() }
            if let value = self[keyPath: slot] { return value }
            let built = build()
            self[keyPath: slot] = built
            return built
        }

        /// The powers of e(g1, g2)^ψ.
        func gtPsiPowers(for pp: PublicParameters) -> BLS12381.GT.FixedBase {
            cached(\.gtPowers) { BLS12381.GT.FixedBase(pp.gtPsi) }
        }

        static func parts(dimension n: Int) -> Int {
            let perPart = n * (n - 1) * 16 * 104
            if 4 * perPart <= tableBudget { return 4 }
            if 2 * perPart <= tableBudget { return 2 }
            return 1
        }

        /// The column tables for `pp`.
        func columns(for pp: PublicParameters) -> [BLS12381.G1.FixedBases] {
            cached(\.columns) {
                let dim = pp.dimension
                let eta = 2 * pp.slotCount + 3
                let parts = Self.parts(dimension: dim)
                return (0..<dim).map { j in
                    BLS12381.G1.FixedBases(
                        points: (0..<dim).filter { $0 != eta }.map { pp.basis[$0][j] }, parts: parts)
                }
            }
        }
    }

    /// `UMK`: the dual basis B* as scalars (ψ · (X⁻¹)ᵀ); held by the regulator only.
    public struct MasterKey: Sendable, Equatable {
        public let slotCount: Int
        let dual: [[S]]
    }

    /// `ASK`: a requester's attribute key for all its slot values at once: the
    /// re-randomization vector k₀ and the keyword-delegation vectors k₁, k₂ (G2 vectors).
    public struct AttributeKey: Sendable, Equatable {
        public let slotCount: Int
        let main: [BLS12381.G2]
        let keyword0: [BLS12381.G2]
        let keyword1: [BLS12381.G2]
    }

    /// `IT`: the owner's secret hidden-vector encoding of its policy (random per-slot
    /// coefficients). Never published; one per ciphertext.
    public struct IndexToken: Sendable {
        public let slotCount: Int
        /// x_0 … x_{2n−1}: (r_i, −r_i·H(a_i)) per required slot, (0, 0) per wildcard.
        let coefficients: [S]
    }

    /// `E`: the searchable ciphertext: one G1 vector and the sealed token D.
    public struct SearchableCiphertext: Sendable, Equatable {
        public let slotCount: Int
        let vector: [BLS12381.G1]
        let sealedToken: [UInt8]
    }

    /// `T`: a trapdoor, one G2 vector.
    public struct Trapdoor: Sendable, Equatable {
        public let slotCount: Int
        let vector: [BLS12381.G2]
    }

    // MARK: Algorithms

    /// `TSetup`: a fresh dual pairing vector space for `slotCount` attribute slots.
    ///
    /// The regulator runs this once and publishes the public parameters.
    public static func setup(slotCount: Int) throws(AccessCryptoError) -> (PublicParameters, MasterKey) {
        guard (1...64).contains(slotCount) else { throw .unsupportedSlotCount(slotCount) }
        let n = dimension(slotCount)
        let (x, dualT) = FrMatrix.randomDualPair(n)
        let psi = S.random()
        let basis = x.map { row in row.map { BLS12381.G1.generatorMultiple($0) } }
        let dual = dualT.map { row in row.map { $0 * psi } }
        let gtPsi = BLS12381.GT.generator.power(psi)
        return (
            PublicParameters(slotCount: slotCount, basis: basis, gtPsi: gtPsi),
            MasterKey(slotCount: slotCount, dual: dual)
        )
    }

    /// The Fr value of attribute `value` in slot `slot` (hash with a domain tag).
    static func attributeScalar(slot: Int, _ value: String) -> S {
        Hashing.scalar(tag: attributeTag, slot: slot, value: value)
    }

    static func keywordScalar(_ keyword: String) -> S {
        Hashing.scalar(tag: keywordTag, slot: 0, value: keyword)
    }

    /// `AddUser` + `AttG`: the regulator issues a requester's key for its attribute values
    /// (one per slot, in slot order). Fresh randomness every call: keys issued twice for the
    /// same requester cannot be combined into a key for other values.
    public static func issueAttributeKey(
        master: MasterKey, attributes: [String]
    ) throws(AccessCryptoError) -> AttributeKey {
        let n = master.slotCount
        guard attributes.count == n else { throw .wrongAttributeCount(expected: n, got: attributes.count) }
        let dim = dimension(n)
        let kw = 2 * n, zeta = 2 * n + 2, eta = 2 * n + 3
        // y: (b_i, 1) per slot.
        var y = [S](repeating: .zero, count: 2 * n)
        for i in 0..<n {
            y[2 * i] = attributeScalar(slot: i, attributes[i])
            y[2 * i + 1] = .one
        }
        func keyVector(sigma: S, units: [Int]) -> [BLS12381.G2] {
            var coeff = [S](repeating: .zero, count: dim)
            for j in 0..<(2 * n) { coeff[j] = sigma * y[j] }
            for u in units { coeff[u] = .one }
            coeff[eta] = .random()
            return combineG2(coeff, master.dual)
        }
        // k₀ carries no unit coordinate (it only re-randomizes); the ζ unit sits in k₂
        // together with the keyword's constant coordinate, so every trapdoor that can
        // decrypt has keyword coordinates (β, 1) and matches only when β = H(K).
        return AttributeKey(
            slotCount: n,
            main: keyVector(sigma: .random(), units: []),
            keyword0: keyVector(sigma: .random(), units: [kw]),
            keyword1: keyVector(sigma: .random(), units: [kw + 1, zeta])
        )
    }

    /// Σ_i coeff_i · b*_i computed in the exponent: component j is g2^(Σ_i coeff_i·B*[i][j])
    /// (constant-time fixed-base multiplication).
    static func combineG2(_ coeff: [S], _ dual: [[S]]) -> [BLS12381.G2] {
        let dim = coeff.count
        return (0..<dim).map { j in
            var acc = S.zero
            for i in 0..<dim { acc = acc + coeff[i] * dual[i][j] }
            return BLS12381.G2.generatorMultiple(acc)
        }
    }

    /// `PrdIT`: the owner's hidden-vector encoding of a policy: one entry per slot, nil for
    /// a wildcard. Each required slot gets a fresh random coefficient r_i.
    public static func indexToken(
        policy: [String?], publicParameters pp: PublicParameters
    ) throws(AccessCryptoError) -> IndexToken {
        let n = pp.slotCount
        guard policy.count == n else { throw .wrongAttributeCount(expected: n, got: policy.count) }
        var x = [S](repeating: .zero, count: 2 * n)
        for (i, condition) in policy.enumerated() {
            guard let value = condition else { continue }
            let r = S.random()
            x[2 * i] = r
            x[2 * i + 1] = -(r * attributeScalar(slot: i, value))
        }
        return IndexToken(slotCount: n, coefficients: x)
    }

    /// `PrdST`: the requester's encoding of its attribute values. Returned for
    /// completeness: the values are already bound into the ``AttributeKey`` the regulator
    /// issued, so a requester cannot choose them (``trapdoor(keyword:attributeKey:)`` needs
    /// only the key).
    public static func searchToken(attributes: [String]) -> [BLS12381.Scalar] {
        attributes.enumerated().map { attributeScalar(slot: $0.offset, $0.element) }
    }

    /// `ABSE`: the searchable ciphertext E of the access token D under the policy encoded in
    /// `indexToken` and the keyword K.
    ///
    /// E is one vector c = Σ x_j b_j + ζ b_ζ + δ b_δ of G1 points plus AES-256-GCM(D) under
    /// a key derived from e(g1, g2)^(ψζ). Its size depends only on the slot count and |D|.
    ///
    /// - Parameter workers: threads the column MSMs are spread over (default: the active
    ///   processor count, at most 4; 1 runs everything on the calling thread). The work and
    ///   its timing do not depend on the secret coefficients either way.
    public static func encrypt(
        keyword: String, token: [UInt8], indexToken it: IndexToken, publicParameters pp: PublicParameters,
        workers: Int = defaultWorkers
    ) throws(AccessCryptoError) -> SearchableCiphertext {
        let n = pp.slotCount
        guard it.slotCount == n else { throw .slotCountMismatch(expected: n, got: it.slotCount) }
        let dim = pp.dimension
        let kw = 2 * n, zeta = 2 * n + 2, delta = 2 * n + 4
        var coeff = [S](repeating: .zero, count: dim)
        for j in 0..<(2 * n) { coeff[j] = it.coefficients[j] }
        let rk = S.random()
        coeff[kw] = rk
        coeff[kw + 1] = -(rk * keywordScalar(keyword))
        let z = S.random()
        coeff[zeta] = z
        coeff[delta] = S.random()
        // Column j of c is the MSM sum_i coeff_i * basis[i][j] over every row but η (always 0
        // in a ciphertext, public structure), computed with constant-time fixed-base tables:
        // every coefficient, zero or not, costs the same, so the running time depends neither
        // on the secret coefficients nor on the wildcard pattern.
        let scalars = (0..<dim).filter { $0 != zeta + 1 }.map { coeff[$0] }
        let (vector, gtZ) = columnsAndPower(scalars, z, pp, workers: workers)
        let bytes = vectorBytes(vector)
        let key = Hashing.kemKey(tag: kemTag, gtZ, context: bytes)
        let sealed = Hashing.seal(token, key: key, aad: bytes)
        return SearchableCiphertext(slotCount: n, vector: vector, sealedToken: sealed)
    }

    /// The ciphertext vector (column j = Σ_i scalars_i · basis[i][j] over every row but η)
    /// and e(g1, g2)^(ψz). The N column MSMs and the GT exponentiation are independent: they
    /// are spread over `workers` threads (item N is the GT power), each thread writing only
    /// its own slots. Every item is constant time in the secrets, so is the whole.
    static func columnsAndPower(
        _ scalars: [S], _ z: S, _ pp: PublicParameters, workers: Int
    ) -> ([BLS12381.G1], BLS12381.GT) {
        columnsAndPower(
            scalars, z, columns: pp.tables.columns(for: pp), gtPsi: pp.tables.gtPsiPowers(for: pp), workers: workers)
    }

    /// Column j = `columns[j].multiply(scalars)` for every j, and `gtPsi`^z.
    ///
    /// The columns are cut into strided batches (batch b takes columns b, b + batches, …),
    /// each summed by one call of `FixedBases.multiply(_:sharing:)`; batch b runs on thread
    /// b mod `workers`, and the GT power goes with the last batch (one with the fewest
    /// columns). There are at least `workers` batches, and more when a batch would exceed
    /// ``maxBatchPoints``.
    static func columnsAndPower(
        _ scalars: [S], _ z: S, columns: [BLS12381.G1.FixedBases], gtPsi: BLS12381.GT.FixedBase, workers: Int
    ) -> ([BLS12381.G1], BLS12381.GT) {
        let dim = columns.count
        let results = EncryptResults(columns: dim)
        let perBatch = max(1, maxBatchPoints / max(1, scalars.count))
        let batches = min(dim, max(workers, (dim + perBatch - 1) / perBatch))
        parallelFor(items: batches, workers: workers) { b in
            let indices = Array(stride(from: b, to: dim, by: batches))
            let sums = BLS12381.G1.FixedBases.multiply(indices.map { columns[$0] }, sharing: scalars)
            for (k, j) in indices.enumerated() { results.setColumn(j, sums[k]) }
            if b == batches - 1 { results.setGT(gtPsi.power(z)) }
        }
        return (results.vector, results.gt)
    }

    /// Most (columns × rows) summed in one batched call: the batch's working storage grows
    /// with it (about 10 KB per column and row), and past about 11 columns of 20 rows a
    /// batch ran slower per column on the 1 MiB L2 cache measured (BENCHMARKS.md, access).
    static let maxBatchPoints = 220

    /// `PrdIT` + `ABSE` in one call (`workers` as in the other `encrypt`).
    public static func encrypt(
        keyword: String, token: [UInt8], policy: [String?], publicParameters pp: PublicParameters,
        workers: Int = defaultWorkers
    ) throws(AccessCryptoError) -> SearchableCiphertext {
        try encrypt(
            keyword: keyword, token: token, indexToken: indexToken(policy: policy, publicParameters: pp),
            publicParameters: pp, workers: workers)
    }

    /// A policy prepared once for many encryptions (the owner protects every lot with the
    /// same policy file): for each required slot i the combined row
    /// v_i = b_{2i} − H(a_i)·b_{2i+1}, and per-column fixed-base tables over the rows
    /// {v_i (required slots), b_kw, b_kw+1, b_ζ, b_δ}.
    ///
    /// ``encrypt(keyword:token:prepared:workers:)`` then computes
    /// c = Σ_i r_i·v_i + r_K·b_kw − r_K·H(K)·b_kw+1 + ζ·b_ζ + δ·b_δ, which is exactly the
    /// vector of ``encrypt(keyword:token:policy:publicParameters:workers:)`` for the same
    /// randomness (r_i·v_i = r_i·b_{2i} − r_i·H(a_i)·b_{2i+1}; wildcard slots contribute
    /// zero), with (required slots + 4) MSM rows per column instead of 2n + 4.
    ///
    /// Secret: it holds the policy and is derived from it; keep it on the owner's machine.
    /// Its build time, memory and each encryption's running time depend on how many slots
    /// are required (never on which values): only the owner, who knows its policy, runs it;
    /// the ciphertext is still N points and reveals nothing of it.
    public struct PreparedPolicy: Sendable {
        /// Number of attribute slots (of the public parameters it was prepared for).
        public let slotCount: Int
        /// The conditions it was prepared from, one per slot, nil for a wildcard.
        public let policy: [String?]
        let publicParameters: PublicParameters
        /// Slots with a required value, in slot order.
        let required: [Int]
        /// Column j: tables over component j of the rows v_i (required slots, in slot
        /// order), b_kw, b_kw+1, b_ζ, b_δ.
        let columns: [BLS12381.G1.FixedBases]

        /// `PrdIT`'s deterministic part: the combined rows and their tables.
        /// - Parameters:
        ///   - policy: one entry per slot, nil for a wildcard.
        ///   - publicParameters: the regulator's public parameters.
        ///   - workers: threads the N columns are built on (default as for `encrypt`).
        public init(
            policy: [String?], publicParameters pp: PublicParameters, workers: Int = ABSE.defaultWorkers
        ) throws(AccessCryptoError) {
            let n = pp.slotCount
            guard policy.count == n else { throw .wrongAttributeCount(expected: n, got: policy.count) }
            let dim = pp.dimension
            let kw = 2 * n, zeta = 2 * n + 2, delta = 2 * n + 4
            let conditions = policy.enumerated().compactMap { i, value in value.map { (i, $0) } }
            let required = conditions.map(\.0)
            // H(a_i) is secret: the constant-time scalar multiplication (4-bit window,
            // masked table scan) and complete additions.
            let hashes = conditions.map { attributeScalar(slot: $0.0, $0.1) }
            let rowCount = required.count + 4
            let parts = Self.parts(dimension: dim, rows: rowCount)
            let basis = pp.basis
            let built = Slots<BLS12381.G1.FixedBases>(count: dim)
            // Columns are independent: thread t builds columns t, t + workers, … (index only).
            parallelFor(items: dim, workers: workers) { j in
                var points: [BLS12381.G1] = []
                points.reserveCapacity(rowCount)
                for (k, i) in required.enumerated() {
                    points.append(basis[2 * i][j] - basis[2 * i + 1][j] * hashes[k])
                }
                for row in [kw, kw + 1, zeta, delta] { points.append(basis[row][j]) }
                built.set(j, BLS12381.G1.FixedBases(points: points, parts: parts))
            }
            self.columns = built.values
            self.slotCount = n
            self.policy = policy
            self.publicParameters = pp
            self.required = required
        }

        /// MSM rows per column: required slots + 4.
        public var rowCount: Int { required.count + 4 }

        /// Bytes held by the precomputed tables (N · rowCount · 16 · parts · 104).
        public var tableBytes: Int { columns.reduce(0) { $0 + $1.tableBytes } }

        /// 4 parts while the tables stay within ``BasisTables/tableBudget``, else 2, else 1.
        static func parts(dimension n: Int, rows: Int) -> Int {
            let perPart = n * rows * 16 * 104
            if 4 * perPart <= BasisTables.tableBudget { return 4 }
            if 2 * perPart <= BasisTables.tableBudget { return 2 }
            return 1
        }
    }

    /// `PrdIT` + `ABSE` with a prepared policy: fresh r_i per required slot, r_K, ζ, δ, drawn
    /// in the same order and from the same distribution as
    /// ``encrypt(keyword:token:policy:publicParameters:workers:)``, so the ciphertexts are
    /// identically distributed; (required slots + 4) MSM rows per column instead of 2n + 4.
    ///
    /// - Parameter workers: as in the other `encrypt`. The running time depends on the
    ///   number of required slots (fixed for the prepared policy), not on any secret value.
    public static func encrypt(
        keyword: String, token: [UInt8], prepared: PreparedPolicy, workers: Int = defaultWorkers
    ) -> SearchableCiphertext {
        var scalars: [S] = []
        scalars.reserveCapacity(prepared.rowCount)
        for _ in prepared.required { scalars.append(S.random()) }
        let rk = S.random()
        scalars.append(rk)
        scalars.append(-(rk * keywordScalar(keyword)))
        let z = S.random()
        scalars.append(z)
        scalars.append(S.random())
        let pp = prepared.publicParameters
        let (vector, gtZ) = columnsAndPower(
            scalars, z, columns: prepared.columns, gtPsi: pp.tables.gtPsiPowers(for: pp), workers: workers)
        let bytes = vectorBytes(vector)
        let key = Hashing.kemKey(tag: kemTag, gtZ, context: bytes)
        let sealed = Hashing.seal(token, key: key, aad: bytes)
        return SearchableCiphertext(slotCount: pp.slotCount, vector: vector, sealedToken: sealed)
    }

    /// The prepared ciphertext vector for given scalars (r_i per required slot, r_K,
    /// −r_K·H(K), ζ, δ), on the calling thread: the test entry point that compares it with
    /// the full 2n + 4 row sum.
    static func preparedColumns(_ scalars: [S], _ prepared: PreparedPolicy) -> [BLS12381.G1] {
        BLS12381.G1.FixedBases.multiply(prepared.columns, sharing: scalars)
    }

    /// Default thread count for `encrypt`: the active processor count, capped at 4 (beyond
    /// that the 22 work items of 8 slots split too unevenly to gain).
    public static var defaultWorkers: Int { min(4, max(1, ProcessInfo.processInfo.activeProcessorCount)) }

    /// Per-encrypt output slots written by the worker threads: each slot by one thread only,
    /// read after `parallelFor` has returned (which orders every write before the reads).
    final class EncryptResults: @unchecked Sendable {
        private let slots: UnsafeMutableBufferPointer<BLS12381.G1>
        private let gtSlot: UnsafeMutablePointer<BLS12381.GT>

        init(columns: Int) {
            slots = .allocate(capacity: columns)
            slots.initialize(repeating: .identity)
            gtSlot = .allocate(capacity: 1)
            gtSlot.initialize(to: .generator)
        }

        deinit {
            slots.deinitialize()
            slots.deallocate()
            gtSlot.deinitialize(count: 1)
            gtSlot.deallocate()
        }

        func setColumn(_ j: Int, _ p: BLS12381.G1) { slots[j] = p }
        func setGT(_ v: BLS12381.GT) { gtSlot.pointee = v }
        var vector: [BLS12381.G1] { Array(slots) }
        var gt: BLS12381.GT { gtSlot.pointee }
    }

    /// `TrpG`: a trapdoor for keyword W from the requester's attribute key:
    /// T = α·k₀ + H(W)·k₁ + k₂ with a fresh α, so trapdoors of one key are re-randomized.
    public static func trapdoor(keyword: String, attributeKey ask: AttributeKey) -> Trapdoor {
        let alpha = S.random()
        let w = keywordScalar(keyword)
        // Constant-time two-point MSM per coordinate (α and H(W) are secret).
        let vector = (0..<ask.main.count).map { j in
            BLS12381.G2.multiScalarMultiply(points: [ask.main[j], ask.keyword0[j]], scalars: [alpha, w])
                + ask.keyword1[j]
        }
        return Trapdoor(slotCount: ask.slotCount, vector: vector)
    }

    /// `TEST`: run by the regulator. Returns D when the trapdoor's attributes satisfy the
    /// hidden policy and the keywords are equal, nil otherwise (or on a layout mismatch).
    public static func test(
        _ ciphertext: SearchableCiphertext, _ trapdoor: Trapdoor, publicParameters pp: PublicParameters
    ) -> [UInt8]? {
        let dim = pp.dimension
        guard ciphertext.slotCount == pp.slotCount, trapdoor.slotCount == pp.slotCount,
            ciphertext.vector.count == dim, trapdoor.vector.count == dim
        else { return nil }
        let pairs = (0..<dim).map { (ciphertext.vector[$0], trapdoor.vector[$0]) }
        let gt = BLS12381.multiPairing(pairs)
        let aad = vectorBytes(ciphertext.vector)
        let key = Hashing.kemKey(tag: kemTag, gt, context: aad)
        return Hashing.open(ciphertext.sealedToken, key: key, aad: aad)
    }

    /// The compressed encodings of `v`, concatenated (one field inversion for all).
    static func vectorBytes(_ v: [BLS12381.G1]) -> [UInt8] { BLS12381.G1.compressed(v) }
}

// MARK: - Serialization

extension ABSE.PublicParameters {
    static let magic = Array("ABSE-PP1".utf8)

    /// Canonical encoding: "ABSE-PP1" ‖ u16 n ‖ N² compressed G1 (row-major) ‖ GT (576 bytes).
    public var serialized: [UInt8] {
        ByteWriter.abse(Self.magic, slotCount: slotCount) { w in
            for row in basis { for p in row { w.append(p.compressed) } }
            w.append(gtPsi.bytes)
        }
    }

    /// Decodes and checks every point (curve, subgroup).
    public init(serialized bytes: some Collection<UInt8>) throws(AccessCryptoError) {
        self = try ByteReader.abse(bytes, Self.magic) { (n, r) throws(AccessCryptoError) in
            let dim = ABSE.dimension(n)
            let basis: [[BLS12381.G1]] = try r.rows(dim, of: dim)
            return Self(slotCount: n, basis: basis, gtPsi: try r.gt())
        }
    }
}

extension ABSE.MasterKey {
    static let magic = Array("ABSE-MK1".utf8)

    /// Canonical encoding: "ABSE-MK1" ‖ u16 n ‖ N² scalars (32 bytes each, row-major).
    public var serialized: [UInt8] {
        ByteWriter.abse(Self.magic, slotCount: slotCount) { w in
            for row in dual { for s in row { w.append(s.bytes) } }
        }
    }

    public init(serialized bytes: some Collection<UInt8>) throws(AccessCryptoError) {
        self = try ByteReader.abse(bytes, Self.magic) { (n, r) throws(AccessCryptoError) in
            let dim = ABSE.dimension(n)
            return Self(slotCount: n, dual: try r.rows(dim, of: dim))
        }
    }
}

extension ABSE.AttributeKey {
    static let magic = Array("ABSE-AK1".utf8)

    /// Canonical encoding: "ABSE-AK1" ‖ u16 n ‖ 3·N compressed G2 (k₀, k₁, k₂).
    public var serialized: [UInt8] {
        ByteWriter.abse(Self.magic, slotCount: slotCount) { w in
            for v in [main, keyword0, keyword1] { for p in v { w.append(p.compressed) } }
        }
    }

    public init(serialized bytes: some Collection<UInt8>) throws(AccessCryptoError) {
        self = try ByteReader.abse(bytes, Self.magic) { (n, r) throws(AccessCryptoError) in
            let vs: [[BLS12381.G2]] = try r.rows(3, of: ABSE.dimension(n))
            return Self(slotCount: n, main: vs[0], keyword0: vs[1], keyword1: vs[2])
        }
    }
}

extension ABSE.SearchableCiphertext {
    static let magic = Array("ABSE-CT1".utf8)

    /// Canonical encoding: "ABSE-CT1" ‖ u16 n ‖ N compressed G1 ‖ u32 len ‖ nonce ‖ AES-GCM ciphertext ‖ tag.
    public var serialized: [UInt8] {
        ByteWriter.abse(Self.magic, slotCount: slotCount) { w in
            for p in vector { w.append(p.compressed) }
            w.sized(sealedToken)
        }
    }

    public init(serialized bytes: some Collection<UInt8>) throws(AccessCryptoError) {
        self = try ByteReader.abse(bytes, Self.magic) { (n, r) throws(AccessCryptoError) in
            let v = try r.elements(ABSE.dimension(n), of: BLS12381.G1.self)
            let len = try r.u32()
            guard len >= 28 else { throw .invalidLength }
            return Self(slotCount: n, vector: v, sealedToken: Array(try r.take(len)))
        }
    }
}

extension ABSE.Trapdoor {
    static let magic = Array("ABSE-TD1".utf8)

    /// Canonical encoding: "ABSE-TD1" ‖ u16 n ‖ N compressed G2.
    public var serialized: [UInt8] {
        ByteWriter.abse(Self.magic, slotCount: slotCount) { w in
            for p in vector { w.append(p.compressed) }
        }
    }

    public init(serialized bytes: some Collection<UInt8>) throws(AccessCryptoError) {
        self = try ByteReader.abse(bytes, Self.magic) { (n, r) throws(AccessCryptoError) in
            Self(slotCount: n, vector: try r.elements(ABSE.dimension(n), of: BLS12381.G2.self))
        }
    }
}

// MARK: - Threads

/// Output slots written by `parallelFor` workers, each slot by one item only, read after
/// `parallelFor` has returned (which orders every write before the reads).
final class Slots<T>: @unchecked Sendable {
    private let base: UnsafeMutableBufferPointer<T?>

    init(count: Int) {
        base = .allocate(capacity: count)
        base.initialize(repeating: nil)
    }

    deinit {
        base.deinitialize()
        base.deallocate()
    }

    func set(_ i: Int, _ value: T) { base[i] = value }

    /// Every slot's value (each must have been set).
    var values: [T] { base.map { $0! } }
}

/// Runs `body(i)` for every i in 0..<items on `workers` threads (thread t takes the items
/// t, t + workers, …) and returns when all have finished; with one worker, in order on the
/// calling thread. `body` must be safe to call concurrently for different items.
func parallelFor(items: Int, workers: Int, _ body: @Sendable (Int) -> Void) {
    let w = max(1, min(workers, items))
    if w == 1 {
        for i in 0..<items { body(i) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: w) { t in
        for i in stride(from: t, to: items, by: w) { body(i) }
    }
}
