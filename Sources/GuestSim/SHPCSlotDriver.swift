import SimulatedMachine

/// One slot of Linux's shpchp (`shpchp_ctrl.c`): the attention button starts a 5 s window (a second press
/// cancels), then the slot is enabled (power-only, enabled with the power LED blinking, ~1 s, configure,
/// power LED on) or disabled (disabled with power LED off and attention LED on, then attention LED off).
/// Presence and MRL events are only logged by shpchp; a press while the slot is being powered on or off is
/// ignored ("Button ignore").
///
/// Slots whose persona does not service events (never-ack, manual, booting before the boot, a script after
/// its first notification) keep their events masked, so that their latched events do not hold the interrupt
/// line all slots of the bridge share.
final class SHPCSlotDriver {
    let slot: Int
    private unowned let bridge: SHPCHotplugDriver
    private let timers: GuestTimers
    private var persona: GuestPersona?
    private var mode = GuestDriverMode.new
    private var state = HotplugSlotState.off
    private var buttonTimer: Int?
    private var forceRemoval = false
    private var script: GuestScriptRunner?
    /// The slot's events are unmasked (this driver unmasked them).
    private var unmasked = false
    private var detached = false

    init(slot: Int, bridge: SHPCHotplugDriver) {
        self.slot = slot
        self.bridge = bridge
        self.timers = GuestTimers(machine: bridge.os.machine)
    }

    /// `other` in the same state, for `bridge` (its bridge driver's copy).
    init(copying other: SHPCSlotDriver, bridge: SHPCHotplugDriver) {
        slot = other.slot
        self.bridge = bridge
        timers = GuestTimers(copying: other.timers, machine: bridge.os.machine)
        persona = other.persona
        mode = other.mode
        state = other.state
        buttonTimer = other.buttonTimer
        forceRemoval = other.forceRemoval
        script = other.script.map { GuestScriptRunner(copying: $0, machine: bridge.os.machine, timers: timers) }
        unmasked = other.unmasked
        detached = other.detached
    }

    private var machine: Machine { bridge.machine }
    private var latencies: GuestLatencies { bridge.os.latencies(for: persona ?? .linux) }
    private var slotRegister: Int { SHPCRegisterMap.slotRegister(slot) }

    var stateName: String {
        if let name = mode.name(persona: persona) { return name }
        if mode == .script { return script?.stateName ?? "script-waiting" }
        guard state == .on || state == .off else { return state.name }
        switch bridge.registers()?.slotState(slot) {
        case .enabled: return "on"
        case .powerOnly: return "power-only"
        default: return "off"
        }
    }

    // MARK: Personas

    func adopt(rearmScript: Bool) {
        guard !detached else { return }
        let new = bridge.os.persona(of: bridge.device, slot: slot)
        if mode != .new, persona == new, !(rearmScript && new.isScript) { return }
        abandon()
        persona = new
        start()
    }

    func reset() {
        abandon()
        unmasked = false
        state = .off
        start()
    }

    func detach() {
        abandon()
        detached = true
        mode = .idle
    }

    private func abandon() {
        timers.cancelAll()
        buttonTimer = nil
        forceRemoval = false
        script = nil
    }

    private func start() {
        guard let persona else { return }
        switch persona {
        case .manual, .neverAck:
            mode = .idle
            if unmasked { timers.after(0) { [weak self] in self?.maskEvents() } }
        case .script(let steps):
            mode = .script
            script = GuestScriptRunner(
                machine: machine,
                target: .shpcSlot(bridge: bridge.name, slot: slot),
                steps: steps,
                poll: latencies.scriptPoll,
                timers: timers
            )
            timers.after(0) { [weak self] in self?.armScript() }
        case .booting(let until, let scan) where until > machine.clock.now:
            mode = .booting
            if unmasked { timers.after(0) { [weak self] in self?.maskEvents() } }
            timers.after(until - machine.clock.now) { [weak self] in self?.probe(bootScan: scan) }
        default:
            mode = .probing
            timers.after(0) { [weak self] in self?.probe(bootScan: false) }
        }
    }

    // MARK: Registers

    @discardableResult
    private func command(_ code: UInt8) -> Bool { bridge.command(code, slot: slot) }

    private func maskEvents() {
        bridge.write(SHPCRegisterMap.slotMask(slot), size: 1, value: UInt32(SHPCRegisterMap.fullMask))
        unmasked = false
    }

    private var isPowered: Bool { bridge.registers()?.slotState(slot).map { $0 != .disabled } ?? false }

    // MARK: Probe and interrupts

    /// The slot part of `shpc_init` (its two passes in one write): clear the latched events (write them
    /// back) and unmask the slot's event interrupts (SERR masks stay set); then take the slot as it is.
    /// - Parameter bootScan: the booting persona's boot-scan race: a present, disabled card counts as
    ///   configured and is removed as after a button press.
    private func probe(bootScan: Bool) {
        mode = .driver
        bridge.prepareController()
        let value = bridge.read(slotRegister, size: 4)
        bridge.write(slotRegister, size: 4, value: (value & 0x00FF_FFFF) | UInt32(SHPCRegisterMap.serviceMask) << 24)
        unmasked = true
        bridge.enableControllerInterrupts()
        guard let shpc = bridge.registers() else { return }
        let powered = isPowered
        state = powered ? .on : .off
        if shpc.powerLED(slot) == .blinking {
            // A sequence abandoned by a persona switch left the power LED blinking: settle it.
            command(powered ? SHPCRegisterMap.setPowerOn : SHPCRegisterMap.setPowerOff)
            command(SHPCRegisterMap.setAttentionOff)
        }
        if bootScan, !powered, SHPCRegisterMap.isPresent(shpc, slot: slot) {
            forceRemoval = true
            state = .on
            startRemoval()
        }
    }

    /// A script persona: unmask the slot's events so that the first notification can arrive; start at once
    /// if events are already latched.
    private func armScript() {
        bridge.prepareController()
        bridge.write(SHPCRegisterMap.slotMask(slot), size: 1, value: UInt32(SHPCRegisterMap.serviceMask))
        unmasked = true
        bridge.enableControllerInterrupts()
        if let latch = bridge.registers()?.eventLatch(slot), latch != 0 { scriptNotified() }
    }

    private func scriptNotified() {
        script?.notify()
        maskEvents()  // the script polls the latch; the shared line must not stay asserted
    }

    /// The interrupt locator names this slot.
    func serviceEvents() {
        switch mode {
        case .driver:
            let value = bridge.read(slotRegister, size: 4)
            bridge.write(slotRegister, size: 4, value: value)  // the latch is RW1C: clears what was read
            let latch = UInt8(truncatingIfNeeded: value >> 16)
            if latch & SHPCRegisterMap.buttonEvent != 0 { buttonPressed() }
        case .script:
            scriptNotified()
        default:
            maskEvents()
        }
    }

    // MARK: Attention button (handle_button_press_event)

    private func buttonPressed() {
        switch state {
        case .off, .on:
            if isPowered || forceRemoval {
                startRemoval()
            } else {
                state = .blinkingOn  // "powering on due to button press"
                command(SHPCRegisterMap.setPowerBlink)
                command(SHPCRegisterMap.setAttentionOff)
                armButtonWindow(latencies.buttonWindow)
            }
        case .blinkingOn, .blinkingOff, .confirmingOff:
            // "Button cancel": a second press within the window.
            timers.cancel(buttonTimer)
            buttonTimer = nil
            forceRemoval = false
            if state == .blinkingOff { command(SHPCRegisterMap.setPowerOn) }
            if state == .blinkingOn { command(SHPCRegisterMap.setPowerOff) }
            command(SHPCRegisterMap.setAttentionOff)
            state = isPowered ? .on : .off
        case .poweringOn, .poweringOff:
            break  // "Button ignore"
        }
    }

    private func startRemoval() {
        if persona == .cancelOnSecondPress {
            state = .confirmingOff
            command(SHPCRegisterMap.setAttentionBlink)
            armButtonWindow(latencies.secondPressWindow)
        } else {
            state = .blinkingOff  // "powering off due to button press"
            command(SHPCRegisterMap.setPowerBlink)
            command(SHPCRegisterMap.setAttentionOff)
            armButtonWindow(latencies.buttonWindow)
        }
    }

    private func armButtonWindow(_ nanoseconds: Int64) {
        buttonTimer = timers.after(nanoseconds) { [weak self] in self?.buttonWindowExpired() }
    }

    /// `shpchp_queue_pushbutton_work` and `shpchp_pushbutton_thread`.
    private func buttonWindowExpired() {
        buttonTimer = nil
        switch state {
        case .blinkingOff, .confirmingOff:
            if state == .confirmingOff {
                command(SHPCRegisterMap.setPowerBlink)
                command(SHPCRegisterMap.setAttentionOff)
            }
            state = .poweringOff
            disableSlot()
        case .blinkingOn:
            state = .poweringOn
            enableSlot()
        default:
            return
        }
    }

    // MARK: Enable and disable

    /// `shpchp_enable_slot` / `board_added`.
    private func enableSlot() {
        guard let shpc = bridge.registers(), SHPCRegisterMap.isPresent(shpc, slot: slot), !shpc.isMRLOpen(slot),
            shpc.slotState(slot) == .disabled
        else {
            // "No adapter", "Latch open" or "Already enabled": the power LED goes off.
            command(SHPCRegisterMap.setPowerOff)
            state = isPowered ? .on : .off
            return
        }
        guard command(SHPCRegisterMap.setSlotPower),
            command(SHPCRegisterMap.setSlotEnable | SHPCRegisterMap.setPowerBlink | SHPCRegisterMap.setAttentionOff)
        else {
            return enableFailed()
        }
        timers.after(latencies.shpcEnableSettle) { [weak self] in
            guard let self else { return }
            self.bridge.os.discoverControllers()  // configure the card
            self.command(SHPCRegisterMap.setPowerOn)
            self.state = .on
        }
    }

    /// `board_added`'s error exit: disabled, power LED off, attention LED on.
    private func enableFailed() {
        command(SHPCRegisterMap.setSlotDisable | SHPCRegisterMap.setPowerOff | SHPCRegisterMap.setAttentionOn)
        state = .off
    }

    /// `shpchp_disable_slot` / `remove_board`: disabled with power LED off and attention LED on (QEMU frees the
    /// slot: `DEVICE_DELETED`), then attention LED off.
    private func disableSlot() {
        let force = forceRemoval
        forceRemoval = false
        guard let shpc = bridge.registers(), SHPCRegisterMap.isPresent(shpc, slot: slot), !shpc.isMRLOpen(slot),
            force || shpc.slotState(slot) != .disabled
        else {
            state = isPowered ? .on : .off  // "No adapter", "Latch open" or "Already disabled"
            return
        }
        command(SHPCRegisterMap.setSlotDisable | SHPCRegisterMap.setPowerOff | SHPCRegisterMap.setAttentionOn)
        command(SHPCRegisterMap.setAttentionOff)
        state = .off
        bridge.os.discoverControllers()
    }
}
