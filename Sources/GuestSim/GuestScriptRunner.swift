import SimulatedMachine

/// Runs the steps of a ``GuestPersona/script(_:)`` guest for one PCIe port or one SHPC slot, once, from its
/// first notification on, or for the guest's ACPI side, once, from when the VM first runs. Steps of the
/// other side (``GuestScriptStep/side``) are skipped.
final class GuestScriptRunner {
    /// Where the script acts.
    enum Target {
        case port(String)
        case shpcSlot(bridge: String, slot: Int)
        /// The guest's ACPI side: I/O ports and configuration space.
        case acpi
    }

    private enum Phase: Equatable {
        case armed
        case running(Int)
        case done
    }

    private let machine: Machine
    private let target: Target
    private let steps: [GuestScriptStep]
    private let poll: Int64
    private let timers: GuestTimers
    private var phase = Phase.armed
    /// The `wait-for: sci` step waiting for the SCI to rise (ACPI side): it is woken by
    /// ``sciRaised()``, as an interrupt wakes a guest, instead of being polled.
    private var waitingForSCI: Int?

    init(machine: Machine, target: Target, steps: [GuestScriptStep], poll: Int64, timers: GuestTimers) {
        self.machine = machine
        self.target = target
        self.steps = steps
        self.poll = max(1, poll)
        self.timers = timers
    }

    /// `other` at the same step, acting on `machine` with `timers` (its copied driver's).
    init(copying other: GuestScriptRunner, machine: Machine, timers: GuestTimers) {
        self.machine = machine
        target = other.target
        steps = other.steps
        poll = other.poll
        self.timers = timers
        phase = other.phase
        waitingForSCI = other.waitingForSCI
    }

    /// `script-waiting` until started, `script-step-N` (1-based) while step N runs or waits, `script-done`.
    var stateName: String {
        switch phase {
        case .armed: "script-waiting"
        case .running(let index): "script-step-\(index + 1)"
        case .done: "script-done"
        }
    }

    /// A notification arrived (ACPI side: the VM runs): the first one starts the script.
    func notify() {
        guard phase == .armed else { return }
        run(from: 0)
    }

    private func run(from start: Int) {
        var index = start
        while index < steps.count {
            phase = .running(index)
            switch steps[index] {
            case .wait(let nanoseconds):
                let next = index + 1
                timers.after(nanoseconds) { [weak self] in self?.run(from: next) }
                return
            case .waitForSCI where isACPI:
                guard machine.acpi.sciLevel else {
                    waitingForSCI = index
                    return
                }
            case .waitFor, .waitForSCI, .waitForIO:
                guard holds(steps[index]) else {
                    let again = index
                    timers.after(poll) { [weak self] in self?.run(from: again) }
                    return
                }
            case .writeSlotControl(let value):
                if case .port(let port) = target { try? machine.writeSlotControl(port: port, value: value) }
            case .writeSlotStatus(let value):
                if case .port(let port) = target { try? machine.writeSlotStatus(port: port, value: value) }
            case .shpcCommand(let code):
                if case .shpcSlot(let bridge, let slot) = target {
                    try? machine.shpcCommand(bridge: bridge, code: code, target: UInt8(slot))
                }
            case .acknowledgeEvents:
                acknowledgeEvents()
            case .ioWrite(let port, let size, let value):
                if case .acpi = target { machine.ioWrite(port: port, size: size, value: value) }
            case .ioRead(let port, let size):
                if case .acpi = target { _ = machine.ioRead(port: port, size: size) }
            case .configWrite(let bus, let slot, let function, let offset, let size, let value):
                if case .acpi = target {
                    machine.configWrite(
                        bus: bus,
                        slot: slot,
                        function: function,
                        offset: offset,
                        size: size,
                        value: value
                    )
                }
            }
            index += 1
        }
        phase = .done
    }

    /// The SCI went high: a `wait-for: sci` step goes on at this instant (from a timer, not inside
    /// the machine operation that raised it).
    func sciRaised() {
        guard let index = waitingForSCI else { return }
        waitingForSCI = nil
        timers.after(0) { [weak self] in self?.run(from: index) }
    }

    private var isACPI: Bool {
        if case .acpi = target { return true }
        return false
    }

    /// Whether a wait step's condition holds now; a wait of the other side holds at once (it is skipped).
    private func holds(_ step: GuestScriptStep) -> Bool {
        switch (step, target) {
        case (.waitForIO(let port, let size, let mask, let value), .acpi):
            return machine.ioRead(port: port, size: size) & mask == value
        case (.waitFor(let condition), _): return holds(condition)
        default: return true
        }
    }

    private func holds(_ condition: GuestCondition) -> Bool {
        switch target {
        case .acpi:
            return true
        case .port(let port):
            guard let slot = try? machine.slotRegisters(port: port) else { return false }
            return condition.holds(in: slot)
        case .shpcSlot(let bridge, let slot):
            guard let shpc = try? machine.shpcRegisters(bridge: bridge) else { return false }
            return condition.holds(in: shpc, slot: slot)
        }
    }

    private func acknowledgeEvents() {
        switch target {
        case .port(let port):
            guard let slot = try? machine.slotRegisters(port: port) else { return }
            let events = slot.slotStatus & PCIeSlot.SlotStatus.supportedEvents
            if events != 0 { try? machine.writeSlotStatus(port: port, value: events) }
        case .shpcSlot(let bridge, let slot):
            let offset = SHPCRegisterMap.slotRegister(slot)
            guard let value = try? machine.shpcRead(bridge: bridge, offset: offset, size: 4), value & 0x00FF_0000 != 0
            else { return }
            try? machine.shpcWrite(bridge: bridge, offset: offset, size: 4, value: value)
        case .acpi:
            return
        }
    }
}
