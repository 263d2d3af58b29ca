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

nonisolated(unsafe) let json = CommandLine.arguments.contains("--json")
nonisolated(unsafe) var results: [(String, Double)] = []

func report(_ name: String, _ ns: Double) {
    results.append((name, ns))
    if !json {
        let us = ns / 1000
        let label = name + String(repeating: " ", count: max(1, 28 - name.count))
        print(label + (us < 10 ? "\(Double(Int(ns)) / 1000) us" : "\(Int(us.rounded())) us"))
    }
}

let a = BLS12381.Scalar.random()
let b = BLS12381.Scalar.random()
let p = BLS12381.G1.generator * a
let q = BLS12381.G2.generator * b
let msg = Array("AgriTrace benchmark message".utf8)

report("fp_mul", measure(1) { sink &+= BLS12381._Bench.fpMulChain(100_000) } / 100_000)
report("fp12_mul", measure(1) { sink &+= BLS12381._Bench.fp12MulChain(2_000) } / 2_000)
report("pairing", measure(40) { sink &+= UInt64(BLS12381.pairing(p, q).bytes[0]) })
let ml = BLS12381.millerLoopValue(p, q)
report("miller_loop", measure(40) { _ = BLS12381.millerLoopValue(p, q) })
report("final_exponentiation", measure(40) { sink &+= UInt64(ml.finalExponentiation().isIdentity ? 1 : 0) })
for n in [8, 32] {
    var pairs: [(BLS12381.G1, BLS12381.G2)] = []
    for i in 0..<n {
        let s1 = BLS12381.Scalar(UInt64(i + 3))
        let s2 = BLS12381.Scalar(UInt64(2 * i + 5))
        pairs.append((BLS12381.G1.generator * s1, BLS12381.G2.generator * s2))
    }
    report("multi_pairing_\(n)", measure(n == 8 ? 10 : 3) { sink &+= UInt64(BLS12381.multiPairing(pairs).isIdentity ? 1 : 0) })
}
report("g1_mul", measure(100) { sink &+= UInt64((p * b).isIdentity ? 1 : 0) })
report("g2_mul", measure(40) { sink &+= UInt64((q * a).isIdentity ? 1 : 0) })
report("g1_mul_generator", measure(200) { sink &+= UInt64(BLS12381.G1.generatorMultiple(b).isIdentity ? 1 : 0) })
report("g2_mul_generator", measure(100) { sink &+= UInt64(BLS12381.G2.generatorMultiple(b).isIdentity ? 1 : 0) })
report("hash_to_g1", measure(100) { sink &+= UInt64(BLS12381.G1.hash(toCurve: msg, domain: BLS12381.defaultG1Domain).isIdentity ? 1 : 0) })
report("hash_to_g2", measure(40) { sink &+= UInt64(BLS12381.G2.hash(toCurve: msg, domain: BLS12381.defaultG2Domain).isIdentity ? 1 : 0) })
report("g1_decompress", measure(200) { sink &+= UInt64((try? BLS12381.G1(bytes: p.compressed))?.isIdentity == true ? 1 : 0) })
report("g2_decompress", measure(100) { sink &+= UInt64((try? BLS12381.G2(bytes: q.compressed))?.isIdentity == true ? 1 : 0) })
report("gt_pow", measure(40) { sink &+= UInt64(BLS12381.GT.generator.power(a).isIdentity ? 1 : 0) })

if json {
    print("{" + results.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
}
if sink == 42 { print("") }
