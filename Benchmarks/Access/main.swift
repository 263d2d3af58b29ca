// bench-access: timings and sizes of the hidden-policy ABSE and the FAME CP-ABE (release).
//
//   swift build -c release --product bench-access && .build/release/bench-access [--quick]
//
// Prints a Markdown table. Each figure is the median over `runs` calls after one warm-up.

import AccessCrypto
import BLS12381

#if canImport(Glibc)
    import Glibc
#endif

func nowNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func medianMs(_ runs: Int, _ body: () throws -> Void) rethrows -> Double {
    try body()
    var samples: [Double] = []
    for _ in 0..<runs {
        let t0 = nowNanos()
        try body()
        samples.append(Double(nowNanos() - t0) / 1e6)
    }
    samples.sort()
    return samples[samples.count / 2]
}

func fmt(_ ms: Double) -> String {
    ms < 10 ? String(Double(Int(ms * 100)) / 100) : String(Double(Int(ms * 10)) / 10)
}

/// CPU time of the whole process (every thread), in nanoseconds.
func cpuNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Median wall ms and median process CPU ms per call over `runs` calls after one warm-up.
func medianWallCpuMs(_ runs: Int, _ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
    try body()
    var wall: [Double] = []
    var cpu: [Double] = []
    for _ in 0..<runs {
        let t0 = nowNanos()
        let c0 = cpuNanos()
        try body()
        cpu.append(Double(cpuNanos() - c0) / 1e6)
        wall.append(Double(nowNanos() - t0) / 1e6)
    }
    wall.sort()
    cpu.sort()
    return (wall[runs / 2], cpu[runs / 2])
}

let quick = CommandLine.arguments.contains("--quick")
let runs = quick ? 3 : 9

// --encrypt-only: ABSE encrypt at 8 attributes, one thread and the default thread count,
// wall and process CPU time (for iterating on the encrypt path).
if CommandLine.arguments.contains("--encrypt-only") {
    let (pp, _) = try ABSE.setup(slotCount: 8)
    let values = (0..<8).map { "v\($0)" }
    let token = [UInt8](repeating: 0xAB, count: 256)
    print("| operation (8 attributes) | threads | median wall ms | median CPU ms |")
    print("|---|---:|---:|---:|")
    for w in Set([1, ABSE.defaultWorkers]).sorted() {
        let t = try medianWallCpuMs(3 * runs) {
            _ = try ABSE.encrypt(keyword: "kw", token: token, policy: values, publicParameters: pp, workers: w)
        }
        print("| ABSE encrypt (PrdIT+ABSE), D = 256 B | \(w) | \(fmt(t.wall)) | \(fmt(t.cpu)) |")
    }
    let prepared = try ABSE.PreparedPolicy(policy: values, publicParameters: pp)
    for w in Set([1, ABSE.defaultWorkers]).sorted() {
        let t = medianWallCpuMs(3 * runs) {
            _ = ABSE.encrypt(keyword: "kw", token: token, prepared: prepared, workers: w)
        }
        print("| ABSE encrypt, policy prepared (reused), D = 256 B | \(w) | \(fmt(t.wall)) | \(fmt(t.cpu)) |")
    }
    let gt = BLS12381.GT.generator.power(BLS12381.Scalar.random())
    let fixed = BLS12381.GT.FixedBase(gt)
    let z = BLS12381.Scalar.random()
    let tPow = medianWallCpuMs(3 * runs) { _ = gt.power(z) }
    let tFixed = medianWallCpuMs(3 * runs) { _ = fixed.power(z) }
    precondition(gt.power(z) == fixed.power(z), "GT fixed-base power differs")
    print(
        "| GT power (the KEM's e(g1, g2)^(ψζ)), cyclotomic squarings / fixed-base table | 1 | \(fmt(tPow.wall)) / \(fmt(tFixed.wall)) | |"
    )
    exit(0)
}

print("| scheme | attributes | universe | operation | median ms | size (bytes) |")
print("|---|---:|---:|---|---:|---:|")

// ABSE: all slots required (worst case for the encryptor; wildcards cost the same).
for n in [4, 8, 16] {
    let (pp, mk) = try ABSE.setup(slotCount: n)
    let universe = 1000
    let values = (0..<n).map { "v\($0 * 7919 % universe)" }
    let token = [UInt8](repeating: 0xAB, count: 256)
    var ct = try ABSE.encrypt(keyword: "kw", token: token, policy: values, publicParameters: pp)
    let key = try ABSE.issueAttributeKey(master: mk, attributes: values)
    var td = ABSE.trapdoor(keyword: "kw", attributeKey: key)
    let r = n >= 16 ? max(3, runs / 3) : runs
    let tEnc = try medianMs(r) {
        ct = try ABSE.encrypt(keyword: "kw", token: token, policy: values, publicParameters: pp)
    }
    let tEnc1 = try medianWallCpuMs(r) {
        ct = try ABSE.encrypt(keyword: "kw", token: token, policy: values, publicParameters: pp, workers: 1)
    }
    // A policy the owner reuses: prepared once (all n slots required: the most rows),
    // then encrypt with (n + 4) MSM rows per column instead of 2n + 4.
    var prepared = try ABSE.PreparedPolicy(policy: values, publicParameters: pp)
    let tPrep = try medianMs(max(1, r / 3)) {
        prepared = try ABSE.PreparedPolicy(policy: values, publicParameters: pp)
    }
    var ctPrep = ABSE.encrypt(keyword: "kw", token: token, prepared: prepared)
    let tEncPrep = medianMs(r) { ctPrep = ABSE.encrypt(keyword: "kw", token: token, prepared: prepared) }
    let tEncPrep1 = medianWallCpuMs(r) {
        ctPrep = ABSE.encrypt(keyword: "kw", token: token, prepared: prepared, workers: 1)
    }
    // Half the slots wildcards: n/2 + 4 rows.
    let half: [String?] = values.enumerated().map { $0.offset % 2 == 0 ? $0.element : nil }
    let preparedHalf = try ABSE.PreparedPolicy(policy: half, publicParameters: pp)
    let tEncHalf = medianMs(r) { _ = ABSE.encrypt(keyword: "kw", token: token, prepared: preparedHalf) }
    let tEncHalf1 = medianMs(r) { _ = ABSE.encrypt(keyword: "kw", token: token, prepared: preparedHalf, workers: 1) }
    let tTd = medianMs(r) { td = ABSE.trapdoor(keyword: "kw", attributeKey: key) }
    precondition(ABSE.test(ctPrep, td, publicParameters: pp) == token, "ABSE benchmark: prepared E does not match")
    var ok = true
    let tTest = medianMs(r) { ok = ABSE.test(ct, td, publicParameters: pp) == token && ok }
    var miss = true
    let badTd = ABSE.trapdoor(keyword: "other", attributeKey: key)
    let tMiss = medianMs(r) { miss = ABSE.test(ct, badTd, publicParameters: pp) == nil && miss }
    let tKey = try medianMs(max(1, r / 3)) { _ = try ABSE.issueAttributeKey(master: mk, attributes: values) }
    precondition(ok && miss, "ABSE benchmark: TEST gave a wrong answer")
    print(
        "| ABSE | \(n) | \(universe) | encrypt (PrdIT+ABSE), D = 256 B, \(ABSE.defaultWorkers) threads (wall) | \(fmt(tEnc)) | \(ct.serialized.count) |"
    )
    print("| ABSE | \(n) | \(universe) | encrypt, 1 thread (wall / CPU) | \(fmt(tEnc1.wall)) / \(fmt(tEnc1.cpu)) | |")
    print(
        "| ABSE | \(n) | \(universe) | encrypt, policy prepared (reused), all \(n) required, \(ABSE.defaultWorkers) threads (wall) | \(fmt(tEncPrep)) | \(ctPrep.serialized.count) |"
    )
    print(
        "| ABSE | \(n) | \(universe) | encrypt, policy prepared (reused), all \(n) required, 1 thread (wall / CPU) | \(fmt(tEncPrep1.wall)) / \(fmt(tEncPrep1.cpu)) | |"
    )
    print(
        "| ABSE | \(n) | \(universe) | encrypt, policy prepared (reused), \(n / 2) required, \(ABSE.defaultWorkers) threads / 1 thread (wall) | \(fmt(tEncHalf)) / \(fmt(tEncHalf1)) | |"
    )
    print(
        "| ABSE | \(n) | | policy preparation (once per policy, all \(n) required; size = table memory) | \(fmt(tPrep)) | \(prepared.tableBytes) |"
    )
    print("| ABSE | \(n) | \(universe) | trapdoor (TrpG) | \(fmt(tTd)) | \(td.serialized.count) |")
    print("| ABSE | \(n) | \(universe) | TEST, match | \(fmt(tTest)) | |")
    print("| ABSE | \(n) | \(universe) | TEST, no match | \(fmt(tMiss)) | |")
    print("| ABSE | \(n) | \(universe) | attribute key (AttG) | \(fmt(tKey)) | \(key.serialized.count) |")
    print("| ABSE | \(n) | | public parameters | | \(pp.serialized.count) |")
}

// ABSE over universes of 200…1,000 values at 8 attributes: values are hashed to Fr, so
// the universe size never enters the computation.
do {
    let n = 8
    let (pp, mk) = try ABSE.setup(slotCount: n)
    for universe in [200, 500, 1000] {
        var g = SystemRandomNumberGenerator()
        let values = (0..<n).map { _ in "attr-\(Int.random(in: 0..<universe, using: &g))" }
        let key = try ABSE.issueAttributeKey(master: mk, attributes: values)
        var ct = try ABSE.encrypt(keyword: "kw", token: [1], policy: values, publicParameters: pp)
        var td = ABSE.trapdoor(keyword: "kw", attributeKey: key)
        let tEnc = try medianMs(runs) {
            ct = try ABSE.encrypt(keyword: "kw", token: [1], policy: values, publicParameters: pp)
        }
        let tTd = medianMs(runs) { td = ABSE.trapdoor(keyword: "kw", attributeKey: key) }
        let tTest = medianMs(runs) { precondition(ABSE.test(ct, td, publicParameters: pp) == [1]) }
        print(
            "| ABSE | 8 | \(universe) | encrypt / trapdoor / TEST | \(fmt(tEnc)) / \(fmt(tTd)) / \(fmt(tTest)) | \(ct.serialized.count) / \(td.serialized.count) |"
        )
    }
}

// The one-off encrypt's column sums at 8 attributes (21 columns of 20 fixed points, the same
// 20 secret scalars), one thread: batched affine sums against each column's own sum with
// complete formulas, in the same run (their ratio is steadier than either figure).
do {
    let columns = (0..<21).map { _ in
        BLS12381.G1.FixedBases(points: (0..<20).map { _ in BLS12381.G1.generatorMultiple(.random()) })
    }
    let scalars = (0..<20).map { _ in BLS12381.Scalar.random() }
    var batched: [BLS12381.G1] = []
    var single: [BLS12381.G1] = []
    let tBatched = medianMs(runs) {
        batched =
            BLS12381.G1.FixedBases.multiply(Array(columns[0..<11]), sharing: scalars)
            + BLS12381.G1.FixedBases.multiply(Array(columns[11...]), sharing: scalars)
    }
    let tSingle = medianMs(runs) { single = columns.map { $0.multiply(scalars) } }
    precondition(batched == single, "batched column sums differ")
    print(
        "| ABSE | 8 | | column sums, 21 × 20 points, 1 thread: batched affine / per column (complete formulas) | \(fmt(tBatched)) / \(fmt(tSingle)) (\(fmt(tBatched / tSingle))×) | |"
    )
}

// CP-ABE (FAME), AND of k attributes, 32-byte message.
let (cpp, cmk) = CPABE.setup()
for k in [4, 8, 16] {
    let policy = (0..<k).map { "attribute-\($0)" }
    let msg = [UInt8](repeating: 7, count: 32)
    var ct = try CPABE.encrypt(msg, policy: policy, publicParameters: cpp)
    let sk = CPABE.keyGen(master: cmk, attributes: policy)
    let r = k >= 16 ? max(3, runs / 3) : runs
    let tEnc = try medianMs(r) { ct = try CPABE.encrypt(msg, policy: policy, publicParameters: cpp) }
    let tDec = try medianMs(r) {
        let out = try CPABE.decrypt(ct, secretKey: sk); precondition(out == msg)
    }
    let tKey = medianMs(max(1, r / 3)) { _ = CPABE.keyGen(master: cmk, attributes: policy) }
    print("| CP-ABE | \(k) | | encrypt (32 B message) | \(fmt(tEnc)) | \(ct.serialized.count) |")
    print("| CP-ABE | \(k) | | decrypt | \(fmt(tDec)) | |")
    print("| CP-ABE | \(k) | | keyGen | \(fmt(tKey)) | \(sk.serialized.count) |")
}
print("| CP-ABE | | | public parameters | | \(cpp.serialized.count) |")
