import QMPWire
import SimulatedMachine

/// Linux's shpchp for one bridge with a standard hotplug controller (`drivers/pci/hotplug/shpchp_*.c`): the
/// controller-wide part (initialisation of the SERR-INT register, the interrupt handler, command completion)
/// and one ``SHPCSlotDriver`` per slot (1...31), each with its own persona and state.
///
/// Like Linux, the interrupt handler reads the interrupt locator, clears a pending command completion
/// (write-1-to-clear of the SERR-INT command-detected bit) and, for each slot it names, reads the slot
/// register, clears the latched events by writing them back, and hands a button press to the slot.
/// Simplification: the handler does not mask and unmask the global interrupt around its work.
final class SHPCHotplugDriver: ControllerDriver {
    let device: Device
    unowned let os: GuestOS
    private let timers: GuestTimers
    private var slots: [SHPCSlotDriver] = []
    private var controllerProbed = false
    private var interruptTimer: Int?
    private var detached = false

    init(device: Device, os: GuestOS) {
        self.device = device
        self.os = os
        self.timers = GuestTimers(machine: os.machine)
        slots = SHPCController.validSlots.map { SHPCSlotDriver(slot: $0, bridge: self) }
    }

    /// `other` and its slot drivers in the same state, driving `device` (its bridge's copy) for `os`.
    private init(copying other: SHPCHotplugDriver, device: Device, os: GuestOS) {
        self.device = device
        self.os = os
        timers = GuestTimers(copying: other.timers, machine: os.machine)
        controllerProbed = other.controllerProbed
        interruptTimer = other.interruptTimer
        detached = other.detached
        slots = other.slots.map { SHPCSlotDriver(copying: $0, bridge: self) }
    }

    func copy(device: Device, os: GuestOS) -> any ControllerDriver {
        SHPCHotplugDriver(copying: self, device: device, os: os)
    }

    var name: String { device.name }
    var machine: Machine { os.machine }

    // MARK: ControllerDriver

    func attach() {
        for slot in slots { slot.adopt(rearmScript: false) }
    }

    func personasChanged(rearmScripts: Bool) {
        guard !detached else { return }
        for slot in slots { slot.adopt(rearmScript: rearmScripts) }
    }

    func interruptRaised() {
        guard controllerProbed, interruptTimer == nil else { return }
        let latency = os.latencies(for: os.persona(of: device, slot: nil)).interrupt
        interruptTimer = timers.after(latency) { [weak self] in
            self?.interruptTimer = nil
            self?.serviceInterrupt()
        }
    }

    func reset() {
        timers.cancelAll()
        interruptTimer = nil
        controllerProbed = false
        for slot in slots { slot.reset() }
    }

    func detach() {
        detached = true
        timers.cancelAll()
        interruptTimer = nil
        for slot in slots { slot.detach() }
    }

    func stateName(slot: Int?) -> String {
        guard let slot else { return controllerProbed ? "probed" : "not-probed" }
        guard SHPCController.isValidSlot(slot) else { return "unknown" }
        return slots[slot - 1].stateName
    }

    // MARK: Registers

    func read(_ offset: Int, size: Int) -> UInt32 {
        (try? machine.shpcRead(bridge: name, offset: offset, size: size)) ?? 0
    }

    func write(_ offset: Int, size: Int, value: UInt32) {
        try? machine.shpcWrite(bridge: name, offset: offset, size: size, value: value)
    }

    func registers() -> SHPCController? { try? machine.shpcRegisters(bridge: name) }

    /// `shpc_write_cmd` for one slot: write the command, wait for completion (QEMU completes at once; the
    /// command-detected bit is cleared as the interrupt handler does), check the command status.
    /// - Returns: false if the controller reported an error (MRL open, invalid command or mode).
    @discardableResult
    func command(_ code: UInt8, slot: Int) -> Bool {
        do throws(QMPError) {
            try machine.shpcCommand(bridge: name, code: code, target: UInt8(slot))
        } catch {
            return false
        }
        let status = read(SHPCRegisterMap.commandStatus, size: 2)
        clearCommandCompleted()
        return status & SHPCRegisterMap.commandErrors == 0
    }

    private func clearCommandCompleted() {
        let serr = read(SHPCRegisterMap.serrIntEnable, size: 4)
        guard serr & SHPCRegisterMap.commandDetected != 0 else { return }
        write(SHPCRegisterMap.serrIntEnable, size: 4, value: serr & ~SHPCRegisterMap.serrReserved)
    }

    // MARK: Probe (shpc_init)

    /// The controller part of `shpc_init`, once, before the first slot probes: mask every controller
    /// interrupt and clear the detected bits.
    func prepareController() {
        guard !controllerProbed else { return }
        controllerProbed = true
        let serr = read(SHPCRegisterMap.serrIntEnable, size: 4)
        write(
            SHPCRegisterMap.serrIntEnable,
            size: 4,
            value: (serr | SHPCRegisterMap.allControllerMasks) & ~SHPCRegisterMap.serrReserved
        )
    }

    /// The end of `shpc_init`: unmask the global and command-completion interrupts (if still masked).
    func enableControllerInterrupts() {
        let serr = read(SHPCRegisterMap.serrIntEnable, size: 4)
        guard serr & SHPCRegisterMap.interruptMasks != 0 else { return }
        write(
            SHPCRegisterMap.serrIntEnable,
            size: 4,
            value: serr & ~(SHPCRegisterMap.interruptMasks | SHPCRegisterMap.serrReserved)
        )
    }

    // MARK: Interrupt (shpc_isr)

    private func serviceInterrupt() {
        guard !detached else { return }
        let locator = read(SHPCRegisterMap.interruptLocator, size: 4)
        if locator & SHPCRegisterMap.commandPending != 0 { clearCommandCompleted() }
        for slot in slots where locator & (1 << UInt32(slot.slot)) != 0 {
            slot.serviceEvents()
        }
    }
}
