#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// Host wall-clock time for event timestamps, as QEMU stamps events (`g_get_real_time`).
public struct WallClock: Sendable {
    /// Seconds and microseconds since the Unix epoch.
    public var now: @Sendable () -> (seconds: Int64, microseconds: Int64)

    public init(now: @escaping @Sendable () -> (seconds: Int64, microseconds: Int64)) {
        self.now = now
    }

    /// The system's real-time clock.
    public static let system = WallClock {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return (Int64(ts.tv_sec), Int64(ts.tv_nsec / 1000))
    }

    /// A clock stopped at one instant (tests).
    public static func fixed(seconds: Int64, microseconds: Int64) -> WallClock {
        WallClock { (seconds, microseconds) }
    }
}
