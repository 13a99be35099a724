/// What the daemon tells its service manager, injected by the executable (libsystemd there,
/// nothing in tests), so the server layer does not depend on systemd.
///
/// Every hook runs on the server queue.
public struct LifecycleHooks: Sendable {
    /// Every socket listens, the configuration is loaded and signals are armed (`READY=1`); the
    /// argument is the first status line.
    public var ready: @Sendable (_ status: String) -> Void
    /// Shutdown began (`STOPPING=1`); the argument says why.
    public var stopping: @Sendable (_ status: String) -> Void
    /// The status line changed (`STATUS=`), at most every ``statusInterval`` milliseconds with a
    /// trailing update. Nil when nobody listens: the server then does not even compute it.
    public var status: (@Sendable (_ status: String) -> Void)?
    /// The minimum time between two ``status`` calls.
    public var statusIntervalMilliseconds: Int
    /// The watchdog interval the service manager expects (`WATCHDOG_USEC`), or nil when it set none.
    public var watchdogIntervalMicroseconds: UInt64?
    /// Keep-alive ping (`WATCHDOG=1`), sent from the server queue at half the watchdog interval, so a
    /// stuck queue stops the pings.
    public var watchdog: @Sendable () -> Void
    /// A shutdown signal arrived, with the PID that sent it (0 from the kernel or a terminal); called on
    /// the main thread before the server shuts down (`qemu-system-x86_64` prints QEMU's `terminating on
    /// signal 15 from pid N (NAME)` here).
    public var signal: (@Sendable (_ signal: Int32, _ sender: Int32) -> Void)?

    public init(
        ready: @escaping @Sendable (_ status: String) -> Void = { _ in },
        stopping: @escaping @Sendable (_ status: String) -> Void = { _ in },
        status: (@Sendable (_ status: String) -> Void)? = nil,
        statusIntervalMilliseconds: Int = 250,
        watchdogIntervalMicroseconds: UInt64? = nil,
        watchdog: @escaping @Sendable () -> Void = {},
        signal: (@Sendable (_ signal: Int32, _ sender: Int32) -> Void)? = nil
    ) {
        self.ready = ready
        self.stopping = stopping
        self.status = status
        self.statusIntervalMilliseconds = statusIntervalMilliseconds
        self.watchdogIntervalMicroseconds = watchdogIntervalMicroseconds
        self.watchdog = watchdog
        self.signal = signal
    }
}
