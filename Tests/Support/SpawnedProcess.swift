import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started with `posix_spawn` and a clean signal state.
///
/// Foundation's `Process` hands the child the signal mask of the thread that starts it; a
/// test runs on a thread that blocks SIGTERM and SIGHUP, so a child started that way never
/// sees them (a broker would not reload, an agent would not drain). This spawns with an empty
/// mask and default dispositions, so signals in tests behave as under systemd or a shell.
public final class SpawnedProcess: Sendable {
    /// The child's pid.
    public let processIdentifier: pid_t
    private let exitStatus = Mutex<Int32?>(nil)

    /// Starts `executable` with `arguments`; standard input is `/dev/null`, standard output
    /// and error go to `outputFile` (appended) or `/dev/null`.
    public init(
        _ executable: String, _ arguments: [String], outputFile: String? = nil, environment: [String: String]? = nil
    ) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var all = sigset_t()
        sigfillset(&all)
        sigdelset(&all, SIGKILL)
        sigdelset(&all, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let output = outputFile ?? "/dev/null"
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Only 0, 1 and 2 go to the child. Without this it inherited every descriptor the test
        // process had open at that moment, among them the write end of another thread's pipe
        // to a short command (openssl): a long-lived child (a broker) kept that pipe open, so
        // the reader never saw end-of-file and waited for the broker's exit (a test holding the
        // CA's lock hung the whole run).
        try closeDescriptorsFromThree(&actions)

        let variables =
            (environment.map { ProcessInfo.processInfo.environment.merging($0) { $1 } }
            ?? ProcessInfo.processInfo.environment)
            .map { "\($0.key)=\($0.value)" }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = variables.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw SpawnError(executable: executable, reason: String(cString: strerror(rc))) }
        processIdentifier = pid
    }

    /// Reaps the child if it has exited; `true` while it runs.
    public var isRunning: Bool {
        exitStatus.withLock { status in
            if status != nil { return false }
            var raw: Int32 = 0
            let result = waitpid(processIdentifier, &raw, WNOHANG)
            if result == processIdentifier {
                status = raw
                return false
            }
            return result == 0
        }
    }

    /// The exit code (or 128 + signal) once the child has exited.
    public var terminationStatus: Int32 {
        guard let raw = exitStatus.withLock({ $0 }) else { return -1 }
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }

    /// Sends SIGTERM.
    public func terminate() { if isRunning { Glibc.kill(processIdentifier, SIGTERM) } }

    /// Sends SIGKILL and waits for the exit.
    public func kill() {
        if isRunning { Glibc.kill(processIdentifier, SIGKILL) }
        waitUntilExit()
    }

    /// Sends `signal` (e.g. SIGHUP).
    public func send(_ signal: Int32) { if isRunning { Glibc.kill(processIdentifier, signal) } }

    /// Blocks until the child has exited.
    public func waitUntilExit() {
        exitStatus.withLock { status in
            guard status == nil else { return }
            var raw: Int32 = 0
            while waitpid(processIdentifier, &raw, 0) == -1 && errno == EINTR {}
            status = raw
        }
    }

    deinit { kill() }
}

/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 on), looked up once at run time:
/// Swift's Glibc module does not declare it.
private let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32)? =
    dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np").map {
        unsafeBitCast($0, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32).self)
    }

/// Adds "close every descriptor from 3 up" to `actions`.
func closeDescriptorsFromThree(_ actions: inout posix_spawn_file_actions_t) throws {
    guard let addCloseFrom else {
        throw SpawnError(
            executable: "posix_spawn", reason: "needs glibc 2.34 or later (posix_spawn_file_actions_addclosefrom_np)")
    }
    let rc = addCloseFrom(&actions, 3)
    guard rc == 0 else { throw SpawnError(executable: "posix_spawn", reason: String(cString: strerror(rc))) }
}

/// `posix_spawn` failed.
public struct SpawnError: Error, CustomStringConvertible {
    public var executable: String
    public var reason: String
    public var description: String { "cannot start \(executable): \(reason)" }
}
