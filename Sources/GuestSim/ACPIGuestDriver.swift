import SimulatedMachine

/// The simulated guest's ACPI side: the firmware's set-up at boot (q35's PMBASE and ACPI_EN), the
/// kernel's ACPI start (the CPU interface switched to modern mode by `\_SB.PCI0.PRES._INI`, GPE status
/// cleared, the GPEs with `_Exx` methods enabled) and the GPE handler that runs on every SCI: read
/// status and enable, then per pending hot-plug bit disable it, clear it, run its `_Exx` method and
/// enable it again (`acpi-hotplug.md` §3, §9). The methods' bodies — PCI's PCNT with acpiphp, CPU's
/// CSCN with the processor driver, memory's MSCN with the memory driver — are this type's extensions.
///
/// It acts only through the machine's I/O ports and configuration space, on the virtual clock, like
/// the native drivers. Requests made before it has booted lose their GPE edge, as on a real guest.
/// Its persona is the one named `acpi` (`guest: {controllers: {acpi: ...}}`), else the machine's:
/// `never-ack` boots it (firmware, the CPU interface's switch, GPEs enabled) but never handles a GPE: no
/// scan, no eject, no `_OST`, as a hung guest; `manual` never boots it; `script` given for `acpi` runs
/// its steps (I/O-port and configuration-space writes, waits for the SCI or a port value) once, from when
/// the VM first runs, instead of the boot: no firmware, no CPU switch, no GPE handler, only what the
/// steps write (a machine-wide `script` is for the native controllers and leaves this side as `manual`);
/// `booting` boots it at the boot time (requests made before lose their GPE edge); `slow` scales its
/// delays; `cancel-on-second-press` acts as `linux`.
final class ACPIGuestDriver {
    unowned let os: GuestOS
    let machine: Machine
    let timers: GuestTimers
    /// Whether the kernel's ACPI is up (GPEs enabled).
    private(set) var booted = false
    /// The GPE handler is queued (one SCI, one run).
    private var handlerQueued = false
    /// PCI Eject Requests not handled yet (bsel, slot), oldest first: Linux's ordered hot-plug queue.
    var pendingEjects: [(bsel: Int, slot: Int)] = []
    /// The processor driver: CPU Notifies from CSCN.
    private(set) lazy var processor = ACPIProcessorDriver(acpi: self)
    /// DIMM slots whose removal the memory driver is carrying out (a repeated Eject Request joins it).
    var memoryEjections: Set<Int> = []
    /// The script of a `script` persona given for `acpi`, from its start to its end.
    private var script: GuestScriptRunner?
    /// A power-off is under way (the power button was handled; the soft-off write is due).
    private var shutdownQueued = false

    init(os: GuestOS) {
        self.os = os
        machine = os.machine
        timers = GuestTimers(machine: os.machine)
    }

    /// `other` and its processor driver in the same state, for `os`.
    init(copying other: ACPIGuestDriver, os: GuestOS) {
        self.os = os
        machine = os.machine
        timers = GuestTimers(copying: other.timers, machine: os.machine)
        booted = other.booted
        handlerQueued = other.handlerQueued
        pendingEjects = other.pendingEjects
        memoryEjections = other.memoryEjections
        script = other.script.map { GuestScriptRunner(copying: $0, machine: os.machine, timers: timers) }
        shutdownQueued = other.shutdownQueued
        processor = ACPIProcessorDriver(copying: other.processor, acpi: self)
    }

    /// The persona in effect for the ACPI side.
    var persona: GuestPersona { os.configuration.persona(names: [Self.personaName], slot: nil) }
    /// The name a configuration or `guest-persona` uses for the ACPI side.
    static let personaName = "acpi"

    /// The GPE bits this guest enables: those whose `_Exx` method the DSDT has.
    var handledGPEBits: UInt8 {
        var bits = GPE0Block.cpuHotplug
        if machine.pciHotplug.hasRegisterBlock { bits |= GPE0Block.pciHotplug }
        if machine.board.memory.slots > 0 { bits |= GPE0Block.memoryHotplug }
        return bits
    }

    /// The steps of a `script` persona assigned to `acpi` itself (not a machine-wide one), or nil.
    private var scriptSteps: [GuestScriptStep]? {
        let own = os.configuration.assignments.last { $0.controller == Self.personaName && $0.slot == nil }
        guard case .script(let steps) = own?.persona else { return nil }
        return steps
    }

    /// Starts the guest's ACPI: boots as its persona says (after its boot time, or at once when the VM
    /// runs), or starts its script when the VM runs.
    func attach() {
        switch persona {
        case .manual: return
        case .script:
            guard let steps = scriptSteps else { return }
            let runner = GuestScriptRunner(
                machine: machine,
                target: .acpi,
                steps: steps,
                poll: os.latencies(for: persona).scriptPoll,
                timers: timers
            )
            script = runner
            timers.after(0) { runner.notify() }
        case .booting(let until, _):
            timers.after(max(0, until - machine.clock.now)) { [unowned self] in boot() }
        default:
            timers.after(0) { [unowned self] in boot() }
        }
    }

    /// The guest rebooted (after `system_reset`): everything abandoned, boot again.
    func reset() {
        timers.cancelAll()
        booted = false
        handlerQueued = false
        shutdownQueued = false
        pendingEjects.removeAll()
        processor.reset()
        memoryEjections.removeAll()
        script = nil
        attach()
    }

    /// Personas changed: start over with the new one.
    func personasChanged() { reset() }

    /// The state name for views: `not-booted`, `booted`, `manual`, `never-ack`; with a script
    /// `script-waiting`, `script-step-N`, `script-done` (a machine-wide script: `manual`).
    var stateName: String {
        switch persona {
        case .manual: return "manual"
        case .neverAck: return "never-ack"
        case .script: return script?.stateName ?? "manual"
        default: return booted ? "booted" : "not-booted"
        }
    }

    // MARK: Boot

    /// Firmware, then the kernel's ACPI start.
    private func boot() {
        if machine.machineType == .q35 {
            // SeaBIOS: PMBASE 0x600 (GPE0 at 0x620), then ACPI_EN.
            configWrite(
                offset: ACPIPowerManagement.pmBaseOffset,
                size: 4,
                value: UInt32(ACPIPowerManagement.firmwarePMBase)
            )
            configWrite(
                offset: ACPIPowerManagement.acpiControlOffset,
                size: 1,
                value: UInt32(ACPIPowerManagement.acpiEnable)
            )
        } else {
            // SeaBIOS on PIIX4: PMBA 0x600 (with its I/O bit), then PMREGMISC's enable.
            configWrite(offset: 0x40, size: 4, value: UInt32(ACPIPowerManagement.firmwarePMBase) | 1)
            configWrite(offset: 0x80, size: 1, value: 1)
        }
        bootCPUInterface()
        guard let gpe = gpeBase else { return }
        // ACPICA clears every GPE status bit, then enables the GPEs that have methods.
        machine.ioWrite(port: gpe, size: 1, value: 0xFF)
        let enable = gpe + UInt16(machine.acpi.gpe.length / 2)
        machine.ioWrite(port: enable, size: 1, value: UInt32(handledGPEBits))
        if let pm = machine.acpi.pmBase {
            // ACPICA clears every fixed-event status bit, then Linux's button driver enables the
            // power button's fixed event.
            machine.ioWrite(port: pm, size: 2, value: UInt32(Self.allFixedStatus))
            let enabled = machine.ioRead(port: pm + 2, size: 2)
            machine.ioWrite(port: pm + 2, size: 2, value: enabled | UInt32(PM1Block.powerButton))
        }
        booted = true
    }

    /// ACPICA's `ACPI_BITMASK_ALL_FIXED_STATUS`: timer, bus master, global lock, power and sleep
    /// button, RTC, wake.
    static let allFixedStatus: UInt16 = 0x8731

    /// A configuration write to the ACPI PM function (q35's LPC bridge 00:1f.0, pc's PIIX4_PM 00:01.3).
    private func configWrite(offset: Int, size: Int, value: UInt32) {
        let (slot, function) = machine.machineType == .q35 ? (31, 0) : (1, 3)
        machine.configWrite(bus: 0, slot: slot, function: function, offset: offset, size: size, value: value)
    }

    /// Where GPE0 is now (nil on q35 before firmware mapped it).
    var gpeBase: UInt16? { machine.acpi.gpeBase }

    // MARK: The SCI

    /// The SCI went high or low: a high level queues the GPE handler (once until it runs).
    func sciLevelChanged(_ level: Bool) {
        if level { script?.sciRaised() }
        guard level, booted, !handlerQueued else { return }
        if case .neverAck = persona { return }
        handlerQueued = true
        timers.after(os.latencies(for: persona).interrupt) { [unowned self] in
            handlerQueued = false
            handleGPE()
        }
    }

    /// ACPICA's fixed-event dispatch, before the GPEs: PM1 status and enable read; a pending power
    /// button is cleared and, after ``GuestLatencies/shutdown``, the guest powers off as Linux does:
    /// PM1 control written with SLP_TYP (S5, QEMU's 0), then again with SLP_EN.
    private func handleFixedEvents() {
        guard let pm = machine.acpi.pmBase else { return }
        let status = UInt16(truncatingIfNeeded: machine.ioRead(port: pm, size: 2))
        let enable = UInt16(truncatingIfNeeded: machine.ioRead(port: pm + 2, size: 2))
        guard status & enable & PM1Block.powerButton != 0 else { return }
        machine.ioWrite(port: pm, size: 2, value: UInt32(PM1Block.powerButton))
        guard !shutdownQueued else { return }
        shutdownQueued = true
        timers.after(os.latencies(for: persona).shutdown) { [unowned self] in
            shutdownQueued = false
            guard let pm = machine.acpi.pmBase else { return }
            let control = machine.ioRead(port: pm + 4, size: 2) & ~UInt32(0x3C00)
            machine.ioWrite(port: pm + 4, size: 2, value: control)
            machine.ioWrite(port: pm + 4, size: 2, value: control | UInt32(PM1Block.sleepEnable))
        }
    }

    /// ACPICA's GPE dispatch: status and enable read, each pending bit disabled, cleared, its method
    /// run, and enabled again.
    private func handleGPE() {
        handleFixedEvents()
        guard let gpe = gpeBase else { return }
        let enablePort = gpe + UInt16(machine.acpi.gpe.length / 2)
        let status = UInt8(truncatingIfNeeded: machine.ioRead(port: gpe, size: 1))
        var enable = UInt8(truncatingIfNeeded: machine.ioRead(port: enablePort, size: 1))
        let pending = status & enable
        for bit in [GPE0Block.pciHotplug, GPE0Block.cpuHotplug, GPE0Block.memoryHotplug] where pending & bit != 0 {
            enable &= ~bit
            machine.ioWrite(port: enablePort, size: 1, value: UInt32(enable))
            machine.ioWrite(port: gpe, size: 1, value: UInt32(bit))
            switch bit {
            case GPE0Block.pciHotplug: pciScan()
            case GPE0Block.cpuHotplug: cpuScan()
            default: memoryScan()
            }
            enable |= bit
            machine.ioWrite(port: enablePort, size: 1, value: UInt32(enable))
        }
    }
}
