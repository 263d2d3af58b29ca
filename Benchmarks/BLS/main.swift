// bench-bls: timings of the BLS12381 module's main operations (release builds only).
//
//   swift build -c release --product bench-bls && .build/release/bench-bls [--json]
//
// Each operation runs for a warm-up, then in batches; the reported figure is the median
// time per operation over the batches.

import BLS12381

#if canImport(Glibc)
  import Glibc
#endif

nonisolated(unsafe) var sink: UInt64 = 0

func nowNanos() -> UInt64 {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Median nanoseconds per call of `body`, each batch running `perBatch` calls.
func measure(_ perBatch: Int, batches: Int = 7, _ body: () -> Void) -> Double {
  body()
  var samples = [Double]()
  for _ in 0..<batches {
    let t0 = nowNanos()
    for _ in 0..<perBatch { body() }
    samples.append(Double(nowNanos() - t0) / Double(perBatch))
  }
  samples.sort()
  return samples[samples.count / 2]
}

let json = CommandLine.arguments.contains("--json")
nonisolated(unsafe) var results: [(String, Double)] = []

func report(_ name: String, _ ns: Double) {
  results.append((name, ns))
  if !json {
    let us = ns / 1000
    let label = name + String(repeating: " ", count: max(1, 28 - name.count))
    print(label + (us < 10 ? "\(Double(Int(ns * 10)) / 10) ns" : "\(Int(us.rounded())) us"))
  }
}

// Two inputs per operation, alternated, so that the optimizer cannot hoist a pure call
// with loop-invariant arguments out of the timing loop.
nonisolated(unsafe) var tick = 0
func next() -> Int {
  tick &+= 1
  return tick & 1
}

let a = [BLS12381.Scalar.random(), BLS12381.Scalar.random()]
let b = [BLS12381.Scalar.random(), BLS12381.Scalar.random()]
let p = [BLS12381.G1.generator * a[0], BLS12381.G1.generator * a[1]]
let q = [BLS12381.G2.generator * b[0], BLS12381.G2.generator * b[1]]
let msg = [
  Array("AgriTrace benchmark message 0".utf8), Array("AgriTrace benchmark message 1".utf8),
]
let ml = [BLS12381.millerLoopValue(p[0], q[0]), BLS12381.millerLoopValue(p[1], q[1])]

func digest(_ g: BLS12381.GT) -> UInt64 { g.isIdentity ? 1 : 0 }
func digest(_ g: BLS12381.G1) -> UInt64 { g.isIdentity ? 1 : 0 }
func digest(_ g: BLS12381.G2) -> UInt64 { g.isIdentity ? 1 : 0 }

report("fp_mul", measure(1) { sink &+= BLS12381._Bench.fpMulChain(100_000, seed: sink) } / 100_000)
report(
  "fp_square", measure(1) { sink &+= BLS12381._Bench.fpSquareChain(100_000, seed: sink) } / 100_000)
report("fp12_mul", measure(1) { sink &+= BLS12381._Bench.fp12MulChain(2_000) } / 2_000)
report(
  "pairing",
  measure(40) {
    let i = next()
    sink &+= digest(BLS12381.pairing(p[i], q[i]))
  })
report(
  "miller_loop",
  measure(40) {
    let i = next()
    sink &+= BLS12381._Bench.millerLoop(p[i], q[i])
  })
report("final_exponentiation", measure(40) { sink &+= digest(ml[next()].finalExponentiation()) })
for n in [8, 32] {
  var pairs: [[(BLS12381.G1, BLS12381.G2)]] = [[], []]
  for i in 0..<n {
    for k in 0..<2 {
      let s1 = BLS12381.Scalar(UInt64(i + 3 + k))
      let s2 = BLS12381.Scalar(UInt64(2 * i + 5))
      pairs[k].append((BLS12381.G1.generator * s1, BLS12381.G2.generator * s2))
    }
  }
  report(
    "multi_pairing_\(n)",
    measure(n == 8 ? 10 : 3) { sink &+= digest(BLS12381.multiPairing(pairs[next()])) })
}
report(
  "g1_mul",
  measure(100) {
    let i = next()
    sink &+= digest(p[i] * b[i])
  })
report(
  "g2_mul",
  measure(40) {
    let i = next()
    sink &+= digest(q[i] * a[i])
  })
report(
  "g1_mul_generator", measure(200) { sink &+= digest(BLS12381.G1.generatorMultiple(b[next()])) })
report(
  "g2_mul_generator", measure(100) { sink &+= digest(BLS12381.G2.generatorMultiple(b[next()])) })
report(
  "hash_to_g1",
  measure(100) {
    sink &+= digest(BLS12381.G1.hash(toCurve: msg[next()], domain: BLS12381.defaultG1Domain))
  })
report(
  "hash_to_g2",
  measure(40) {
    sink &+= digest(BLS12381.G2.hash(toCurve: msg[next()], domain: BLS12381.defaultG2Domain))
  })
let pc = [p[0].compressed, p[1].compressed]
let qc = [q[0].compressed, q[1].compressed]
report(
  "g1_decompress",
  measure(200) { sink &+= (try? BLS12381.G1(bytes: pc[next()]))?.isIdentity == false ? 1 : 0 })
report(
  "g2_decompress",
  measure(100) { sink &+= (try? BLS12381.G2(bytes: qc[next()]))?.isIdentity == false ? 1 : 0 })
// Multi-scalar multiplication, n points (random multiples of the generator) and scalars.

/// The group operations the multi-scalar figures time, alike in G1 and G2.
protocol MSMGroup {
  static var identity: Self { get }
  static func + (a: Self, b: Self) -> Self
  static func * (a: Self, k: BLS12381.Scalar) -> Self
  static func generatorMultiple(_ k: BLS12381.Scalar) -> Self
  static func multiScalarMultiply(
    points: [Self], scalars: [BLS12381.Scalar], timing: BLS12381.MSMTiming) -> Self
  var isIdentity: Bool { get }
}
extension BLS12381.G1: MSMGroup {}
extension BLS12381.G2: MSMGroup {}

/// Reports `<group>_msm_naive_<n>` (n scalar products summed) and `<group>_msm_ct_<n>` (the
/// constant-time MSM) over n random points of `G` and two sets of n random scalars, which it
/// returns for the group's other figures.
func reportNaiveAndConstantTimeMSM<G: MSMGroup>(
  _ group: String, _ n: Int, naiveReps: Int, ctReps: Int, in _: G.Type
) -> (points: [G], scalars: [[BLS12381.Scalar]]) {
  let pts = (0..<n).map { _ in G.generatorMultiple(.random()) }
  let ks = [
    (0..<n).map { _ in BLS12381.Scalar.random() }, (0..<n).map { _ in BLS12381.Scalar.random() },
  ]
  report(
    "\(group)_msm_naive_\(n)",
    measure(naiveReps) {
      let k = ks[next()]
      var acc = G.identity
      for i in 0..<n { acc = acc + pts[i] * k[i] }
      sink &+= acc.isIdentity ? 1 : 0
    })
  report(
    "\(group)_msm_ct_\(n)",
    measure(ctReps) {
      let sum = G.multiScalarMultiply(points: pts, scalars: ks[next()], timing: .constantTime)
      sink &+= sum.isIdentity ? 1 : 0
    })
  return (pts, ks)
}

for n in [23, 64, 256] {
  let reps = n >= 256 ? 2 : (n >= 64 ? 4 : 10)
  let (pts, ks) = reportNaiveAndConstantTimeMSM(
    "g1", n, naiveReps: max(1, reps / 4), ctReps: reps, in: BLS12381.G1.self)
  report(
    "g1_msm_vt_\(n)",
    measure(reps) {
      sink &+= digest(
        BLS12381.G1.multiScalarMultiply(points: pts, scalars: ks[next()], timing: .variableTime))
    })
  report(
    "g1_msm_pippenger_\(n)",
    measure(reps) { sink &+= digest(BLS12381._Bench.pippengerG1(pts, ks[next()])) })
  let fixed = BLS12381.G1.FixedBases(points: pts, parts: 4)
  report("g1_msm_fixed4_\(n)", measure(reps) { sink &+= digest(fixed.multiply(ks[next()])) })
  if !json { print("  fixed-base table, 4 parts, n = \(n): \(fixed.tableBytes) bytes") }
}
for n in [23, 64] {
  _ = reportNaiveAndConstantTimeMSM("g2", n, naiveReps: 1, ctReps: 3, in: BLS12381.G2.self)
}

let gen = BLS12381.GT.generator
report("gt_pow", measure(40) { sink &+= digest(gen.power(a[next()])) })

if json {
  print("{" + results.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
}
if sink == 42 { print("") }
