/// Timers on the machine's virtual clock (QEMU's `QEMU_CLOCK_VIRTUAL` timers): the pending-unplug
/// expiry and everything the simulated guest waits for. Due timers run in deadline order, ties in
/// the order they were armed.
struct MachineTimers {
    struct Entry {
        var deadline: Int64
        var sequence: UInt64
        var action: (Machine) -> Void
    }

    private var entries: [Entry] = []
    private var nextSequence: UInt64 = 0

    /// Arms a timer; returns its handle.
    mutating func schedule(at deadline: Int64, _ action: @escaping (Machine) -> Void) -> MachineTimer {
        nextSequence += 1
        let entry = Entry(deadline: deadline, sequence: nextSequence, action: action)
        // Keep sorted: (deadline, sequence) ascending. Timer counts are small (a few per slot).
        let index = entries.firstIndex { ($0.deadline, $0.sequence) > (deadline, nextSequence) } ?? entries.endIndex
        entries.insert(entry, at: index)
        return MachineTimer(sequence: nextSequence)
    }

    mutating func cancel(_ timer: MachineTimer) {
        entries.removeAll { $0.sequence == timer.sequence }
    }

    var nextDeadline: Int64? { entries.first?.deadline }

    /// Removes and returns the earliest timer if it is due at `now`.
    mutating func popDue(now: Int64) -> Entry? {
        guard let first = entries.first, first.deadline <= now else { return nil }
        return entries.removeFirst()
    }

    var count: Int { entries.count }
}

/// The handle of an armed timer (to cancel it).
public struct MachineTimer: Sendable, Hashable {
    let sequence: UInt64
}
