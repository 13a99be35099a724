extension Machine {
    /// Arms a timer `nanoseconds` of virtual time from now.
    @discardableResult
    public func schedule(after nanoseconds: Int64, _ action: @escaping (Machine) -> Void) -> MachineTimer {
        timers.schedule(at: clock.now + max(0, nanoseconds), action)
    }

    /// Cancels an armed timer (no effect if it already ran).
    public func cancel(_ timer: MachineTimer) { timers.cancel(timer) }

    /// The virtual time of the earliest armed timer.
    public var nextTimerDeadline: Int64? { timers.nextDeadline }

    /// Number of armed timers.
    public var armedTimerCount: Int { timers.count }

    /// Runs every timer due now, in order (timers they arm for now run too).
    public func runDueTimers() {
        var guardCount = 0
        while let entry = timers.popDue(now: clock.now) {
            entry.action(self)
            guardCount += 1
            if guardCount > 100_000 { break }  // a timer that re-arms itself at the same instant forever
        }
    }

    /// Advances a manual host clock by `nanoseconds`, running every timer that falls due on the way
    /// at its own instant, in order. While the VM is paused virtual time stands still: nothing runs.
    public func advance(host: ManualHostClock, by nanoseconds: Int64) {
        let target = host.nanoseconds + max(0, nanoseconds)
        while runState.isRunning, let deadline = timers.nextDeadline {
            let virtualTarget = clock.virtualTime(atHost: target)
            guard deadline <= virtualTarget else { break }
            host.nanoseconds = max(host.nanoseconds, host.nanoseconds + (deadline - clock.now))
            runDueTimers()
        }
        host.nanoseconds = target
        runDueTimers()
    }

    func controllerInterrupted(_ controller: Device) {
        observer?.hotplugInterrupt(controller)
    }

    func reportGuestWrite(_ write: GuestRegisterWrite) {
        observer?.guestRegisterWrite(write)
    }
}

/// A host time source that moves only when told (`--clock manual`).
public final class ManualHostClock: @unchecked Sendable {
    public var nanoseconds: Int64 = 0
    public init() {}
}
