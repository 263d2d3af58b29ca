import FuzzHarnesses

#if canImport(Glibc)
    import Glibc
#endif

#if AGRITRACE_LIBFUZZER
    /// The harness libFuzzer drives, from `AGRITRACE_FUZZ_HARNESS` (`scripts/fuzz.sh` sets it).
    let selectedHarness: FuzzHarnesses.Harness = {
        let name = getenv("AGRITRACE_FUZZ_HARNESS").map { String(cString: $0) } ?? ""
        guard let harness = FuzzHarnesses.Harness(rawValue: name) else {
            fatalError("set AGRITRACE_FUZZ_HARNESS to one of \(FuzzHarnesses.Harness.allCases.map(\.rawValue))")
        }
        return harness
    }()

    /// libFuzzer's entry point: a broken invariant is a crash it records.
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
        do {
            _ = try FuzzHarnesses.run(selectedHarness, Array(UnsafeBufferPointer(start: data, count: count)))
        } catch {
            fatalError("\(selectedHarness.rawValue): \(error)")
        }
        return 0
    }
#else
    /// Without libFuzzer: replays files through a harness (`fuzz-agritrace HARNESS FILE...`),
    /// e.g. a crash artifact libFuzzer wrote, and prints each outcome;
    /// `fuzz-agritrace --write-wire-seeds DIR` writes the built wire seeds.
    @main struct FuzzReplay {
        static func main() throws {
            let arguments = CommandLine.arguments.dropFirst()
            if arguments.first == "--write-wire-seeds", let folder = arguments.dropFirst().first {
                for (index, seed) in FuzzHarnesses.generatedWireSeeds().enumerated() {
                    guard let file = fopen("\(folder)/generated-\(index)", "wb") else { exit(1) }
                    _ = seed.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
                    fclose(file)
                }
                exit(0)
            }
            guard let name = arguments.first, let harness = FuzzHarnesses.Harness(rawValue: name) else {
                print(
                    "usage: fuzz-agritrace <\(FuzzHarnesses.Harness.allCases.map(\.rawValue).joined(separator: "|"))> FILE..."
                )
                exit(2)
            }
            var failed = false
            for path in arguments.dropFirst() {
                guard let bytes = readFile(path) else {
                    print("\(path): cannot read")
                    failed = true
                    continue
                }
                do {
                    print("\(path): \(try FuzzHarnesses.run(harness, bytes))")
                } catch {
                    print("\(path): VIOLATION \(error)")
                    failed = true
                }
            }
            exit(failed ? 1 : 0)
        }

        static func readFile(_ path: String) -> [UInt8]? {
            guard let file = fopen(path, "rb") else { return nil }
            defer { fclose(file) }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = fread(&buffer, 1, buffer.count, file)
                if count <= 0 { break }
                bytes += buffer[0..<count]
            }
            return bytes
        }
    }
#endif
