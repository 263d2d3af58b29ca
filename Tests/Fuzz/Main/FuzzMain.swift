import FuzzHarnesses

#if canImport(Glibc)
    import Glibc
#endif

/// What both builds of `fuzz-agritrace` do besides fuzzing and replaying: write a harness's
/// built seeds (`AGRITRACE_FUZZ_SEEDS_TO=DIR`, with `AGRITRACE_FUZZ_HARNESS`), and print the
/// agent TOML parser's view of NUL-separated documents on standard input, one JSON line each
/// (`AGRITRACE_TOML_JSON=1`, for `scripts/toml-differential.py`).
enum FuzzTools {
    static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

    /// Runs the tool the environment asks for, if any, and exits.
    static func runRequestedTool() {
        if let folder = environment("AGRITRACE_FUZZ_SEEDS_TO") {
            guard let harness = FuzzHarnesses.Harness(rawValue: environment("AGRITRACE_FUZZ_HARNESS") ?? "") else {
                fatalError("set AGRITRACE_FUZZ_HARNESS to one of \(FuzzHarnesses.Harness.allCases.map(\.rawValue))")
            }
            for (index, seed) in FuzzHarnesses.generatedSeeds(harness).enumerated() {
                guard let file = fopen("\(folder)/generated-\(index)", "wb") else { exit(1) }
                _ = seed.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
                fclose(file)
            }
            exit(0)
        }
        if environment("AGRITRACE_TOML_JSON") == "1" {
            let input = readAll(0)
            for document in input.split(separator: 0, omittingEmptySubsequences: false).dropLast() {
                guard let text = String(validating: document, as: UTF8.self) else {
                    print("{\"error\": \"not UTF-8\"}")
                    continue
                }
                print(FuzzHarnesses.tomlJSON(text))
            }
            exit(0)
        }
    }

    /// Everything readable from a file descriptor.
    static func readAll(_ descriptor: CInt) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return bytes
    }
}

#if AGRITRACE_LIBFUZZER
    /// The harness libFuzzer drives, from `AGRITRACE_FUZZ_HARNESS` (`scripts/fuzz.sh` sets it).
    let selectedHarness: FuzzHarnesses.Harness = {
        guard let harness = FuzzHarnesses.Harness(rawValue: FuzzTools.environment("AGRITRACE_FUZZ_HARNESS") ?? "")
        else {
            fatalError("set AGRITRACE_FUZZ_HARNESS to one of \(FuzzHarnesses.Harness.allCases.map(\.rawValue))")
        }
        return harness
    }()

    /// libFuzzer's driver (`LLVMFuzzerRunDriver`, in the fuzzer runtime `-sanitize=fuzzer` links).
    @_silgen_name("LLVMFuzzerRunDriver")
    func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
    ) -> CInt

    /// The program's entry point: SwiftPM links an executable's `main` to `<module>_main`, so
    /// this one runs a requested tool or hands over to libFuzzer's driver.
    @_cdecl("fuzz_agritrace_main")
    public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        FuzzTools.runRequestedTool()
        var count = argc
        var arguments = argv
        return runFuzzerDriver(&count, &arguments, fuzzOneInput)
    }

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
    /// e.g. a crash artifact libFuzzer wrote, and prints each outcome (or runs a tool of
    /// ``FuzzTools``).
    @main struct FuzzReplay {
        static func main() throws {
            FuzzTools.runRequestedTool()
            let arguments = CommandLine.arguments.dropFirst()
            guard let name = arguments.first, let harness = FuzzHarnesses.Harness(rawValue: name) else {
                print(
                    "usage: fuzz-agritrace <\(FuzzHarnesses.Harness.allCases.map(\.rawValue).joined(separator: "|"))> FILE..."
                )
                exit(2)
            }
            var failed = false
            for path in arguments.dropFirst() {
                let descriptor = open(path, O_RDONLY)
                guard descriptor >= 0 else {
                    print("\(path): cannot read")
                    failed = true
                    continue
                }
                let bytes = FuzzTools.readAll(descriptor)
                close(descriptor)
                do {
                    print("\(path): \(try FuzzHarnesses.run(harness, bytes))")
                } catch {
                    print("\(path): VIOLATION \(error)")
                    failed = true
                }
            }
            exit(failed ? 1 : 0)
        }
    }
#endif
