#!/usr/bin/env python3
"""Generate Shared/BLS12381/Generated.swift: unrolled Montgomery arithmetic for Fp and Fr
and the curve constants (in Montgomery form) used by the BLS12381 module.

Constants are derived here from first principles (p, r, x) with plain Python integers;
the hash-to-curve isogeny coefficients and SSWU parameters are read from py_ecc
(RFC 9380 section 8.8 / appendix E values).

Usage: python3 scripts/gen-bls-constants.py > Shared/BLS12381/Generated.swift
"""
import sys

from py_ecc.optimized_bls12_381 import constants as C
from py_ecc.fields import optimized_bls12_381_FQ2 as FQ2

P = 0x1A0111EA397FE69A4B1BA7B6434BACD764774B84F38512BF6730D2A0F6B0F6241EABFFFEB153FFFFB9FEFFFFFFFFAAAB
R = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
X_ABS = 0xD201000000010000  # x = -0xd201000000010000

out = []
emit = out.append


def limbs(v, n):
    return [(v >> (64 * i)) & 0xFFFFFFFFFFFFFFFF for i in range(n)]


def hx(v):
    return "0x%016x" % v


def per_limb(n, line):
    """`line` once per limb, `{j}` replaced by the limb's index (an unrolled carry chain)."""
    return [line.format(j=j) for j in range(n)]


def function(signature, body, doc=None, inline=True):
    """Emits one function of a field's extension after a blank line: its doc comment, its
    `@inline(__always)` unless `inline` is false, the signature, the body lines indented."""
    emit("")
    if doc:
        emit("    /// " + doc)
    if inline:
        emit("    @inline(__always)")
    emit("    %s {" % signature)
    for line in body:
        emit("        " + line)
    emit("    }")


def cios_row(i, n):
    """Row `i` of the CIOS product: t += a * b[i], then one reduction step (m = t0 * inv)."""
    bi = "b.l%d" % i
    lines = [
        "(A, t0) = mulAdd(a.l0, %s, %s)" % (bi, "0" if i == 0 else "t0"),
        "m = t0 &* inv",
        "Cc = mulAddHi(m, m0, t0)",
    ]
    for j in range(1, n):
        if i == 0:
            lines.append("(A, t%d) = mulAdd(a.l%d, %s, A)" % (j, j, bi))
        else:
            lines.append("(A, t%d) = mulAdd2(a.l%d, %s, t%d, A)" % (j, j, bi, j))
        lines.append("(Cc, t%d) = mulAdd2(m, m%d, t%d, Cc)" % (j - 1, j, j))
    lines.append("t%d = Cc &+ A" % (n - 1))
    return lines


def limb_list(n, item):
    """`item` for each limb, `{j}` replaced by the limb's index, joined by commas."""
    return ", ".join(item.format(j=j) for j in range(n))


def field(name, mod, n, mul_name="mul"):
    """Unrolled no-carry CIOS Montgomery multiplication (valid since mod's top limb < 2^63 - 1).

    `mul_name` lets Fp name it `mulPortable`: Fp.swift dispatches `mul` to it or to MULX/ADX.
    """
    ml = limbs(mod, n)
    assert ml[-1] < (1 << 63) - 1
    inv = (-pow(mod, -1, 1 << 64)) % (1 << 64)
    Rm = (1 << (64 * n)) % mod
    R2 = (1 << (128 * n)) % mod
    emit("extension %s {" % name)
    emit("    /// The modulus, little-endian limbs.")
    for i in range(n):
        emit("    @inline(__always) static var m%d: UInt64 { %s }" % (i, hx(ml[i])))
    emit("    /// -modulus^-1 mod 2^64")
    emit("    @inline(__always) static var inv: UInt64 { %s }" % hx(inv))
    emit("    /// Zero.")
    emit("    static var zero: %s { %s(%s) }" % (name, name, ", ".join("0" for _ in range(n))))
    emit("    /// One (R mod modulus in Montgomery form).")
    emit("    static var one: %s { %s(%s) }" % (name, name, ", ".join(hx(x) for x in limbs(Rm, n))))
    emit("    /// R^2 mod modulus, used to enter Montgomery form.")
    emit("    static var r2: %s { %s(%s) }" % (name, name, ", ".join(hx(x) for x in limbs(R2, n))))
    function(
        "static func %s(_ a: %s, _ b: %s) -> %s" % (mul_name, name, name, name),
        ["var A: UInt64 = 0", "var Cc: UInt64 = 0", "var m: UInt64 = 0"]
        + per_limb(n, "var t{j}: UInt64 = 0")
        + [line for i in range(n) for line in cios_row(i, n)]
        + ["return %s(%s).reduced()" % (name, limb_list(n, "t{j}"))],
        doc="Montgomery product a*b*R^-1 mod modulus (CIOS, no final carry word).")
    function(
        "func reduced() -> %s" % name,
        ["var b: UInt64 = 0"]
        + per_limb(n, "let s{j} = subBorrow(l{j}, %s.m{j}, &b)" % name)
        + ["let mask = 0 &- b  // all ones if self < modulus",
           "return %s(%s)" % (name, limb_list(n, "(l{j} & mask) | (s{j} & ~mask)"))],
        doc="Subtracts the modulus once if self >= modulus (constant time).")
    function(
        "static func add(_ a: %s, _ b: %s) -> %s" % (name, name, name),
        ["var c: UInt64 = 0"]
        + per_limb(n, "let s{j} = addCarry(a.l{j}, b.l{j}, &c)")
        + ["return %s(%s).reduced()" % (name, limb_list(n, "s{j}"))])
    function(
        "static func sub(_ a: %s, _ b: %s) -> %s" % (name, name, name),
        ["var bw: UInt64 = 0"]
        + per_limb(n, "let s{j} = subBorrow(a.l{j}, b.l{j}, &bw)")
        + ["let mask = 0 &- bw", "var c: UInt64 = 0"]
        + per_limb(n, "let r{j} = addCarry(s{j}, m{j} & mask, &c)")
        + ["return %s(%s)" % (name, limb_list(n, "r{j}"))])
    function(
        "static func neg(_ a: %s) -> %s" % (name, name),
        ["let nz = a.l0 | %s" % " | ".join("a.l%d" % j for j in range(1, n)),
         "let mask = 0 &- ((nz | (0 &- nz)) >> 63)  // all ones if a != 0",
         "var bw: UInt64 = 0"]
        + per_limb(n, "let s{j} = subBorrow(m{j}, a.l{j}, &bw)")
        + ["return %s(%s)" % (name, limb_list(n, "s{j} & mask"))])
    function(
        "static func isCanonical(_ raw: %s) -> Bool" % name,
        ["var bw: UInt64 = 0"] + per_limb(n, "_ = subBorrow(raw.l{j}, m{j}, &bw)") + ["return bw == 1"],
        doc="True if the canonical (non-Montgomery) value `raw` is below the modulus.", inline=False)
    emit("}")
    emit("")


def mont(v, n=6):
    return limbs((v * (1 << (64 * n))) % P, n)


def fp(v):
    return "Fp(%s)" % ", ".join(hx(x) for x in mont(v % P))


def fp2(a):
    c0, c1 = a.coeffs
    return "Fp2(%s, %s)" % (fp(int(c0)), fp(int(c1)))


emit("// Generated by scripts/gen-bls-constants.py. Do not edit by hand.")
emit("// swift-format-ignore-file")
emit("")
field("Fp", P, 6, mul_name="mulPortable")
field("Fr", R, 4)

emit("extension Fr {")
emit("    /// R^3 mod r, used to reduce 512-bit values.")
emit("    static var r3: Fr { Fr(%s) }" % ", ".join(hx(x) for x in limbs((1 << 768) % R, 4)))
emit("}")
emit("")

emit("enum Consts {")
xi = FQ2([1, 1])
g6_1 = xi ** ((P - 1) // 3)
g6_2 = xi ** ((2 * P - 2) // 3)
g12_1 = xi ** ((P - 1) // 6)
emit("    /// (u+1)^((p-1)/3): Fp6 Frobenius coefficient for v.")
emit("    static let frobFp6C1 = %s" % fp2(g6_1))
emit("    /// (u+1)^((2p-2)/3): Fp6 Frobenius coefficient for v^2.")
emit("    static let frobFp6C2 = %s" % fp2(g6_2))
emit("    /// (u+1)^((p-1)/6): Fp12 Frobenius coefficient for w.")
emit("    static let frobFp12C1 = %s" % fp2(g12_1))
psi_x = (xi ** ((P - 1) // 3)).inv()
psi_y = (xi ** ((P - 1) // 2)).inv()
emit("    /// 1/(u+1)^((p-1)/3): psi endomorphism, x coordinate.")
emit("    static let psiX = %s" % fp2(psi_x))
emit("    /// 1/(u+1)^((p-1)/2): psi endomorphism, y coordinate.")
emit("    static let psiY = %s" % fp2(psi_y))

# beta: cube root of unity in Fp with (beta*x, y) = [-x^2] P on G1
from py_ecc.optimized_bls12_381 import G1, multiply, normalize, field_modulus
from py_ecc.fields import optimized_bls12_381_FQ as FQ
g = pow(2, (P - 1) // 3, P)
while g == 1:
    raise SystemExit("bad")
cands = [g, g * g % P]
lam = (-(X_ABS ** 2)) % R
target = normalize(multiply(G1, lam))
gx, gy = normalize(G1)
beta = None
for b in cands:
    if (int(gx) * b) % P == int(target[0]) and int(gy) == int(target[1]):
        beta = b
assert beta is not None
emit("    /// Cube root of unity with (beta*x, y) = [-x^2](x, y) on G1.")
emit("    static let beta = %s" % fp(beta))

emit("    /// G1 generator.")
emit("    static let g1x = %s" % fp(0x17F1D3A73197D7942695638C4FA9AC0FC3688C4F9774B905A14E3A3F171BAC586C55E83FF97A1AEFFB3AF00ADB22C6BB))
emit("    static let g1y = %s" % fp(0x08B3F481E3AAA0F1A09E30ED741D8AE4FCF5E095D5D00AF600DB18CB2C04B3EDD03CC744A2888AE40CAA232946C5E7E1))
emit("    /// G2 generator.")
emit("    static let g2x = Fp2(%s, %s)" % (
    fp(0x024AA2B2F08F0A91260805272DC51051C6E47AD4FA403B02B4510B647AE3D1770BAC0326A805BBEFD48056C8C121BDB8),
    fp(0x13E02B6052719F607DACD3A088274F65596BD0D09920B61AB5DA61BBDC7F5049334CF11213945D57E5AC7D055D042B7E)))
emit("    static let g2y = Fp2(%s, %s)" % (
    fp(0x0CE5D527727D6E118CC9CDC6DA2E351AADFD9BAA8CBDD3A76D429A695160D12C923AC9CC3BACA289E193548608B82801),
    fp(0x0606C4A02EA734CC32ACD2B02BC28B99CB3E287E85A763AF267492AB572E99AB3F370D275CEC1DA1AAA9075FF05F79BE)))
emit("    /// 2^256 mod p, Montgomery form (hash_to_field reduction).")
emit("    static let twoTo256 = %s" % fp(pow(2, 256, P)))

# SSWU / isogeny constants
emit("    // MARK: hash-to-curve G1 (RFC 9380 section 8.8.1, appendix E.2)")
emit("    static let sswuG1A = %s" % fp(int(C.ISO_11_A)))
emit("    static let sswuG1B = %s" % fp(int(C.ISO_11_B)))
emit("    static let sswuG1Z = %s" % fp(int(C.ISO_11_Z)))
names = ["XNum", "XDen", "YNum", "YDen"]
for nm, coeffs in zip(names, C.ISO_11_MAP_COEFFICIENTS):
    emit("    /// 11-isogeny %s coefficients, lowest degree first." % nm)
    emit("    static let iso11%s: [Fp] = [" % nm)
    for c in coeffs:
        emit("        %s," % fp(int(c)))
    emit("    ]")
emit("    // MARK: hash-to-curve G2 (RFC 9380 section 8.8.2, appendix E.3)")
emit("    static let sswuG2A = %s" % fp2(C.ISO_3_A))
emit("    static let sswuG2B = %s" % fp2(C.ISO_3_B))
emit("    static let sswuG2Z = %s" % fp2(C.ISO_3_Z))
for nm, coeffs in zip(names, C.ISO_3_MAP_COEFFICIENTS):
    emit("    /// 3-isogeny %s coefficients, lowest degree first." % nm)
    emit("    static let iso3%s: [Fp2] = [" % nm)
    for c in coeffs:
        emit("        %s," % fp2(c))
    emit("    ]")
emit("}")
emit("")


def exp_const(name, v, n=6):
    emit("let %s: (%s) = (%s)" % (name, ", ".join("UInt64" for _ in range(n)), ", ".join(hx(x) for x in limbs(v, n))))


exp_const("expPMinus2", P - 2)
exp_const("expPPlus1Div4", (P + 1) // 4)
exp_const("expPMinus3Div4", (P - 3) // 4)
exp_const("expPMinus1Div2", (P - 1) // 2)
exp_const("expRMinus2", R - 2, 4)

print("\n".join(out))
