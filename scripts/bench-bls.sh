#!/usr/bin/env bash
# Benchmarks the Swift BLS12381 module against blst (through blspy) and arkworks
# (py-arkworks-bls12381) in one run and writes a table into BENCHMARKS.md between
# <!-- bls:begin --> and <!-- bls:end -->.
#
#   scripts/bench-bls.sh            # needs: pip install blspy py-arkworks-bls12381
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${SCRATCH:-.build-bls-bench}  # separate from the test build (-enable-testing)

# SWIFT_BUILD_FLAGS lets a caller reuse an existing build (e.g. "-Xswiftc -enable-testing").
# shellcheck disable=SC2086
swift build --scratch-path "$SCRATCH" -c release ${SWIFT_BUILD_FLAGS:-} --product bench-bls >/dev/null
ours=$("$SCRATCH/release/bench-bls" --json)

ref=$(python3 - <<'PY'
import json, time, statistics
import blspy
import py_arkworks_bls12381 as ark

def measure(n, fn, batches=7):
    fn()
    s = []
    for _ in range(batches):
        t0 = time.perf_counter_ns()
        for _ in range(n):
            fn()
        s.append((time.perf_counter_ns() - t0) / n)
    return statistics.median(s)

out = {"blst": {}, "arkworks": {}}
sk = blspy.PrivateKey.from_bytes((123456789).to_bytes(32, "big"))
g1 = sk.get_g1()
msg = b"AgriTrace benchmark message"
dst1 = b"BLS12381G1_XMD:SHA-256_SSWU_RO_"
dst2 = b"BLS12381G2_XMD:SHA-256_SSWU_RO_"
g2 = blspy.G2Element.from_message(msg, dst2)
b = out["blst"]
b["pairing"] = measure(200, lambda: g1.pair(g2))
# (blspy's PrivateKey.get_g1 caches its result, so it is not timed as a generator multiplication)
b["hash_to_g1"] = measure(500, lambda: blspy.G1Element.from_message(msg, dst1))
b["hash_to_g2"] = measure(200, lambda: blspy.G2Element.from_message(msg, dst2))
c1 = bytes(g1); c2 = bytes(g2)
b["g1_decompress"] = measure(500, lambda: blspy.G1Element.from_bytes(c1))
b["g2_decompress"] = measure(200, lambda: blspy.G2Element.from_bytes(c2))

a = out["arkworks"]
s = ark.Scalar(987654321987654321987654321)
P = ark.G1Point() * s
Q = ark.G2Point() * s
a["pairing"] = measure(100, lambda: ark.GT.pairing(P, Q))
for n in (8, 32):
    ps = [ark.G1Point() * ark.Scalar(i + 3) for i in range(n)]
    qs = [ark.G2Point() * ark.Scalar(2 * i + 5) for i in range(n)]
    a["multi_pairing_%d" % n] = measure(5 if n == 8 else 2, lambda: ark.GT.multi_pairing(ps, qs))
a["g1_mul"] = measure(200, lambda: P * s)
a["g2_mul"] = measure(100, lambda: Q * s)
a["hash_to_g1"] = measure(200, lambda: ark.G1Point.hash_to_curve(msg, dst1))
a["hash_to_g2"] = measure(100, lambda: ark.G2Point.hash_to_curve(msg, dst2))
# MSM: arkworks' multiexp (variable-time Pippenger) on random points and 255-bit scalars;
# compared against each of our MSM rows of the same size. blspy exposes no G1/G2 scalar
# multiplication or MSM, so blst has no MSM figure.
import random
R = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
rng = random.Random(7)
for n in (23, 64, 256):
    ps = [ark.G1Point() * ark.Scalar(rng.randrange(R)) for _ in range(n)]
    ss = [ark.Scalar(rng.randrange(R)) for _ in range(n)]
    t = measure(20 if n < 256 else 5, lambda: ark.G1Point.multiexp_unchecked(ps, ss))
    for k in ("ct", "vt", "pippenger", "fixed4"):
        a["g1_msm_%s_%d" % (k, n)] = t
for n in (23, 64):
    qs = [ark.G2Point() * ark.Scalar(rng.randrange(R)) for _ in range(n)]
    ss = [ark.Scalar(rng.randrange(R)) for _ in range(n)]
    a["g2_msm_ct_%d" % n] = measure(5, lambda: ark.G2Point.multiexp_unchecked(qs, ss))
print(json.dumps(out))
PY
)

section_file="$(mktemp)"
python3 - "$ours" "$ref" "$section_file" <<'PY'
import json, sys, subprocess, datetime, platform, os
ours = json.loads(sys.argv[1])
ref = json.loads(sys.argv[2])
blst, arkw = ref["blst"], ref["arkworks"]
cpu = "unknown"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
rows = [
    ("fp_mul", "Fp multiplication"),
    ("fp_square", "Fp squaring"),
    ("fp12_mul", "Fp12 multiplication"),
    ("pairing", "pairing e(P, Q)"),
    ("miller_loop", "Miller loop"),
    ("final_exponentiation", "final exponentiation"),
    ("multi_pairing_8", "multi-pairing, 8 pairs"),
    ("multi_pairing_32", "multi-pairing, 32 pairs"),
    ("g1_mul", "G1 scalar mult (constant time)"),
    ("g2_mul", "G2 scalar mult (constant time)"),
    ("g1_mul_generator", "G1 generator mult (fixed base)"),
    ("g2_mul_generator", "G2 generator mult (fixed base)"),
    ("hash_to_g1", "hash to G1 (RFC 9380)"),
    ("hash_to_g2", "hash to G2 (RFC 9380)"),
    ("g1_decompress", "G1 decompress + subgroup check"),
    ("g2_decompress", "G2 decompress + subgroup check"),
    ("gt_pow", "GT exponentiation (constant time)"),
]
for n in (23, 64, 256):
    rows += [
        ("g1_msm_naive_%d" % n, "G1 MSM n = %d: naive sum of constant-time mults (before)" % n),
        ("g1_msm_ct_%d" % n, "G1 MSM n = %d: Straus, constant time" % n),
        ("g1_msm_vt_%d" % n, "G1 MSM n = %d: variable time (auto: Straus < 64 <= Pippenger)" % n),
        ("g1_msm_pippenger_%d" % n, "G1 MSM n = %d: Pippenger buckets, variable time" % n),
        ("g1_msm_fixed4_%d" % n, "G1 MSM n = %d: fixed-base tables (4 parts), constant time" % n),
    ]
for n in (23, 64):
    rows += [
        ("g2_msm_naive_%d" % n, "G2 MSM n = %d: naive sum of constant-time mults (before)" % n),
        ("g2_msm_ct_%d" % n, "G2 MSM n = %d: Straus, constant time" % n),
    ]
def fmt(ns):
    if ns is None:
        return "n/a"
    return "%.3f us" % (ns / 1000) if ns < 10000 else "%.0f us" % (ns / 1000)
def ratio(x, y):
    return "%.2fx" % (x / y) if (x is not None and y is not None) else "n/a"
lines = [
    "<!-- bls:begin -->",
    "## BLS12-381 (module `BLS12381`)",
    "",
    "Command: `SCRATCH=%s SWIFT_BUILD_FLAGS=\"%s\" scripts/bench-bls.sh` (release build of `bench-bls`;" % (
        os.environ.get("SCRATCH", ".build-bls-bench"), os.environ.get("SWIFT_BUILD_FLAGS", "")) + " blst through `blspy`, arkworks through",
    "`py-arkworks-bls12381`, both from Python, so their figures include a little call overhead).",
    "Machine: %s, `nproc` = %s, %s. Date: %s UTC. Median of 7 batches; the machine is shared, expect ±15%%." % (
        cpu, nproc, platform.platform(), datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M")),
    "",
    "| operation | ours | blst | ours / blst | arkworks | ours / arkworks |",
    "|---|---:|---:|---:|---:|---:|",
]
for key, label in rows:
    o = ours.get(key)
    lines.append("| %s | %s | %s | %s | %s | %s |" % (
        label, fmt(o), fmt(blst.get(key)), ratio(o, blst.get(key)), fmt(arkw.get(key)), ratio(o, arkw.get(key))))
speed = []
for g, sizes in (("g1", (23, 64, 256)), ("g2", (23, 64))):
    for n in sizes:
        naive = ours.get("%s_msm_naive_%d" % (g, n))
        parts = ["%s %s" % (k, ratio(naive, ours.get("%s_msm_%s_%d" % (g, k, n))))
                 for k in ("ct", "vt", "pippenger", "fixed4") if ("%s_msm_%s_%d" % (g, k, n)) in ours]
        speed.append("%s n = %d: %s" % (g.upper(), n, ", ".join(parts)))
lines += ["", "MSM speed-up over the naive sum (before / after, same run): " + "; ".join(speed) + "."]
lines += ["", "n/a: the Python binding does not expose the operation. MSM rows: the arkworks column is",
          "`G1Point/G2Point.multiexp_unchecked` (variable-time Pippenger) on random points and scalars of",
          "the same size, repeated on each of our rows of that size; blspy has no MSM or point multiplication.",
          "Fixed-base tables at 4 parts hold 17 * 4 affine points (7,072 bytes) per point.",
          "<!-- bls:end -->"]
block = "\n".join(lines)
open(sys.argv[3], "w").write(block + "\n")
PY
python3 scripts/bench-section.py bls "$section_file"
cat "$section_file"
rm -f "$section_file"
