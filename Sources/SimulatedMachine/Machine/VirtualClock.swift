/// The machine's virtual clock (QEMU's `QEMU_CLOCK_VIRTUAL`): it advances with its host time source
/// while the VM runs and stands still while it is paused, so timers such as the 5-second
/// pending-unplug expiry freeze with the VM, as in QEMU.
public final class VirtualClock {
    /// Host time in nanoseconds: a monotonic clock for real time, a counter for a manual clock.
    private let host: () -> Int64
    private var accumulated: Int64 = 0
    private var runningSince: Int64?

    /// - Parameter host: the time source, in nanoseconds.
    public init(host: @escaping () -> Int64) {
        self.host = host
    }

    /// A clock showing `other`'s time now and running as it does, on another time source (its time
    /// then moves with `host` alone).
    init(copying other: VirtualClock, host: @escaping () -> Int64) {
        self.host = host
        accumulated = other.now
        runningSince = other.runningSince == nil ? nil : host()
    }

    /// Virtual nanoseconds since the machine started.
    public var now: Int64 {
        accumulated + (runningSince.map { host() - $0 } ?? 0)
    }

    /// The virtual time the clock will show at host time `host` (as now if paused).
    public func virtualTime(atHost host: Int64) -> Int64 {
        accumulated + (runningSince.map { host - $0 } ?? 0)
    }

    /// Starts or stops virtual time (the VM runs or is paused).
    public func setRunning(_ running: Bool) {
        if running, runningSince == nil {
            runningSince = host()
        } else if !running, let since = runningSince {
            accumulated += host() - since
            runningSince = nil
        }
    }
}
