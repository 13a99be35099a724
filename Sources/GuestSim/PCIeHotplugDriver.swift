import QMPWire
import SimulatedMachine

/// Linux's pciehp for one PCIe root or downstream port (`drivers/pci/hotplug/pciehp_{core,hpc,ctrl}.c`),
/// acting only through the port's Slot Control and Slot Status registers, plus the non-driver personas.
///
/// Like Linux: every Slot Control write is a read-modify-write of the fields it changes, followed by waiting
/// for Command Completed (QEMU sets it at once: read Slot Status, clear CC by writing 1); the interrupt
/// handler reads Slot Status, acknowledges every event it finds (write-1-to-clear) and handles the attention
/// button before a presence change; the button starts a 5 s window in which a second press cancels; a
/// presence change brings the slot up (power on, wait for the link, power indicator on) or down.
///
/// Simplifications: the interrupt handler and the driver thread are one; an attention-button press that
/// arrives while the slot is being powered on or off is ignored (shpchp's rule; pciehp would act on it
/// afterwards), presence changes are kept for afterwards; "already enabled" is not special-cased (a powered
/// slot is configured and its indicators set again).
///
/// Timer and completion closures capture the driver `unowned`: they run only from its own ``GuestTimers``
/// (or synchronously), which it alone owns (with its script runner) and which cancels every timer when it
/// goes, so none outlives the driver; a weak capture would send all its reference counting down the slow path.
final class PCIeHotplugDriver: ControllerDriver {
    let device: Device
    private unowned let os: GuestOS
    private let timers: GuestTimers
    private var persona: GuestPersona?
    private var mode = GuestDriverMode.new
    private var state = HotplugSlotState.off
    /// Events for the driver thread: acknowledged Slot Status events and requests (pciehp `pending_events`).
    private var pending: UInt16 = 0
    /// A power-on or power-off sequence is running (the driver thread is busy).
    private var busy = false
    private var buttonTimer: Int?
    private var interruptTimer: Int?
    /// The boot scan mistook a present, unpowered card for a configured one: remove it even though its slot
    /// reads as powered off.
    private var forceRemoval = false
    private var script: GuestScriptRunner?
    private var detached = false

    /// pciehp's `DISABLE_SLOT` request, kept with the Slot Status events (above every status bit).
    private static let disableRequest: UInt16 = 0x8000
    /// The Slot Status event bits the interrupt handler looks at (ABP, PFD, PDC, CC, DLLSC).
    private static let handledEvents: UInt16 =
        PCIeSlot.SlotStatus.attentionButtonPressed | PCIeSlot.SlotStatus.powerFaultDetected
        | PCIeSlot.SlotStatus.presenceDetectChanged | PCIeSlot.SlotStatus.commandCompleted
        | PCIeSlot.SlotStatus.dataLinkLayerStateChanged
    /// The events that are hotplug notifications (not command completions): ABP, PFD, PDC, DLLSC.
    private static let hotplugEvents: UInt16 = handledEvents & ~PCIeSlot.SlotStatus.commandCompleted
    /// What pcie_init writes to Slot Status to clear "all remaining events". QEMU's restore quirk keeps them:
    /// the value names PFD and MRLSC, which are never set.
    private static let allEvents: UInt16 = handledEvents | PCIeSlot.SlotStatus.mrlSensorChanged
    /// The interrupt enables the driver sets: HPIE, CCIE, ABPE, PDCE.
    private static let notificationEnables: UInt16 =
        PCIeSlot.SlotControl.hotPlugInterruptEnable | PCIeSlot.SlotControl.commandCompletedInterruptEnable
        | PCIeSlot.SlotControl.attentionButtonPressedEnable | PCIeSlot.SlotControl.presenceDetectChangedEnable
    /// The enable bits pcie_enable_notification writes (the others cleared).
    private static let notificationMask: UInt16 =
        notificationEnables | PCIeSlot.SlotControl.powerFaultDetectedEnable
        | PCIeSlot.SlotControl.dataLinkLayerStateChangedEnable

    init(device: Device, os: GuestOS) {
        self.device = device
        self.os = os
        self.timers = GuestTimers(machine: os.machine)
    }

    /// `other` in the same state, driving `device` (its controller's copy) for `os`.
    private init(copying other: PCIeHotplugDriver, device: Device, os: GuestOS) {
        self.device = device
        self.os = os
        timers = GuestTimers(copying: other.timers, machine: os.machine)
        persona = other.persona
        mode = other.mode
        state = other.state
        pending = other.pending
        busy = other.busy
        buttonTimer = other.buttonTimer
        interruptTimer = other.interruptTimer
        forceRemoval = other.forceRemoval
        script = other.script.map { GuestScriptRunner(copying: $0, machine: os.machine, timers: timers) }
        detached = other.detached
    }

    func copy(device: Device, os: GuestOS) -> any ControllerDriver {
        PCIeHotplugDriver(copying: self, device: device, os: os)
    }

    private var name: String { device.name }
    private var machine: Machine { os.machine }
    private var latencies: GuestLatencies { os.latencies(for: persona ?? .linux) }

    // MARK: ControllerDriver

    func attach() { adopt(rearmScript: false) }

    func personasChanged(rearmScripts: Bool) { adopt(rearmScript: rearmScripts) }

    func interruptRaised() {
        guard mode == .driver || mode == .script, interruptTimer == nil else { return }
        interruptTimer = timers.after(latencies.interrupt) { [unowned self] in
            self.interruptTimer = nil
            self.serviceInterrupt()
        }
    }

    func reset() {
        abandon()
        state = .off
        start()
    }

    func detach() {
        abandon()
        detached = true
        mode = .idle
    }

    func stateName(slot: Int?) -> String {
        if let name = mode.name(persona: persona) { return name }
        if mode == .script { return script?.stateName ?? "script-waiting" }
        return state.name
    }

    // MARK: Personas

    private func adopt(rearmScript: Bool) {
        guard !detached else { return }
        let new = os.persona(of: device, slot: nil)
        if mode != .new, persona == new, !(rearmScript && new.isScript) { return }
        abandon()
        persona = new
        start()
    }

    /// Drops whatever was under way: timers, pending events, a running script. Registers stay as they are.
    private func abandon() {
        timers.cancelAll()
        buttonTimer = nil
        interruptTimer = nil
        pending = 0
        busy = false
        forceRemoval = false
        script = nil
    }

    private func start() {
        guard let persona else { return }
        switch persona {
        case .manual, .neverAck:
            mode = .idle
        case .script(let steps):
            mode = .script
            script = GuestScriptRunner(
                machine: machine,
                target: .port(name),
                steps: steps,
                poll: latencies.scriptPoll,
                timers: timers
            )
            timers.after(0) { [unowned self] in self.armScript() }
        case .booting(let until, let scan) where until > machine.clock.now:
            mode = .booting
            timers.after(until - machine.clock.now) { [unowned self] in self.probe(bootScan: scan) }
        default:
            mode = .probing
            timers.after(0) { [unowned self] in self.probe(bootScan: false) }
        }
    }

    // MARK: Registers

    /// The port the machine knows by the driver's name: the driver's own device while it is in the
    /// machine (no look-up by name on every register access), else whatever the name resolves to now.
    private func port() -> Device? {
        if device.parentBus != nil { return device }
        return try? machine.pciePort(name)
    }

    private func registers() -> PCIeSlot? { port()?.pcieSlot }

    private func writeSlotStatus(_ value: UInt16) {
        guard let port = port() else { return }
        machine.writeSlotStatus(port, value: value)
    }

    /// `pcie_write_cmd`: changes the `mask` fields of Slot Control to `value`, then waits for the command.
    private func writeCommand(_ value: UInt16, mask: UInt16) {
        guard let port = port(), let slot = port.pcieSlot else { return }
        let new = (slot.slotControl & ~mask) | (value & mask)
        machine.writeSlotControl(port, value: new)
        waitForCommandCompleted()
    }

    /// `pcie_poll_cmd`: Command Completed is set at once by QEMU; clear it (write 1).
    private func waitForCommandCompleted() {
        guard let slot = registers(), slot.slotStatus & PCIeSlot.SlotStatus.commandCompleted != 0 else { return }
        writeSlotStatus(PCIeSlot.SlotStatus.commandCompleted)
    }

    private func setIndicators(power: UInt16?, attention: UInt16?) {
        var value: UInt16 = 0
        var mask: UInt16 = 0
        if let power {
            value |= power
            mask |= PCIeSlot.SlotControl.powerIndicatorMask
        }
        if let attention {
            value |= attention
            mask |= PCIeSlot.SlotControl.attentionIndicatorMask
        }
        if mask != 0 { writeCommand(value, mask: mask) }
    }

    private func isOccupied(_ slot: PCIeSlot) -> Bool {
        slot.isPresent || slot.linkStatus & PCIeSlot.LinkStatus.dataLinkLayerLinkActive != 0
    }

    // MARK: Probe (pciehp_probe)

    /// `pcie_init`, `pcie_init_notification`, `pciehp_check_presence`.
    /// - Parameter bootScan: the booting persona's boot-scan race: a present but unpowered card counts as
    ///   configured, and its (latched or synthesized) button press as a removal request.
    private func probe(bootScan: Bool) {
        mode = .driver
        guard let slot = registers() else { return }
        let occupied = isOccupied(slot)
        // The boot scan enumerated what sits on a powered slot (pcie_init: ON if the bus has devices).
        state = occupied && (slot.powerOn || bootScan) ? .on : .off
        if bootScan, occupied, !slot.powerOn {
            forceRemoval = true
            pending |= PCIeSlot.SlotStatus.attentionButtonPressed
        }
        // "Clear all remaining event bits": QEMU restores them (the value names bits that were not set).
        writeSlotStatus(Self.allEvents)
        // An empty slot with power on is powered off, notifications disabled meanwhile.
        if slot.hasPowerController, !occupied, slot.powerOn {
            writeCommand(0, mask: Self.notificationMask)
            writeCommand(PCIeSlot.SlotControl.powerControllerOff, mask: PCIeSlot.SlotControl.powerControllerOff)
        }
        // A sequence abandoned by a persona switch left the power indicator blinking: settle it.
        if registers()?.isPowerIndicatorBlinking ?? false {
            let power = state == .on ? PCIeSlot.SlotControl.powerIndicatorOn : PCIeSlot.SlotControl.powerIndicatorOff
            setIndicators(power: power, attention: PCIeSlot.SlotControl.attentionIndicatorOff)
        }
        writeCommand(Self.notificationEnables, mask: Self.notificationMask)
        if let now = registers() {
            let occupiedNow = isOccupied(now)
            if (occupiedNow && state == .off) || (!occupiedNow && state == .on) {
                pending |= PCIeSlot.SlotStatus.presenceDetectChanged
            }
        }
        serviceInterrupt()
    }

    /// A script persona: enable notifications so that the first one can arrive; start at once if events
    /// are already latched.
    private func armScript() {
        writeCommand(Self.notificationEnables, mask: Self.notificationMask)
        if let slot = registers(), slot.slotStatus & Self.hotplugEvents != 0 { script?.notify() }
    }

    // MARK: Interrupt (pciehp_isr + pciehp_ist)

    private func serviceInterrupt() {
        switch mode {
        case .script:
            // A hotplug event, not the completion of a command the guest wrote, starts the script.
            if let slot = registers(), slot.slotStatus & Self.hotplugEvents != 0 { script?.notify() }
        case .driver:
            guard let slot = registers() else { return }
            let events = slot.slotStatus & Self.handledEvents
            if events != 0 { writeSlotStatus(events) }
            var work = events & ~PCIeSlot.SlotStatus.commandCompleted
            if busy { work &= ~PCIeSlot.SlotStatus.attentionButtonPressed }  // "Button ignore"
            pending |= work
            processPending()
        default:
            return
        }
    }

    private func processPending() {
        guard mode == .driver, !busy, pending != 0 else { return }
        let events = pending
        pending = 0
        if events & PCIeSlot.SlotStatus.attentionButtonPressed != 0 { handleButtonPress() }
        if events & Self.disableRequest != 0 {
            handleDisableRequest()
        } else if events & (PCIeSlot.SlotStatus.presenceDetectChanged | PCIeSlot.SlotStatus.dataLinkLayerStateChanged)
            != 0
        {
            handlePresenceOrLinkChange()
        }
    }

    private func endJob() {
        busy = false
        os.discoverControllers()
        processPending()
    }

    // MARK: Attention button (pciehp_handle_button_press)

    private func handleButtonPress() {
        switch state {
        case .off, .on:
            if state == .on, persona == .cancelOnSecondPress {
                state = .confirmingOff
                setIndicators(power: nil, attention: PCIeSlot.SlotControl.attentionIndicatorBlinking)
                armButtonWindow(latencies.secondPressWindow)
            } else {
                state = state == .on ? .blinkingOff : .blinkingOn
                setIndicators(
                    power: PCIeSlot.SlotControl.powerIndicatorBlinking,
                    attention: PCIeSlot.SlotControl.attentionIndicatorOff
                )
                armButtonWindow(latencies.buttonWindow)
            }
        case .blinkingOff, .blinkingOn, .confirmingOff:
            // A second press within the window: "canceling request to power on/off".
            timers.cancel(buttonTimer)
            buttonTimer = nil
            forceRemoval = false
            if state == .blinkingOn {
                state = .off
                setIndicators(
                    power: PCIeSlot.SlotControl.powerIndicatorOff,
                    attention: PCIeSlot.SlotControl.attentionIndicatorOff
                )
            } else {
                state = .on
                setIndicators(
                    power: PCIeSlot.SlotControl.powerIndicatorOn,
                    attention: PCIeSlot.SlotControl.attentionIndicatorOff
                )
            }
        case .poweringOn, .poweringOff:
            break  // "Ignoring invalid state"
        }
    }

    private func armButtonWindow(_ nanoseconds: Int64) {
        buttonTimer = timers.after(nanoseconds) { [unowned self] in self.buttonWindowExpired() }
    }

    /// `pciehp_queue_pushbutton_work`.
    private func buttonWindowExpired() {
        buttonTimer = nil
        switch state {
        case .blinkingOff, .confirmingOff: pending |= Self.disableRequest
        case .blinkingOn: pending |= PCIeSlot.SlotStatus.presenceDetectChanged
        default: return
        }
        processPending()
    }

    // MARK: Power off and on

    /// `pciehp_handle_disable_request`.
    private func handleDisableRequest() {
        timers.cancel(buttonTimer)
        buttonTimer = nil
        if state == .confirmingOff {
            // From here on as Linux: the power indicator blinks while the slot powers off.
            setIndicators(
                power: PCIeSlot.SlotControl.powerIndicatorBlinking,
                attention: PCIeSlot.SlotControl.attentionIndicatorOff
            )
        }
        state = .poweringOff
        busy = true
        disableSlot { [unowned self] in
            self.state = .off
            self.endJob()
        }
    }

    /// `pciehp_handle_presence_or_link_change`: an on slot is turned off, then an occupied off slot on.
    private func handlePresenceOrLinkChange() {
        busy = true
        let finish = { [unowned self] () -> Void in self.endJob() }
        switch state {
        case .on, .blinkingOff, .confirmingOff:
            timers.cancel(buttonTimer)
            buttonTimer = nil
            state = .poweringOff
            disableSlot { [unowned self] in
                self.state = .off
                self.turnOnIfOccupied(then: finish)
            }
        default:
            turnOnIfOccupied(then: finish)
        }
    }

    private func turnOnIfOccupied(then finish: @escaping () -> Void) {
        guard let slot = registers() else { return finish() }
        guard isOccupied(slot) else {
            if state == .blinkingOn {
                timers.cancel(buttonTimer)
                buttonTimer = nil
                state = .off
                setIndicators(power: PCIeSlot.SlotControl.powerIndicatorOff, attention: nil)
            }
            return finish()
        }
        guard state == .off || state == .blinkingOn else { return finish() }
        timers.cancel(buttonTimer)
        buttonTimer = nil
        state = .poweringOn
        enableSlot { [unowned self] enabled in
            self.state = enabled ? .on : .off
            finish()
        }
    }

    /// `pciehp_enable_slot` / `board_added`: power on, wait for the link, configure, power indicator on.
    private func enableSlot(completion: @escaping (Bool) -> Void) {
        guard let slot = registers(), slot.isPresent else {
            setIndicators(power: PCIeSlot.SlotControl.powerIndicatorOff, attention: nil)  // "No adapter"
            return completion(false)
        }
        if slot.hasPowerController, !slot.powerOn {
            writeCommand(0, mask: PCIeSlot.SlotControl.powerControllerOff)  // power on
        }
        setIndicators(power: PCIeSlot.SlotControl.powerIndicatorBlinking, attention: nil)
        timers.after(latencies.linkUp) { [unowned self] in
            guard let slot = self.registers(), slot.isPresent,
                slot.linkStatus & PCIeSlot.LinkStatus.dataLinkLayerLinkActive != 0
            else {
                // "No link": set_slot_off.
                self.setSlotOff { completion(false) }
                return
            }
            self.os.discoverControllers()  // configure: the guest enumerates what sits behind the port
            self.setIndicators(
                power: PCIeSlot.SlotControl.powerIndicatorOn,
                attention: PCIeSlot.SlotControl.attentionIndicatorOff
            )
            completion(true)
        }
    }

    /// `set_slot_off`: power off, wait, power indicator off and attention indicator on.
    private func setSlotOff(completion: @escaping () -> Void) {
        let finish = { [unowned self] () -> Void in
            self.setIndicators(
                power: PCIeSlot.SlotControl.powerIndicatorOff,
                attention: PCIeSlot.SlotControl.attentionIndicatorOn
            )
            completion()
        }
        guard registers()?.hasPowerController ?? false else { return finish() }
        writeCommand(PCIeSlot.SlotControl.powerControllerOff, mask: PCIeSlot.SlotControl.powerControllerOff)
        timers.after(latencies.powerOffSettle) { finish() }
    }

    /// `pciehp_disable_slot` / `remove_board`: power off, wait, power indicator off (QEMU then unplugs the
    /// slot's devices: `DEVICE_DELETED`).
    private func disableSlot(completion: @escaping () -> Void) {
        let force = forceRemoval
        forceRemoval = false
        guard let slot = registers() else { return completion() }
        guard slot.hasPowerController else {
            setIndicators(power: PCIeSlot.SlotControl.powerIndicatorOff, attention: nil)
            return completion()
        }
        if !slot.powerOn, !force { return completion() }  // "Already disabled"
        writeCommand(PCIeSlot.SlotControl.powerControllerOff, mask: PCIeSlot.SlotControl.powerControllerOff)
        timers.after(latencies.powerOffSettle) { [unowned self] in
            self.setIndicators(power: PCIeSlot.SlotControl.powerIndicatorOff, attention: nil)
            completion()
        }
    }
}
