#!/usr/bin/env python3
"""Generate BLS12-381 test fixtures for Tests/BLS12381Tests from independent implementations.

Sources: py_ecc (pure Python, Ethereum Foundation), blspy (Chia's binding of blst),
py-arkworks-bls12381 (arkworks). Every value written is cross-checked between at least two
of them before it is stored.

    pip install py_ecc blspy py-arkworks-bls12381
    python3 scripts/bls-vectors.py            # writes Tests/BLS12381Tests/Fixtures/*.json

Encodings used in the fixtures (hex strings):
- scalars: 32 bytes big-endian;
- G1 / G2: zkcrypto/IETF compressed (48/96 bytes) and uncompressed (96/192 bytes);
- GT: 576 bytes, twelve 48-byte big-endian Fp coefficients in tower order
  c0.c0.c0, c0.c0.c1, c0.c1.c0, c0.c1.c1, c0.c2.c0, c0.c2.c1, c1.c0.c0, ..., c1.c2.c1
  (Fp12 = Fp6[w]/(w^2 - v), Fp6 = Fp2[v]/(v^3 - (u + 1)), Fp2 = Fp[u]/(u^2 + 1)).
"""
import hashlib
import json
import os
import random
import sys

import blspy
import py_arkworks_bls12381 as ark
from py_ecc import optimized_bls12_381 as O
from py_ecc.bls import hash_to_curve as H
from py_ecc.bls.hash import expand_message_xmd
from py_ecc.bls.point_compression import compress_G1, compress_G2

P = O.field_modulus
R = O.curve_order
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "BLS12381Tests", "Fixtures")
rng = random.Random(20261121)  # fixed seed: regenerating gives the same files


def fp_be(v):
    return int(v).to_bytes(48, "big")


# ---------- encodings from py_ecc (independent of blst / arkworks) ----------

def pyecc_g1_bytes(pt):
    x, y = O.normalize(pt)
    comp = compress_G1(pt).to_bytes(48, "big")
    unc = fp_be(x) + fp_be(y)
    return comp, unc


def pyecc_g2_bytes(pt):
    x, y = O.normalize(pt)
    z1, z2 = compress_G2(pt)
    comp = z1.to_bytes(48, "big") + z2.to_bytes(48, "big")
    unc = fp_be(x.coeffs[1]) + fp_be(x.coeffs[0]) + fp_be(y.coeffs[1]) + fp_be(y.coeffs[0])
    return comp, unc


def pyecc_fq12_to_tower(f):
    """py_ecc FQ12 = Fp[w]/(w^12 - 2 w^6 + 2); w^6 = u + 1. Returns 12 ints in tower order."""
    a = [int(c) for c in f.coeffs]
    out = {}
    for i in range(6):
        j, l = i // 2, i % 2  # w^i = v^j w^l
        out[(l, j)] = ((a[i] + a[i + 6]) % P, a[i + 6] % P)
    coeffs = []
    for l in (0, 1):
        for j in (0, 1, 2):
            coeffs.extend(out[(l, j)])
    return coeffs


def pyecc_pairing_std(q, p):
    """py_ecc's pairing differs from the standard (blst, arkworks, zkcrypto) value by an
    exponent: standard = py_ecc^(-3) (checked against arkworks below)."""
    f = O.pairing(q, p)
    return pyecc_fq12_to_tower(f ** (R - 3))


def tower_bytes(coeffs):
    return b"".join(fp_be(c) for c in coeffs)


# ---------- arkworks ----------

def ark_gt_bytes(gt):
    """arkworks' str(GT) is its serialization: 12 little-endian Fp in tower order."""
    raw = bytes.fromhex(str(gt))
    assert len(raw) == 576
    return b"".join(raw[48 * i:48 * i + 48][::-1] for i in range(12))


def ark_scalar(k):
    return ark.Scalar(k)


# ---------- blst ----------

def blst_gt_bytes(gt):
    """blspy's bytes(GTElement) is blst's in-memory fp12: 12 Fp in tower order, each in
    Montgomery form (times 2^384) as little-endian 64-bit limbs. Convert to canonical BE."""
    b = bytes(gt)
    rinv = pow(1 << 384, -1, P)
    return b"".join(fp_be(int.from_bytes(b[48 * i:48 * i + 48], "little") * rinv % P) for i in range(12))


def blst_g1(k):
    """k * G1 through blst (blspy exposes scalar multiplication only as PrivateKey.get_g1)."""
    return blspy.PrivateKey.from_bytes(k.to_bytes(32, "big")).get_g1()


def blst_pair_scaled(a, b):
    """e(a G1, b G2) computed by blst as e((a b) G1, G2)."""
    return blst_g1(a * b % R).pair(blspy.G2Element.generator())


def check(cond, what):
    if not cond:
        sys.exit("cross-check failed: " + what)


def main():
    os.makedirs(OUT, exist_ok=True)

    # --- GT generator, three implementations
    gt_py = tower_bytes(pyecc_pairing_std(O.G2, O.G1))
    gt_ark = ark_gt_bytes(ark.GT.pairing(ark.G1Point(), ark.G2Point()))
    gt_blst = blst_gt_bytes(blspy.G1Element.generator().pair(blspy.G2Element.generator()))
    check(gt_py == gt_ark, "e(G1,G2): py_ecc^(-3) vs arkworks")
    check(gt_blst == gt_ark, "e(G1,G2): blst vs arkworks")

    # --- scalars and points
    points = []
    for i in range(8):
        k = rng.randrange(1, R) if i > 1 else [1, R - 1][i]
        a1 = ark.G1Point() * ark_scalar(k)
        a2 = ark.G2Point() * ark_scalar(k)
        c1 = a1.to_compressed_bytes()
        c2 = a2.to_compressed_bytes()
        check(bytes(blst_g1(k)) == bytes(c1), "G1 compressed blst vs arkworks")
        if i < 4:  # py_ecc is slow; check a few
            pc1, pu1 = pyecc_g1_bytes(O.multiply(O.G1, k))
            pc2, pu2 = pyecc_g2_bytes(O.multiply(O.G2, k))
            check(pc1 == bytes(c1) and pc2 == bytes(c2), "compressed py_ecc vs arkworks")
        u1 = bytes(a1.to_xy_bytes_be())
        xy = bytes(a2.to_xy_bytes_be())  # arkworks: x.c0 || x.c1 || y.c0 || y.c1
        u2 = xy[48:96] + xy[0:48] + xy[144:192] + xy[96:144]  # zkcrypto: c1 before c0
        points.append({
            "scalar": k.to_bytes(32, "big").hex(),
            "g1Compressed": bytes(c1).hex(),
            "g1Uncompressed": u1.hex(),
            "g2Compressed": bytes(c2).hex(),
            "g2Uncompressed": u2.hex(),
        })
    # uncompressed layout check against py_ecc for one point
    pc1, pu1 = pyecc_g1_bytes(O.multiply(O.G1, int(points[2]["scalar"], 16)))
    pc2, pu2 = pyecc_g2_bytes(O.multiply(O.G2, int(points[2]["scalar"], 16)))
    check(pu1.hex() == points[2]["g1Uncompressed"], "G1 uncompressed layout")
    check(pu2.hex() == points[2]["g2Uncompressed"], "G2 uncompressed layout")

    # --- scalar field arithmetic
    scalars = []
    for _ in range(8):
        a, b = rng.randrange(R), rng.randrange(1, R)
        scalars.append({
            "a": a.to_bytes(32, "big").hex(), "b": b.to_bytes(32, "big").hex(),
            "sum": ((a + b) % R).to_bytes(32, "big").hex(),
            "difference": ((a - b) % R).to_bytes(32, "big").hex(),
            "product": (a * b % R).to_bytes(32, "big").hex(),
            "bInverse": pow(b, -1, R).to_bytes(32, "big").hex(),
        })
    wide = []
    for n in (0, 1, 31, 32, 33, 48, 63, 64):
        raw = bytes(rng.randrange(256) for _ in range(n))
        if n == 64:
            raw = b"\xff" * 64
        wide.append({"bytes": raw.hex(), "reduced": (int.from_bytes(raw, "big") % R if raw else 0).to_bytes(32, "big").hex()})

    # --- pairings
    pairings = []
    for i in range(4):
        a, b = rng.randrange(1, R), rng.randrange(1, R)
        g1 = ark.G1Point() * ark_scalar(a)
        g2 = ark.G2Point() * ark_scalar(b)
        e_ark = ark_gt_bytes(ark.GT.pairing(g1, g2))
        e_blst = blst_gt_bytes(blst_pair_scaled(a, b))
        check(e_ark == e_blst, "pairing arkworks vs blst")
        pairings.append({
            "g1": bytes(g1.to_compressed_bytes()).hex(),
            "g2": bytes(g2.to_compressed_bytes()).hex(),
            "gt": e_ark.hex(),
        })
    # one more through py_ecc
    a, b = int(points[2]["scalar"], 16), int(points[3]["scalar"], 16)
    e_py = tower_bytes(pyecc_pairing_std(O.multiply(O.G2, b), O.multiply(O.G1, a)))
    e_ark = ark_gt_bytes(ark.GT.pairing(ark.G1Point() * ark_scalar(a), ark.G2Point() * ark_scalar(b)))
    check(e_py == e_ark, "pairing py_ecc vs arkworks")
    pairings.append({"g1": points[2]["g1Compressed"], "g2": points[3]["g2Compressed"], "gt": e_ark.hex()})

    multi = []
    for n in (1, 2, 5):
        g1s, g2s, ks = [], [], []
        for _ in range(n):
            a, b = rng.randrange(1, R), rng.randrange(1, R)
            g1s.append(ark.G1Point() * ark_scalar(a))
            g2s.append(ark.G2Point() * ark_scalar(b))
            ks.append(a * b % R)
        v = ark_gt_bytes(ark.GT.multi_pairing(g1s, g2s))
        prod = blst_g1(sum(ks) % R).pair(blspy.G2Element.generator())
        check(blst_gt_bytes(prod) == v, "multi-pairing arkworks vs blst product")
        multi.append({
            "g1": [bytes(p.to_compressed_bytes()).hex() for p in g1s],
            "g2": [bytes(q.to_compressed_bytes()).hex() for q in g2s],
            "gt": v.hex(),
        })

    # --- hash to curve: RFC 9380 appendix J.9.1 / J.10.1 inputs
    msgs = [b"", b"abc", b"abcdef0123456789", b"q128_" + b"q" * 128, b"a512_" + b"a" * 512]
    h2c = {}
    for suite, fn_py, ark_cls in (
        ("G1", H.hash_to_G1, ark.G1Point),
        ("G2", H.hash_to_G2, ark.G2Point),
    ):
        dst = ("QUUX-V01-CS02-with-BLS12381%s_XMD:SHA-256_SSWU_RO_" % suite).encode()
        entries = []
        for m in msgs:
            pt = fn_py(m, dst, hashlib.sha256)
            if suite == "G1":
                comp, unc = pyecc_g1_bytes(pt)
            else:
                comp, unc = pyecc_g2_bytes(pt)
            a = ark_cls.hash_to_curve(m, dst)
            check(bytes(a.to_compressed_bytes()) == comp, "hash_to_%s py_ecc vs arkworks" % suite)
            entries.append({"msg": m.decode(), "uncompressed": unc.hex(), "compressed": comp.hex()})
        h2c[suite] = {"dst": dst.decode(), "vectors": entries}
    # RFC 9380 J.9.1, msg = "": P.x, P.y (quoted from the RFC)
    check(h2c["G1"]["vectors"][0]["uncompressed"] ==
          "052926add2207b76ca4fa57a8734416c8dc95e24501772c814278700eed6d1e4e8cf62d9c09db0fac349612b759e79a1"
          "08ba738453bfed09cb546dbb0783dbb3a5f1f566ed67bb6be0e8c67e2e81a4cc68ee29813bb7994998f3eae0c9c6a265",
          "RFC 9380 J.9.1 msg=\"\"")

    # --- expand_message_xmd, RFC 9380 K.1 inputs
    xmd = []
    dst = b"QUUX-V01-CS02-with-expander-SHA256-128"
    for m in msgs:
        for n in (0x20, 0x80):
            xmd.append({"msg": m.decode(), "dst": dst.decode(), "length": n,
                        "output": expand_message_xmd(m, dst, n, hashlib.sha256).hex()})

    # --- invalid encodings
    invalid = build_invalid(points)

    fixtures = {
        "gtGenerator.json": {"gt": gt_py.hex()},
        "points.json": points,
        "scalars.json": {"arithmetic": scalars, "wideReduction": wide},
        "pairings.json": {"single": pairings, "multi": multi},
        "hashToCurve.json": h2c,
        "expandMessage.json": xmd,
        "invalidPoints.json": invalid,
    }
    for name, obj in fixtures.items():
        with open(os.path.join(OUT, name), "w") as fh:
            json.dump(obj, fh, indent=1)
            fh.write("\n")
    print("wrote", ", ".join(sorted(fixtures)), "to", os.path.normpath(OUT))


def build_invalid(points):
    """Encodings every decoder must reject, each with the reason (an error case name)."""
    from py_ecc.fields import optimized_bls12_381_FQ as FQ, optimized_bls12_381_FQ2 as FQ2
    out = []
    g1c = bytes.fromhex(points[2]["g1Compressed"])
    g1u = bytes.fromhex(points[2]["g1Uncompressed"])
    g2c = bytes.fromhex(points[2]["g2Compressed"])
    g2u = bytes.fromhex(points[2]["g2Uncompressed"])

    def add(group, data, reason, note):
        out.append({"group": group, "bytes": data.hex(), "reason": reason, "note": note})

    # lengths
    add("G1", g1c[:47], "invalidLength", "47 bytes")
    add("G2", g2c + b"\x00", "invalidLength", "97 bytes")
    # flags
    add("G1", bytes([g1c[0] & 0x7f]) + g1c[1:], "invalidFlags", "48 bytes without compression flag")
    add("G1", bytes([g1u[0] | 0x80]) + g1u[1:], "invalidFlags", "96 bytes with compression flag")
    add("G1", bytes([g1u[0] | 0x20]) + g1u[1:], "invalidFlags", "uncompressed with sort flag")
    add("G2", bytes([g2u[0] | 0x80]) + g2u[1:], "invalidFlags", "192 bytes with compression flag")
    add("G1", bytes([0xe0]) + bytes(47), "invalidFlags", "infinity with sort flag")
    add("G1", bytes([0xc0]) + bytes(46) + b"\x01", "nonCanonicalInfinity", "infinity with non-zero x")
    add("G2", bytes([0x40]) + bytes(190) + b"\x01", "nonCanonicalInfinity", "uncompressed infinity with non-zero y")
    # x >= p
    xp = bytearray(fp_be(P))
    xp[0] |= 0x80
    add("G1", bytes(xp), "coordinateNotInField", "compressed x = p")
    xq = bytearray(fp_be(P + 5))
    add("G1", bytes(xq) + g1u[48:], "coordinateNotInField", "uncompressed x = p + 5")
    yq = g1u[:48] + fp_be(P + 1)
    add("G1", yq, "coordinateNotInField", "uncompressed y = p + 1")
    add("G2", bytes([0x80 | (fp_be(P)[0])]) + fp_be(P)[1:] + bytes(48), "coordinateNotInField", "compressed x.c1 = p")
    # off curve: y + 1
    y = (int.from_bytes(g1u[48:], "big") + 1) % P
    add("G1", g1u[:48] + fp_be(y), "notOnCurve", "uncompressed (x, y+1)")
    y0 = (int.from_bytes(g2u[144:], "big") + 1) % P
    add("G2", g2u[:144] + fp_be(y0), "notOnCurve", "uncompressed (x, y+1)")
    # x with no square root for y^2 = x^3 + 4 (compressed)
    x = 0
    while True:
        x += 1
        rhs = (x ** 3 + 4) % P
        if pow(rhs, (P - 1) // 2, P) == P - 1:
            break
    xb = bytearray(fp_be(x))
    xb[0] |= 0x80
    add("G1", bytes(xb), "noSquareRoot", "compressed x = %d, x^3+4 non-square" % x)
    # on curve, not in subgroup (G1): smallest x with a point
    x = 0
    while True:
        x += 1
        rhs = (x ** 3 + 4) % P
        if pow(rhs, (P - 1) // 2, P) == 1:
            yv = pow(rhs, (P + 1) // 4, P)
            pt = (FQ(x), FQ(yv), FQ(1))
            if not O.is_inf(O.multiply(pt, R)):
                break
    add("G1", fp_be(x) + fp_be(yv), "notInSubgroup", "uncompressed point of E(Fp) outside G1, x = %d" % x)
    xb = bytearray(fp_be(x))
    xb[0] |= 0x80 | (0x20 if yv > (P - 1) // 2 else 0)
    add("G1", bytes(xb), "notInSubgroup", "compressed point of E(Fp) outside G1, x = %d" % x)
    # G2: on E'(Fp2), not in subgroup
    b2 = FQ2([4, 4])
    x = 0
    while True:
        x += 1
        xx = FQ2([x, 1])
        rhs = xx ** 3 + b2
        s = fq2_sqrt(rhs)
        if s is not None:
            pt = (xx, s, FQ2.one())
            if not O.is_inf(O.multiply(pt, R)):
                break
    unc = fp_be(xx.coeffs[1]) + fp_be(xx.coeffs[0]) + fp_be(s.coeffs[1]) + fp_be(s.coeffs[0])
    add("G2", unc, "notInSubgroup", "uncompressed point of E'(Fp2) outside G2")
    comp = compress_G2(pt)
    add("G2", comp[0].to_bytes(48, "big") + comp[1].to_bytes(48, "big"), "notInSubgroup", "compressed point of E'(Fp2) outside G2")
    return out


def fq2_sqrt(a):
    from py_ecc.fields import optimized_bls12_381_FQ2 as FQ2
    # candidate = a^((p^2 + 7) / 16) times an eighth root of unity (py_ecc's method)
    c = a ** ((P ** 2 + 7) // 16)
    for r8 in O.constants.POSITIVE_EIGHTH_ROOTS_OF_UNITY if hasattr(O, "constants") else []:
        if (c * r8) ** 2 == a:
            return c * r8
    from py_ecc.optimized_bls12_381.constants import POSITIVE_EIGHTH_ROOTS_OF_UNITY as ROOTS
    for r8 in ROOTS:
        if (c * r8) ** 2 == a:
            return c * r8
    return None


if __name__ == "__main__":
    main()
