import BLS12381
import Crypto

/// Ciphertext-policy attribute-based encryption for AND-gate policies: FAME
/// (Agrawal–Chase, "FAME: Fast Attribute-based Message Encryption", CCS 2017, §3, the
/// CP-ABE scheme), used as a KEM with AES-256-GCM.
///
/// FAME is fully (adaptively) secure under the decisional linear assumption in Type-III
/// groups, in the random-oracle model for the hash onto G1. G = G1 carries the hashed
/// attribute terms and key components, H = G2 carries the ciphertext's ct₀ and the key's sk₀.
/// An AND of k attributes is the monotone span program M (k×k) whose rows are
/// (1, 1, 0, …), (0, −1, 1, 0, …), …, (0, …, 0, −1) (rows sum to (1, 0, …, 0), so γ = 1).
///
/// The policy travels in the clear inside the ciphertext (CP-ABE policies are public); in
/// AgriTrace the whole CP-ABE ciphertext D is itself sealed inside the ABSE ciphertext.
public enum CPABE {
    typealias S = BLS12381.Scalar
    static let hashDomain = Array("AgriTrace-CPABE-v1-BLS12381G1_XMD:SHA-256_SSWU_RO_".utf8)
    static let kemTag = "AgriTrace-CPABE-v1-kem"

    /// Public parameters: h, H₁ = h^a₁, H₂ = h^a₂, T₁ = e(g,h)^(d₁a₁+d₃), T₂ = e(g,h)^(d₂a₂+d₃).
    public struct PublicParameters: Sendable, Equatable {
        let h1: BLS12381.G2
        let h2: BLS12381.G2
        let t1: BLS12381.GT
        let t2: BLS12381.GT
    }

    /// Master key: a₁, a₂, b₁, b₂ and g^d₁, g^d₂, g^d₃.
    public struct MasterKey: Sendable, Equatable {
        let a1: BLS12381.Scalar, a2: BLS12381.Scalar, b1: BLS12381.Scalar, b2: BLS12381.Scalar
        let gd1: BLS12381.G1, gd2: BLS12381.G1, gd3: BLS12381.G1
    }

    /// A secret key for a set of attributes: sk₀ (3 × G2), sk_y (3 × G1 per attribute), sk' (3 × G1).
    public struct SecretKey: Sendable, Equatable {
        /// The attributes, sorted, distinct.
        public let attributes: [String]
        let k0: [BLS12381.G2]
        let ky: [[BLS12381.G1]]
        let kPrime: [BLS12381.G1]
    }

    /// A ciphertext: the policy (attribute strings, AND), ct₀ (3 × G2), ct_i (3 × G1 per
    /// policy row) and AES-256-GCM of the message under H(T₁^s₁ T₂^s₂), the header as AAD.
    public struct Ciphertext: Sendable, Equatable {
        public let policy: [String]
        let c0: [BLS12381.G2]
        let rows: [[BLS12381.G1]]
        let sealed: [UInt8]
    }

    // MARK: Hashing H(·) onto G1

    /// H(y ℓ t) for attribute y.
    static func hashAttribute(_ y: String, _ l: Int, _ t: Int) -> BLS12381.G1 {
        var w = ByteWriter()
        w.append([0x41])  // "A"
        w.sized(Array(y.utf8))
        w.append([UInt8(l), UInt8(t)])
        return .hash(toCurve: w.bytes, domain: hashDomain)
    }

    /// H(0 j ℓ t) for column j (1-based).
    static func hashColumn(_ j: Int, _ l: Int, _ t: Int) -> BLS12381.G1 {
        var w = ByteWriter()
        w.append([0x43])  // "C"
        w.u32(j)
        w.append([UInt8(l), UInt8(t)])
        return .hash(toCurve: w.bytes, domain: hashDomain)
    }

    static func nonZeroRandom() -> S {
        while true {
            let s = S.random()
            if !s.isZero { return s }
        }
    }

    // MARK: Algorithms

    /// Setup: fresh public parameters and master key.
    public static func setup() -> (PublicParameters, MasterKey) {
        let a1 = nonZeroRandom(), a2 = nonZeroRandom(), b1 = nonZeroRandom(), b2 = nonZeroRandom()
        let d1 = S.random(), d2 = S.random(), d3 = S.random()
        let pp = PublicParameters(
            h1: .generatorMultiple(a1), h2: .generatorMultiple(a2),
            t1: BLS12381.GT.generator.power(d1 * a1 + d3), t2: BLS12381.GT.generator.power(d2 * a2 + d3)
        )
        let mk = MasterKey(
            a1: a1, a2: a2, b1: b1, b2: b2,
            gd1: .generatorMultiple(d1), gd2: .generatorMultiple(d2), gd3: .generatorMultiple(d3)
        )
        return (pp, mk)
    }

    /// KeyGen: a secret key for `attributes` (duplicates removed).
    public static func keyGen(master mk: MasterKey, attributes: [String]) -> SecretKey {
        let attrs = Array(Set(attributes)).sorted()
        let r1 = S.random(), r2 = S.random()
        let e1 = mk.b1 * r1, e2 = mk.b2 * r2, e3 = r1 + r2
        let k0: [BLS12381.G2] = [.generatorMultiple(e1), .generatorMultiple(e2), .generatorMultiple(e3)]
        let inv = [mk.a1.inverse!, mk.a2.inverse!]
        /// H(·1t)^(b₁r₁/a_t) · H(·2t)^(b₂r₂/a_t) · H(·3t)^((r₁+r₂)/a_t) · g^(σ/a_t)
        func component(_ hash: (Int, Int) -> BLS12381.G1, t: Int, sigma: S) -> BLS12381.G1 {
            let ia = inv[t - 1]
            return hash(1, t) * (e1 * ia) + hash(2, t) * (e2 * ia) + hash(3, t) * (e3 * ia)
                + .generatorMultiple(sigma * ia)
        }
        let ky = attrs.map { y -> [BLS12381.G1] in
            let sigma = S.random()
            let h = { (l: Int, t: Int) in hashAttribute(y, l, t) }
            return [component(h, t: 1, sigma: sigma), component(h, t: 2, sigma: sigma), .generatorMultiple(-sigma)]
        }
        let sigmaP = S.random()
        let hc = { (l: Int, t: Int) in hashColumn(1, l, t) }
        let kPrime = [
            mk.gd1 + component(hc, t: 1, sigma: sigmaP),
            mk.gd2 + component(hc, t: 2, sigma: sigmaP),
            mk.gd3 + .generatorMultiple(-sigmaP),
        ]
        return SecretKey(attributes: attrs, k0: k0, ky: ky, kPrime: kPrime)
    }

    /// Encrypt `message` so that only keys holding every attribute of `policy` decrypt it.
    public static func encrypt(
        _ message: [UInt8], policy: [String], publicParameters pp: PublicParameters
    ) throws(AccessCryptoError) -> Ciphertext {
        let k = policy.count
        guard k >= 1, Set(policy).count == k else { throw .wrongAttributeCount(expected: Set(policy).count, got: k) }
        let s1 = S.random(), s2 = S.random()
        let c0: [BLS12381.G2] = [pp.h1 * s1, pp.h2 * s2, .generatorMultiple(s1 + s2)]
        // Column terms C_{j,ℓ} = H(0jℓ1)^s₁ · H(0jℓ2)^s₂, j = 1…k.
        let columns = (1...k).map { j in (1...3).map { l in hashColumn(j, l, 1) * s1 + hashColumn(j, l, 2) * s2 } }
        var rows: [[BLS12381.G1]] = []
        for i in 0..<k {
            rows.append(
                (1...3).map { l -> BLS12381.G1 in
                    var c = hashAttribute(policy[i], l, 1) * s1 + hashAttribute(policy[i], l, 2) * s2
                    // Row i of M: +1 at column i+1 (and at column 1 for i = 0), −1 at column i (i ≥ 1).
                    if i == 0 { c = c + columns[0][l - 1] }
                    if i + 1 < k { c = c + columns[i + 1][l - 1] }
                    if i >= 1 { c = c - columns[i][l - 1] }
                    return c
                })
        }
        let kem = pp.t1.power(s1) * pp.t2.power(s2)
        let header = headerBytes(policy: policy, c0: c0, rows: rows)
        let sealed = Hashing.seal(message, key: Hashing.kemKey(tag: kemTag, kem, context: header), aad: header)
        return Ciphertext(policy: policy, c0: c0, rows: rows, sealed: sealed)
    }

    /// Decrypt with a key holding every policy attribute. Throws `.policyNotSatisfied` when
    /// an attribute is missing, `.authenticationFailed` when the ciphertext was modified
    /// (or the key belongs to another setup or was spliced from several keys).
    public static func decrypt(_ ct: Ciphertext, secretKey sk: SecretKey) throws(AccessCryptoError) -> [UInt8] {
        var index: [String: Int] = [:]
        for (i, a) in sk.attributes.enumerated() { index[a] = i }
        var sumRows = [BLS12381.G1](repeating: .identity, count: 3)
        var sumKeys = sk.kPrime
        for (i, y) in ct.policy.enumerated() {
            guard let at = index[y] else { throw .policyNotSatisfied }
            for l in 0..<3 {
                sumRows[l] = sumRows[l] + ct.rows[i][l]
                sumKeys[l] = sumKeys[l] + sk.ky[at][l]
            }
        }
        // T₁^s₁ T₂^s₂ = Π_ℓ e(sk'_ℓ Π sk_{y,ℓ}, ct_{0,ℓ}) / Π_ℓ e(Π ct_{i,ℓ}, sk_{0,ℓ}).
        let pairs = (0..<3).flatMap { l in [(sumKeys[l], ct.c0[l]), (-sumRows[l], sk.k0[l])] }
        let kem = BLS12381.multiPairing(pairs)
        let header = headerBytes(policy: ct.policy, c0: ct.c0, rows: ct.rows)
        guard let plain = Hashing.open(ct.sealed, key: Hashing.kemKey(tag: kemTag, kem, context: header), aad: header)
        else { throw .authenticationFailed }
        return plain
    }

    static func headerBytes(policy: [String], c0: [BLS12381.G2], rows: [[BLS12381.G1]]) -> [UInt8] {
        var w = ByteWriter()
        w.u16(policy.count)
        for a in policy { w.sized(Array(a.utf8)) }
        for p in c0 { w.append(p.compressed) }
        for row in rows { for p in row { w.append(p.compressed) } }
        return w.bytes
    }
}

// MARK: - Serialization

extension CPABE.PublicParameters {
    static let magic = Array("CPABE-PP1".utf8)

    /// "CPABE-PP1" ‖ H₁ ‖ H₂ (compressed G2) ‖ T₁ ‖ T₂ (576 bytes each).
    public var serialized: [UInt8] { Self.magic + h1.compressed + h2.compressed + t1.bytes + t2.bytes }

    public init(serialized bytes: some Collection<UInt8>) throws(AccessCryptoError) {
        var r = ByteReader(bytes)
        try r.magic(Self.magic)
        let h1 = try r.g2(), h2 = try r.g2(), t1 = try r.gt(), t2 = try r.gt()
        try r.finish()
        self.init(h1: h1, h2: h2, t1: t1, t2: t2)
    }
}

extension CPABE.MasterKey {
    static let magic = Array("CPABE-MK1".utf8)

    /// "CPABE-MK1" ‖ a₁ ‖ a₂ ‖ b₁ ‖ b₂ (32 bytes each) ‖ g^d₁ ‖ g^d₂ ‖ g^d₃ (compressed G1).
    public var serialized: [UInt8] {
        Self.magic + a1.bytes + a2.bytes + b1.bytes + b2.bytes + gd1.compressed + gd2.compressed + gd3.compressed
    }

    public init(serialized bytes: some Collection<UInt8>) throws(AccessCryptoError) {
        var r = ByteReader(bytes)
        try r.magic(Self.magic)
        let a1 = try r.scalar(), a2 = try r.scalar(), b1 = try r.scalar(), b2 = try r.scalar()
        let g1 = try r.g1(), g2 = try r.g1(), g3 = try r.g1()
        try r.finish()
        guard !a1.isZero, !a2.isZero else { throw .invalidElement(.scalarOutOfRange) }
        self.init(a1: a1, a2: a2, b1: b1, b2: b2, gd1: g1, gd2: g2, gd3: g3)
    }
}

extension CPABE.SecretKey {
    static let magic = Array("CPABE-SK1".utf8)

    /// "CPABE-SK1" ‖ sk₀ (3 G2) ‖ sk' (3 G1) ‖ u16 count ‖ per attribute (sorted): u32 len ‖ UTF-8 ‖ 3 G1.
    public var serialized: [UInt8] {
        var w = ByteWriter()
        w.append(Self.magic)
        for p in k0 { w.append(p.compressed) }
        for p in kPrime { w.append(p.compressed) }
        w.u16(attributes.count)
        for (a, k) in zip(attributes, ky) {
            w.sized(Array(a.utf8))
            for p in k { w.append(p.compressed) }
        }
        return w.bytes
    }

    public init(serialized bytes: some Collection<UInt8>) throws(AccessCryptoError) {
        var r = ByteReader(bytes)
        try r.magic(Self.magic)
        let k0 = [try r.g2(), try r.g2(), try r.g2()]
        let kp = [try r.g1(), try r.g1(), try r.g1()]
        let count = try r.u16()
        var attrs: [String] = [], ky: [[BLS12381.G1]] = []
        for _ in 0..<count {
            attrs.append(try r.string())
            ky.append([try r.g1(), try r.g1(), try r.g1()])
        }
        try r.finish()
        // Canonical: sorted, distinct.
        guard zip(attrs, attrs.dropFirst()).allSatisfy({ $0 < $1 }) else { throw .invalidLength }
        self.init(attributes: attrs, k0: k0, ky: ky, kPrime: kp)
    }
}

extension CPABE.Ciphertext {
    static let magic = Array("CPABE-CT1".utf8)

    /// "CPABE-CT1" ‖ header (u16 k ‖ policy strings ‖ ct₀ ‖ rows) ‖ u32 len ‖ nonce ‖ ciphertext ‖ tag.
    public var serialized: [UInt8] {
        var w = ByteWriter()
        w.append(Self.magic)
        w.append(CPABE.headerBytes(policy: policy, c0: c0, rows: rows))
        w.sized(sealed)
        return w.bytes
    }

    public init(serialized bytes: some Collection<UInt8>) throws(AccessCryptoError) {
        var r = ByteReader(bytes)
        try r.magic(Self.magic)
        let k = try r.u16()
        guard k >= 1 else { throw .invalidLength }
        var policy: [String] = []
        for _ in 0..<k { policy.append(try r.string()) }
        guard Set(policy).count == k else { throw .invalidLength }
        let c0 = [try r.g2(), try r.g2(), try r.g2()]
        var rows: [[BLS12381.G1]] = []
        for _ in 0..<k { rows.append([try r.g1(), try r.g1(), try r.g1()]) }
        let len = try r.u32()
        guard len >= 28 else { throw .invalidLength }
        let sealed = Array(try r.take(len))
        try r.finish()
        self.init(policy: policy, c0: c0, rows: rows, sealed: sealed)
    }
}
