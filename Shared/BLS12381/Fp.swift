// The BLS12-381 base field Fp and scalar field Fr in Montgomery form.
//
// Limbs are little-endian 64-bit words held in stored properties (no Array), so a field
// element is a plain 48-byte (Fp) or 32-byte (Fr) value. The unrolled multiplication,
// addition and subtraction are generated into Generated.swift; on x86-64 CPUs with BMI2 and
// ADX, multiplication runs the MULX/ADCX/ADOX assembly of the CFieldArithmetic module.

import CFieldArithmetic

// MARK: Word helpers

@inline(__always)
func bit(_ b: Bool) -> UInt64 { UInt64(unsafeBitCast(b, to: UInt8.self)) }

/// a*b + c as (hi, lo).
@inline(__always)
func mulAdd(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> (UInt64, UInt64) {
    let (h, l) = a.multipliedFullWidth(by: b)
    let (s, o) = l.addingReportingOverflow(c)
    return (h &+ bit(o), s)
}

/// High word of a*b + c.
@inline(__always)
func mulAddHi(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
    let (h, l) = a.multipliedFullWidth(by: b)
    let (_, o) = l.addingReportingOverflow(c)
    return h &+ bit(o)
}

/// a*b + c + d as (hi, lo); never overflows 128 bits.
@inline(__always)
func mulAdd2(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64) -> (UInt64, UInt64) {
    let (h, l) = a.multipliedFullWidth(by: b)
    let (s1, o1) = l.addingReportingOverflow(c)
    let (s2, o2) = s1.addingReportingOverflow(d)
    return (h &+ bit(o1) &+ bit(o2), s2)
}

@inline(__always)
func addCarry(_ a: UInt64, _ b: UInt64, _ carry: inout UInt64) -> UInt64 {
    let (s1, o1) = a.addingReportingOverflow(b)
    let (s2, o2) = s1.addingReportingOverflow(carry)
    carry = bit(o1) | bit(o2)
    return s2
}

@inline(__always)
func subBorrow(_ a: UInt64, _ b: UInt64, _ borrow: inout UInt64) -> UInt64 {
    let (d1, o1) = a.subtractingReportingOverflow(b)
    let (d2, o2) = d1.subtractingReportingOverflow(borrow)
    borrow = bit(o1) | bit(o2)
    return d2
}

/// All-ones mask if `b`, else zero.
@inline(__always)
func mask(_ b: Bool) -> UInt64 { 0 &- bit(b) }

/// Reads 8 big-endian bytes at `offset`.
func loadBE(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<8 { v = (v << 8) | UInt64(bytes[offset + i]) }
    return v
}

func storeBE(_ v: UInt64, into out: inout [UInt8]) {
    for i in (0..<8).reversed() { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
}

// MARK: Fp

/// An element of the base field Fp, p = 0x1a0111ea...aaab (381 bits), in Montgomery form.
struct Fp: Sendable {
    var l0, l1, l2, l3, l4, l5: UInt64

    @inline(__always)
    init(_ l0: UInt64, _ l1: UInt64, _ l2: UInt64, _ l3: UInt64, _ l4: UInt64, _ l5: UInt64) {
        self.l0 = l0
        self.l1 = l1
        self.l2 = l2
        self.l3 = l3
        self.l4 = l4
        self.l5 = l5
    }

    /// Converts a small integer.
    init(_ v: UInt64) { self = Fp.mul(Fp(v, 0, 0, 0, 0, 0), Fp.r2) }

    @inline(__always) static func + (a: Fp, b: Fp) -> Fp { add(a, b) }
    @inline(__always) static func - (a: Fp, b: Fp) -> Fp { sub(a, b) }
    @inline(__always) static func * (a: Fp, b: Fp) -> Fp { mul(a, b) }
    @inline(__always) static prefix func - (a: Fp) -> Fp { neg(a) }
    @inline(__always) static func += (a: inout Fp, b: Fp) { a = add(a, b) }
    @inline(__always) static func -= (a: inout Fp, b: Fp) { a = sub(a, b) }
    @inline(__always) static func *= (a: inout Fp, b: Fp) { a = mul(a, b) }

    @inline(__always) func square() -> Fp { Fp.mul(self, self) }
    @inline(__always) func double() -> Fp { Fp.add(self, self) }

    var isZero: Bool { (l0 | l1 | l2 | l3 | l4 | l5) == 0 }

    /// Constant-time equality.
    @inline(__always)
    func ctEqual(_ o: Fp) -> Bool {
        ((l0 ^ o.l0) | (l1 ^ o.l1) | (l2 ^ o.l2) | (l3 ^ o.l3) | (l4 ^ o.l4) | (l5 ^ o.l5)) == 0
    }

    /// Returns `b` if `choice`, else `a`, without branching.
    @inline(__always)
    static func select(_ a: Fp, _ b: Fp, _ choice: Bool) -> Fp {
        let m = mask(choice)
        return Fp(
            (a.l0 & ~m) | (b.l0 & m), (a.l1 & ~m) | (b.l1 & m), (a.l2 & ~m) | (b.l2 & m),
            (a.l3 & ~m) | (b.l3 & m), (a.l4 & ~m) | (b.l4 & m), (a.l5 & ~m) | (b.l5 & m))
    }

    /// Leaves Montgomery form.
    var canonical: Fp { Fp.mul(self, Fp(1, 0, 0, 0, 0, 0)) }

    /// Multiplicative inverse (Fermat); zero maps to zero.
    func inverse() -> Fp { pow(expPMinus2) }

    /// Square root if one exists (p = 3 mod 4).
    func sqrt() -> Fp? {
        let s = pow(expPPlus1Div4)
        return s.square().ctEqual(self) ? s : nil
    }

    /// Legendre-symbol test.
    var isSquare: Bool {
        let l = pow(expPMinus1Div2)
        return l.ctEqual(.one) || l.isZero
    }

    /// Parity of the canonical value (RFC 9380 sgn0).
    var sgn0: Bool { canonical.l0 & 1 == 1 }

    /// True if the canonical value is larger than (p-1)/2 (zkcrypto "lexicographically largest").
    var isLexicographicallyLargest: Bool {
        // canonical(self) > (p-1)/2  <=>  canonical(self) - (p+1)/2 does not borrow
        let c = canonical
        var b: UInt64 = 0
        _ = subBorrow(c.l0, 0xdcff_7fff_ffff_d556, &b)
        _ = subBorrow(c.l1, 0x0f55_ffff_58a9_ffff, &b)
        _ = subBorrow(c.l2, 0xb398_6950_7b58_7b12, &b)
        _ = subBorrow(c.l3, 0xb23b_a5c2_79c2_895f, &b)
        _ = subBorrow(c.l4, 0x258d_d3db_21a5_d66b, &b)
        _ = subBorrow(c.l5, 0x0d00_88f5_1cbf_f34d, &b)
        return b == 0
    }

    /// Parses 48 big-endian bytes; nil if the value is not below p.
    static func fromBytes(_ bytes: UnsafeRawBufferPointer) -> Fp? {
        let raw = Fp(
            loadBE(bytes, 40), loadBE(bytes, 32), loadBE(bytes, 24),
            loadBE(bytes, 16), loadBE(bytes, 8), loadBE(bytes, 0))
        guard isCanonical(raw) else { return nil }
        return Fp.mul(raw, .r2)
    }

    /// 48 big-endian bytes of the canonical value.
    func appendBytes(to out: inout [UInt8]) {
        let c = canonical
        storeBE(c.l5, into: &out)
        storeBE(c.l4, into: &out)
        storeBE(c.l3, into: &out)
        storeBE(c.l2, into: &out)
        storeBE(c.l1, into: &out)
        storeBE(c.l0, into: &out)
    }
}

// MARK: Fp multiplication dispatch

extension Fp {
    /// Montgomery product a*b*R^-1 mod p: the MULX/ADX assembly when the CPU has it (checked once
    /// before main, see `CFieldArithmetic.h`; `AGRITRACE_FP_PORTABLE=1` turns it off), else the
    /// generated Swift code. The branch is on a plain C global that never changes, so it is
    /// always predicted.
    @inline(__always)
    static func mul(_ a: Fp, _ b: Fp) -> Fp {
        #if arch(x86_64)
            if agritrace_fp_adx_enabled() != 0 { return mulADX(a, b) }
        #endif
        return mulPortableOutlined(a, b)
    }

    /// The portable product as a call: keeps the hot callers, which inline `mul`, from also
    /// inlining the 36-multiplication Swift body they do not run on an ADX CPU.
    @inline(never)
    static func mulPortableOutlined(_ a: Fp, _ b: Fp) -> Fp { mulPortable(a, b) }

    /// Whether this CPU has BMI2 and ADX (whatever `AGRITRACE_FP_PORTABLE` says).
    static var cpuHasADX: Bool { agritrace_fp_cpu_has_adx() != 0 }

    /// Whether `mul` takes the MULX/ADX path in this process.
    static var usesADX: Bool {
        #if arch(x86_64)
            return agritrace_fp_adx_enabled() != 0
        #else
            return false
        #endif
    }

    #if arch(x86_64)
        /// The MULX/ADCX/ADOX Montgomery product. Only call on a CPU with BMI2 and ADX.
        @inline(__always)
        static func mulADX(_ a: Fp, _ b: Fp) -> Fp {
            let r = agritrace_fp_mul_adx(
                agritrace_fp384(l0: a.l0, l1: a.l1, l2: a.l2, l3: a.l3, l4: a.l4, l5: a.l5),
                agritrace_fp384(l0: b.l0, l1: b.l1, l2: b.l2, l3: b.l3, l4: b.l4, l5: b.l5))
            return Fp(r.l0, r.l1, r.l2, r.l3, r.l4, r.l5)
        }
    #endif
}

extension Fp: Equatable {
    static func == (a: Fp, b: Fp) -> Bool { a.ctEqual(b) }
}

// MARK: Fr

/// An element of the scalar field Fr, r = 0x73eda753...00000001 (255 bits), in Montgomery form.
struct Fr: Sendable {
    var l0, l1, l2, l3: UInt64

    @inline(__always)
    init(_ l0: UInt64, _ l1: UInt64, _ l2: UInt64, _ l3: UInt64) {
        self.l0 = l0
        self.l1 = l1
        self.l2 = l2
        self.l3 = l3
    }

    init(_ v: UInt64) { self = Fr.mul(Fr(v, 0, 0, 0), Fr.r2) }

    @inline(__always) static func + (a: Fr, b: Fr) -> Fr { add(a, b) }
    @inline(__always) static func - (a: Fr, b: Fr) -> Fr { sub(a, b) }
    @inline(__always) static func * (a: Fr, b: Fr) -> Fr { mul(a, b) }
    @inline(__always) static prefix func - (a: Fr) -> Fr { neg(a) }

    var isZero: Bool { (l0 | l1 | l2 | l3) == 0 }
    var canonical: Fr { Fr.mul(self, Fr(1, 0, 0, 0)) }

    func ctEqual(_ o: Fr) -> Bool {
        ((l0 ^ o.l0) | (l1 ^ o.l1) | (l2 ^ o.l2) | (l3 ^ o.l3)) == 0
    }

    /// self^(r-2): constant-time inverse (the exponent is public and fixed).
    func inverse() -> Fr {
        var res = Fr.one
        @inline(__always) func step(_ w: UInt64) {
            for i in (0..<64).reversed() {
                res = Fr.mul(res, res)
                if (w >> UInt64(i)) & 1 == 1 { res = Fr.mul(res, self) }
            }
        }
        step(expRMinus2.3)
        step(expRMinus2.2)
        step(expRMinus2.1)
        step(expRMinus2.0)
        return res
    }

    /// Reduces a 64-byte big-endian value modulo r.
    static func fromWideBytes(_ b: UnsafeRawBufferPointer) -> Fr {
        let hi = Fr(loadBE(b, 24), loadBE(b, 16), loadBE(b, 8), loadBE(b, 0))
        let lo = Fr(loadBE(b, 56), loadBE(b, 48), loadBE(b, 40), loadBE(b, 32))
        // value = hi*2^256 + lo. Each half is < 2^256 < 3r: reduce twice before multiplying.
        let loM = Fr.mul(lo.reduced().reduced(), .r2)  // lo * R mod r
        let hiM = Fr.mul(hi.reduced().reduced(), .r3)  // hi * R^2 mod r = (hi * 2^256) * R
        return loM + hiM
    }
}

extension Fr: Equatable {
    static func == (a: Fr, b: Fr) -> Bool { a.ctEqual(b) }
}
