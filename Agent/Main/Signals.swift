import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Signals received and not yet handled, as bits (see ``SignalBits``).
let pendingSignals = Atomic<Int>(0)

enum SignalBits {
    static let terminate = 1
    static let reload = 2
}

/// The C signal handler: only sets a bit (async-signal-safe); the main thread polls it.
func recordSignal(_ number: Int32) {
    pendingSignals.bitwiseOr(number == SIGHUP ? SignalBits.reload : SignalBits.terminate, ordering: .relaxed)
}

/// Installs the handler for SIGTERM, SIGINT and SIGHUP, unblocks them on this thread (a
/// parent may have started us with them blocked), and ignores SIGPIPE.
func installSignalHandlers() {
    var set = sigset_t()
    sigemptyset(&set)
    for number in [SIGTERM, SIGINT, SIGHUP] {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { recordSignal($0) }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(number, &action, nil)
        sigaddset(&set, number)
    }
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
    signal(SIGPIPE, SIG_IGN)
}
