import CLinux

/// SIGTERM and SIGINT taken synchronously, for a graceful drain: block them before any thread
/// starts, then let one thread wait for them and shut the server down.
///
/// ```swift
/// TerminationSignals.block()          // first thing in main
/// try server.start()
/// let signal = TerminationSignals.wait()
/// server.shutdown(gracePeriod: 10)
/// ```
public enum TerminationSignals {
    /// Blocks SIGTERM, SIGINT (and SIGPIPE, which a closed socket would otherwise raise) for
    /// this thread and the threads it starts afterwards.
    public static func block() {
        _ = csys_block_termination_signals()
    }

    /// Waits until SIGTERM or SIGINT arrives; returns its number (15 or 2).
    public static func wait() -> Int32 {
        csys_wait_termination_signal()
    }

    /// A SIGTERM or SIGINT that arrived since the last look, taken without waiting; nil if none.
    /// For loops that do their own work between looks.
    public static func pending() -> Int32? {
        let signal = csys_poll_termination_signal()
        return signal == 0 ? nil : signal
    }

    /// Sends SIGTERM to this process, ending a `wait()`.
    public static func raiseTermination() {
        csys_raise_termination()
    }
}
