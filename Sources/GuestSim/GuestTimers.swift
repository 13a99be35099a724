import SimulatedMachine

/// The timers one driver (or script) has armed on the machine's virtual clock, so that abandoning the driver
/// (persona switch, controller removed, guest reset) cancels all of them.
///
/// A guest runs only while its vCPUs do: a timer that falls due while the VM is paused (a zero-delay timer
/// run by the server after a command) re-arms itself 1 ns later, which on the frozen virtual clock means
/// "as soon as the VM runs again".
final class GuestTimers {
    private let machine: Machine
    /// The armed timers by handle: a driver has a few at most, so a list searched in order (no
    /// hashing, and no dictionary metadata to instantiate at start-up).
    private var armed: [(id: Int, timer: MachineTimer)] = []
    private var nextID = 0

    init(machine: Machine) {
        self.machine = machine
    }

    /// `other`'s handle counter on `machine` (a copy of `other`'s machine), with nothing armed: a
    /// guest is copied only when no timer is (see ``GuestOS/copy(onto:)``).
    init(copying other: GuestTimers, machine: Machine) {
        precondition(other.armed.isEmpty, "GuestTimers: a timer is armed")
        self.machine = machine
        nextID = other.nextID
    }

    /// Runs `action` after `nanoseconds` of virtual time; returns a handle for ``cancel(_:)``.
    @discardableResult
    func after(_ nanoseconds: Int64, _ action: @escaping () -> Void) -> Int {
        nextID += 1
        let id = nextID
        arm(id, after: nanoseconds, action)
        return id
    }

    /// Cancels one timer (nothing if it already ran).
    func cancel(_ id: Int?) {
        guard let id, let index = armed.firstIndex(where: { $0.id == id }) else { return }
        machine.cancel(armed.remove(at: index).timer)
    }

    /// Cancels every armed timer.
    func cancelAll() {
        for entry in armed { machine.cancel(entry.timer) }
        armed.removeAll()
    }

    /// Whether the timer is still armed.
    func isArmed(_ id: Int?) -> Bool { id.map { id in armed.contains { $0.id == id } } ?? false }

    private func arm(_ id: Int, after nanoseconds: Int64, _ action: @escaping () -> Void) {
        // `unowned`: every machine timer armed here is in `armed`, and `deinit` cancels them all, so
        // none runs after this object is gone (and a weak reference would give it a side table, which
        // sends all its reference counting down the slow path).
        let timer = machine.schedule(after: nanoseconds) { [unowned self] machine in
            guard let index = self.armed.firstIndex(where: { $0.id == id }) else { return }
            self.armed.remove(at: index)
            if machine.runState.isRunning {
                action()
            } else {
                self.arm(id, after: 1, action)
            }
        }
        armed.append((id, timer))
    }

    deinit {
        for entry in armed { machine.cancel(entry.timer) }
    }
}
