/// The SHPC working register set of one `pci-bridge` / `pcie-pci-bridge` (31 slots): QEMU's hw/pci/shpc.c
/// (`SHPCDevice`) at register level.
///
/// The raw register bytes are the only state: slot state, LEDs, MRL, presence, event latches and masks live in
/// them and every per-slot view is decoded from them. The controller does no I/O and knows no devices: the
/// caller says which slots hold a device at function 0 (``reset(populatedSlots:)``, ``coldPlug(slot:)``,
/// ``hotPlug(slot:)``) and acts on the outcomes it returns (frees devices, emits `DEVICE_DELETED` /
/// `X_DEVICE_ON`, reports errors).
///
/// Slots are addressed by PCI slot (device) number 1...31, which is also the SHPC logical and physical slot
/// number; slot index `i` of QEMU is slot `i + 1`. Slot 0 is not hotpluggable on an SHPC bridge.
///
/// Differences between releases (``ResetStyle``), each documented where it applies:
/// - reset leaves the attention LED at the reserved `00` encoding on 7.2 (observed: an empty slot reads
///   `0x0d0f`), and sets it off since 8.0 (`0x0d3f`) — ``reset(populatedSlots:)``;
/// - 7.2 latches the attention button even while the power LED blinks (observed in `c1_shpc_flow`), 8.0 refuses
///   with "guest is busy" — ``unplugRequest(slot:)``;
/// - 7.2 ignores power-only -> enabled and frees a slot only on an enabled/power-only -> disabled command that
///   leaves the power LED off; 8.0 applies every transition and frees on any not-off -> off transition
///   (QEMU source; no transcript exercises the difference) — ``executeCommand(code:target:)``.
public struct SHPCController: Sendable, Equatable {
    /// Which release of hw/pci/shpc.c to reproduce. The 8.0 release merged the SHPC fixes of the "pci hotplug
    /// tracking" series (attention LED off on reset, power-only -> enabled applied, free on the generic
    /// not-off -> off transition, power-indicator blink check on unplug request).
    public enum ResetStyle: Sendable, Equatable {
        /// QEMU before 8.0 (observed on 7.2): reset does not initialise the attention LED (bits 5:4 stay `00`);
        /// `shpc_device_unplug_request_cb` has no blink check; `shpc_slot_command` ignores power-only -> enabled
        /// and frees only on an enabled/power-only -> disabled command with the power LED off afterwards.
        case qemu7
        /// QEMU 8.0 and later: attention LED off at reset; unplug request refused while the power LED blinks;
        /// every state transition applied; free on `!shpc_slot_is_off(old) && shpc_slot_is_off(new)`.
        case qemu8
    }

    /// What a controller command (`shpc_command`) asks of the caller beyond the registers, which it has
    /// already updated.
    public struct SHPCCommandOutcome: Sendable, Equatable {
        /// PCI slots (1...31), ascending, that went "not off" -> "off" (`shpc_free_devices_in_slot`): the caller
        /// frees every device at functions 0-7 of each (children first) and emits `DEVICE_DELETED` after the
        /// write. The controller has already opened the MRL, marked the slot empty and latched MRL|PRESENCE
        /// (a later ``slotFreed(slot:)`` for the same slot changes nothing). A slot is listed even if it holds
        /// no device; the caller then frees nothing.
        public var slotsToFree: [Int]
        /// PCI slots (1...31), ascending, whose v8 `shpc_slot_is_on` predicate went false -> true in this
        /// command. One slot command turns on at most one slot; enable-all (`0x49`) can turn on several. The
        /// caller emits `X_DEVICE_ON` for the function-0 device of each slot that held one before the command
        /// (and has not emitted it for that device yet).
        public var slotsTurnedOn: [Int]
        /// The first (lowest) of ``slotsTurnedOn``, or nil: the single slot a slot command (`0x00-0x3f`) turned
        /// on. Setting it replaces ``slotsTurnedOn``.
        public var slotTurnedOn: Int? {
            get { slotsTurnedOn.first }
            set { slotsTurnedOn = newValue.map { [$0] } ?? [] }
        }
        /// The command set `SHPC_CMD_STATUS_INVALID_CMD` (`shpc_invalid_command`).
        public var invalidCommand: Bool
        /// The command set `SHPC_CMD_STATUS_INVALID_MODE` (bus speed/mode other than 33 MHz conventional).
        public var invalidMode: Bool

        /// Makes an outcome.
        /// - Parameters:
        ///   - slotsToFree: see ``slotsToFree``.
        ///   - slotsTurnedOn: see ``slotsTurnedOn``.
        ///   - invalidCommand: see ``invalidCommand``.
        ///   - invalidMode: see ``invalidMode``.
        public init(
            slotsToFree: [Int] = [],
            slotsTurnedOn: [Int] = [],
            invalidCommand: Bool = false,
            invalidMode: Bool = false
        ) {
            self.slotsToFree = slotsToFree
            self.slotsTurnedOn = slotsTurnedOn
            self.invalidCommand = invalidCommand
            self.invalidMode = invalidMode
        }
    }

    /// What `device_del` of a device in an SHPC slot does (`shpc_device_unplug_request_cb`).
    public enum UnplugRequestOutcome: Sendable, Equatable {
        /// The power LED blinks (8.0+ only): the caller fails with
        /// `Hot-unplug failed: guest is busy (power indicator blinking)`; nothing changed.
        case busy
        /// The slot is disabled with the power LED off: the caller frees the slot's devices now (reply first,
        /// `DEVICE_DELETED` after it) and then calls ``slotFreed(slot:)``; no register changed yet.
        case freeNow
        /// The attention button was latched (again); the guest decides. No pending state is kept: a repeated
        /// request latches it again.
        case buttonPressed
    }

    /// Number of slots (`SHPC_MAX_SLOTS`, QEMU's fixed `nslots`).
    public static let slotCount = 31
    /// The hotpluggable PCI slot numbers: 1...31 (`shpc_device_plug_common`).
    public static let validSlots: ClosedRange<Int> = 1...slotCount
    /// Size of the register file in bytes (`SHPC_SIZEOF` = `SHPC_SLOT_REG(31)` = 0xa0); the rest of the
    /// 256-byte BAR reads 0 and ignores writes.
    public static let registerFileSize = Reg.slotBase + 4 * slotCount

    /// The release whose behaviour is reproduced.
    public let style: ResetStyle
    /// The raw register file, except the interrupt locator (0x18-0x1b), which is derived on read.
    private var registers: [UInt8]
    /// Number of 0 -> 1 edges of ``interruptAsserted`` so far (the INTx/MSI notifications
    /// `shpc_interrupt_update` raises). Not reset by ``reset(populatedSlots:)``.
    public private(set) var notificationCount: Int = 0

    /// A controller after `shpc_init` + `shpc_reset`.
    /// - Parameters:
    ///   - style: the release to reproduce (default: 8.0 and later).
    ///   - populatedSlots: PCI slots (1...31) holding a device at function 0 at reset.
    public init(style: ResetStyle = .qemu8, populatedSlots: Set<Int> = []) {
        self.style = style
        self.registers = [UInt8](repeating: 0, count: Self.registerFileSize)
        resetRegisters(populatedSlots: populatedSlots)
    }

    // MARK: Guest access

    /// A guest read through BAR0 (`shpc_mmio_read` / `shpc_read`): `size` bytes (1, 2 or 4) from `offset`,
    /// little endian. Bytes beyond the register file, negative offsets and other sizes read 0.
    public func read(offset: Int, size: Int) -> UInt32 {
        guard offset >= 0, (1...4).contains(size) else { return 0 }
        var value: UInt32 = 0
        for index in 0..<size where offset + index < Self.registerFileSize {
            value |= UInt32(byte(at: offset + index)) << (8 * index)
        }
        return value
    }

    /// A guest write through BAR0 (`shpc_mmio_write` / `shpc_write`): applies QEMU's write masks byte by byte
    /// (command code 0xff and target 0x1f writable; SERR-INT enable bits 0-3 writable with `CMD_DETECTED` /
    /// `ARB_DETECTED` RW1C; slot event latches RW1C; slot event masks 0x7f writable; everything else read-only),
    /// then executes the command if the write overlaps 0x14-0x15, then updates the interrupt.
    /// - Returns: the command outcome if a command executed, else nil (also for writes outside the register
    ///   file, negative offsets and sizes other than 1...4, which change nothing).
    public mutating func write(offset: Int, size: Int, value: UInt32) -> SHPCCommandOutcome? {
        guard offset >= 0, offset < Self.registerFileSize, (1...4).contains(size) else { return nil }
        let wasAsserted = interruptAsserted
        let length = min(size, Self.registerFileSize - offset)
        for index in 0..<length {
            let address = offset + index
            let data = UInt8(truncatingIfNeeded: value >> (8 * index))
            let writable = Self.writeMask(at: address)
            let clearable = Self.writeOneToClearMask(at: address)
            registers[address] = (registers[address] & ~writable) | (data & writable)
            registers[address] &= ~(data & clearable)
        }
        var outcome: SHPCCommandOutcome?
        if offset < Reg.commandTarget + 1, offset + length > Reg.commandCode {
            outcome = runCommand()
        }
        noteInterrupt(wasAsserted: wasAsserted)
        return outcome
    }

    /// Executes a command as if the guest wrote `code` to 0x14 and `target` to 0x15 in one access
    /// (`shpc_command`). The target goes through the register's write mask 0x1f as it would from a guest, so
    /// 32 is stored as 0 (invalid) and 33 addresses slot 1.
    public mutating func executeCommand(code: UInt8, target: UInt8) -> SHPCCommandOutcome {
        let wasAsserted = interruptAsserted
        registers[Reg.commandCode] = code
        registers[Reg.commandTarget] = target & Reg.targetMask
        let outcome = runCommand()
        noteInterrupt(wasAsserted: wasAsserted)
        return outcome
    }

    // MARK: Machine-side events

    /// System reset (`shpc_reset`): zeroes the register file and sets the capability registers; per slot:
    /// populated (device at function 0) -> enabled, power LED on, MRL closed, 7.5 W present; empty ->
    /// disabled, power LED off, MRL open, empty. Attention LED off on ``ResetStyle/qemu8``, left `00` on
    /// ``ResetStyle/qemu7``. All event masks set, latches clear, 66 MHz clear, interrupts disabled.
    /// - Parameter populatedSlots: PCI slots (1...31) holding a device at function 0; others are ignored.
    public mutating func reset(populatedSlots: Set<Int>) {
        let wasAsserted = interruptAsserted
        resetRegisters(populatedSlots: populatedSlots)
        noteInterrupt(wasAsserted: wasAsserted)
    }

    /// A device realized at machine creation (`shpc_device_plug_cb` with `hotplugged` false): MRL closed,
    /// 7.5 W present; state, LEDs and latches unchanged, no interrupt update. Slots outside 1...31 are ignored.
    public mutating func coldPlug(slot: Int) {
        guard let index = Self.index(of: slot) else { return }
        setField(index, Status.mrlOpen, 0)
        setField(index, Status.presenceMask, Status.present7_5W)
    }

    /// `device_add` into a slot (`shpc_device_plug_cb`, hotplugged): if the MRL was open (slot empty) -> MRL
    /// closed, 7.5 W present, latch BUTTON|MRL|PRESENCE; else (slot already populated, "cancellation of the
    /// previous removal") -> latch BUTTON only. State and LEDs are not changed; the guest must enable the
    /// slot. Clears 66 MHz and updates the interrupt. Slots outside 1...31 are ignored (the caller reports
    /// `Unsupported PCI slot`).
    public mutating func hotPlug(slot: Int) {
        guard let index = Self.index(of: slot) else { return }
        let wasAsserted = interruptAsserted
        if field(index, Status.mrlOpen) != 0 {
            setField(index, Status.mrlOpen, 0)
            setField(index, Status.presenceMask, Status.present7_5W)
            registers[Reg.latch(index)] |= Event.button | Event.mrl | Event.presence
        } else {
            registers[Reg.latch(index)] |= Event.button
        }
        setField(index, Status.mhz66, 0)
        noteInterrupt(wasAsserted: wasAsserted)
    }

    /// `device_del` of a device in a slot (`shpc_device_unplug_request_cb`):
    /// power LED blinking -> ``UnplugRequestOutcome/busy`` on ``ResetStyle/qemu8`` (7.2 has no such check and
    /// latches the button like any other state); disabled with power LED off -> ``UnplugRequestOutcome/freeNow``
    /// (registers unchanged until ``slotFreed(slot:)``); otherwise latch BUTTON, clear 66 MHz, update the
    /// interrupt -> ``UnplugRequestOutcome/buttonPressed``. Slots outside 1...31 cannot hold an SHPC-plugged
    /// device; they change nothing and answer ``UnplugRequestOutcome/buttonPressed``.
    public mutating func unplugRequest(slot: Int) -> UnplugRequestOutcome {
        guard let index = Self.index(of: slot) else { return .buttonPressed }
        let state = field(index, Status.stateMask)
        let power = field(index, Status.powerLEDMask)
        if style == .qemu8, power == Code.ledBlink { return .busy }
        if state == Code.stateDisabled, power == Code.ledOff { return .freeNow }
        let wasAsserted = interruptAsserted
        registers[Reg.latch(index)] |= Event.button
        setField(index, Status.mhz66, 0)
        noteInterrupt(wasAsserted: wasAsserted)
        return .buttonPressed
    }

    /// The caller freed the slot's devices after ``UnplugRequestOutcome/freeNow`` (the immediate path of
    /// `shpc_device_unplug_request_cb`): MRL open, slot empty, latch MRL|PRESENCE, clear 66 MHz, update the
    /// interrupt. Idempotent. Slots outside 1...31 are ignored.
    public mutating func slotFreed(slot: Int) {
        guard let index = Self.index(of: slot) else { return }
        let wasAsserted = interruptAsserted
        markEmpty(index)
        setField(index, Status.mhz66, 0)
        noteInterrupt(wasAsserted: wasAsserted)
    }

    // MARK: Derived views

    /// The slot state field of `slot` (`shpc_get_hotplug_state`'s `slot-state`); nil for slots outside 1...31.
    public func slotState(_ slot: Int) -> SHPCSlotState? {
        guard let index = Self.index(of: slot) else { return nil }
        switch field(index, Status.stateMask) {
        case Code.statePowerOnly: return .powerOnly
        case Code.stateEnabled: return .enabled
        case Code.stateDisabled: return .disabled
        default: return nil
        }
    }

    /// The power LED of `slot` (`shpc_get_hotplug_state`'s `power-led`); nil for slots outside 1...31 and for
    /// the reserved encoding `00`.
    public func powerLED(_ slot: Int) -> LedStatus? {
        guard let index = Self.index(of: slot) else { return nil }
        return Self.led(field(index, Status.powerLEDMask))
    }

    /// The attention LED of `slot` (`shpc_get_hotplug_state`'s `attention-led`); nil for slots outside 1...31
    /// and for the reserved encoding `00`, which a 7.2-style reset leaves in place.
    public func attentionLED(_ slot: Int) -> LedStatus? {
        guard let index = Self.index(of: slot) else { return nil }
        return Self.led(field(index, Status.attentionLEDMask))
    }

    /// v8 `shpc_slot_is_on`: enabled, power LED on and attention LED off. False for slots outside 1...31.
    public func isOn(_ slot: Int) -> Bool {
        guard let index = Self.index(of: slot) else { return false }
        return Self.isOn(
            state: field(index, Status.stateMask),
            power: field(index, Status.powerLEDMask),
            attention: field(index, Status.attentionLEDMask)
        )
    }

    /// `shpc_slot_is_off` (8.0+): disabled and power LED off; the attention LED is ignored. False for slots
    /// outside 1...31.
    public func isOff(_ slot: Int) -> Bool {
        guard let index = Self.index(of: slot) else { return false }
        return Self.isOff(state: field(index, Status.stateMask), power: field(index, Status.powerLEDMask))
    }

    /// The MRL sensor of `slot` reports open (status bit 8); on this controller that means "no card". False
    /// for slots outside 1...31.
    public func isMRLOpen(_ slot: Int) -> Bool {
        guard let index = Self.index(of: slot) else { return false }
        return field(index, Status.mrlOpen) != 0
    }

    /// The raw 16-bit slot status word of `slot` (offset `0x24 + 4 * (slot - 1)`), or nil outside 1...31.
    public func slotStatus(_ slot: Int) -> UInt16? {
        guard let index = Self.index(of: slot) else { return nil }
        return statusWord(index)
    }

    /// The raw slot event latch byte of `slot` (offset `0x26 + 4 * (slot - 1)`: 0x01 presence, 0x02 isolated
    /// power fault, 0x04 attention button, 0x08 MRL, 0x10 connected power fault), or nil outside 1...31.
    public func eventLatch(_ slot: Int) -> UInt8? {
        guard let index = Self.index(of: slot) else { return nil }
        return registers[Reg.latch(index)]
    }

    /// The raw slot event SERR/INT mask byte of `slot` (offset `0x27 + 4 * (slot - 1)`, 1 = masked), or nil
    /// outside 1...31.
    public func eventMask(_ slot: Int) -> UInt8? {
        guard let index = Self.index(of: slot) else { return nil }
        return registers[Reg.mask(index)]
    }

    /// The command status word (0x16): BUSY 0x1, MRL_OPEN 0x2, INVALID_CMD 0x4, INVALID_MODE 0x8.
    public var commandStatus: UInt16 { UInt16(read(offset: Reg.commandStatus, size: 2)) }

    /// The controller SERR-INT enable register (0x20): INT_DIS 0x1, SERR_DIS 0x2, CMD_INT_DIS 0x4,
    /// ARB_SERR_DIS 0x8, CMD_DETECTED 0x10000, ARB_DETECTED 0x20000.
    public var serrIntEnable: UInt32 { read(offset: Reg.serrInt, size: 4) }

    /// The interrupt locator (0x18) as `shpc_interrupt_update` computes it: bit 0 = command completed pending
    /// (`CMD_DETECTED` and not `CMD_INT_DIS`); bit `n` = PCI slot `n` (logical slot `n`) has a latched event
    /// that its mask does not disable.
    public var interruptLocator: UInt32 {
        var locator: UInt32 = 0
        for index in 0..<Self.slotCount where registers[Reg.latch(index)] & ~registers[Reg.mask(index)] != 0 {
            locator |= 1 << UInt32(index + 1)
        }
        let serr = serrIntEnable
        if serr & Serr.commandDetected != 0, serr & Serr.commandInterruptDisable == 0 {
            locator |= Serr.locatorCommand
        }
        return locator
    }

    /// The interrupt level `shpc_interrupt_update` drives: `!INT_DIS && locator != 0`.
    public var interruptAsserted: Bool {
        serrIntEnable & Serr.interruptDisable == 0 && interruptLocator != 0
    }

    /// Whether `slot` can take an SHPC-plugged device (1...31); QEMU refuses others with
    /// `Unsupported PCI slot <n> for standard hotplug controller. Valid slots are between 1 and 31.`
    public static func isValidSlot(_ slot: Int) -> Bool { validSlots.contains(slot) }

    // MARK: Internals

    /// Register offsets and write masks (hw/pci/shpc.c `SHPC_*`).
    private enum Reg {
        static let slotsAvailable33 = 0x04
        static let numberOfSlots = 0x0C
        static let firstDevice = 0x0D
        static let physicalSlot = 0x0E
        static let programmingInterface = 0x13
        static let commandCode = 0x14
        static let commandTarget = 0x15
        static let commandStatus = 0x16
        static let interruptLocator = 0x18
        static let serrInt = 0x20
        static let slotBase = 0x24
        static let targetMask: UInt8 = 0x1f
        /// Physical slot 1 | numbering up | MRL sensor | attention button.
        static let physicalSlotInfo: UInt16 = 0x0001 | 0x2000 | 0x4000 | 0x8000
        static func status(_ index: Int) -> Int { slotBase + 4 * index }
        static func latch(_ index: Int) -> Int { slotBase + 4 * index + 2 }
        static func mask(_ index: Int) -> Int { slotBase + 4 * index + 3 }
    }

    /// Slot status word fields (`SHPC_SLOT_*` masks).
    private enum Status {
        static let stateMask: UInt16 = 0x0003
        static let powerLEDMask: UInt16 = 0x000C
        static let attentionLEDMask: UInt16 = 0x0030
        static let mrlOpen: UInt16 = 0x0100
        static let mhz66: UInt16 = 0x0200
        static let presenceMask: UInt16 = 0x0C00
        static let presentEmpty: UInt8 = 3
        static let present7_5W: UInt8 = 0
    }

    /// Field encodings shared by commands and the status word (`SHPC_STATE_*`, `SHPC_LED_*`).
    private enum Code {
        static let noChange: UInt8 = 0
        static let statePowerOnly: UInt8 = 1
        static let stateEnabled: UInt8 = 2
        static let stateDisabled: UInt8 = 3
        static let ledOn: UInt8 = 1
        static let ledBlink: UInt8 = 2
        static let ledOff: UInt8 = 3
        static let commandStatusClear: UInt16 = 0x000F
        static let invalidCommand: UInt16 = 0x0004
        static let invalidMode: UInt16 = 0x0008
    }

    /// Slot event latch / mask bits (`SHPC_SLOT_EVENT_*`).
    private enum Event {
        static let presence: UInt8 = 0x01
        static let button: UInt8 = 0x04
        static let mrl: UInt8 = 0x08
        static let allLatches: UInt8 = 0x1F
        static let allMasks: UInt8 = 0x7F
    }

    /// SERR-INT enable bits (`SHPC_INT_DIS` ... `SHPC_ARB_DETECTED`).
    private enum Serr {
        static let interruptDisable: UInt32 = 0x1
        static let commandInterruptDisable: UInt32 = 0x4
        static let allDisables: UInt32 = 0xF
        static let commandDetected: UInt32 = 0x1_0000
        static let detectedBits: UInt32 = 0x3_0000
        static let locatorCommand: UInt32 = 0x1
    }

    private static func index(of slot: Int) -> Int? {
        validSlots.contains(slot) ? slot - 1 : nil
    }

    private static func led(_ code: UInt8) -> LedStatus? {
        switch code {
        case Code.ledOn: return .on
        case Code.ledBlink: return .blinking
        case Code.ledOff: return .off
        default: return nil
        }
    }

    private static func isOn(state: UInt8, power: UInt8, attention: UInt8) -> Bool {
        state == Code.stateEnabled && power == Code.ledOn && attention == Code.ledOff
    }

    private static func isOff(state: UInt8, power: UInt8) -> Bool {
        state == Code.stateDisabled && power == Code.ledOff
    }

    /// `shpc->wmask` of `shpc_init`.
    private static func writeMask(at address: Int) -> UInt8 {
        switch address {
        case Reg.commandCode: return 0xFF
        case Reg.commandTarget: return Reg.targetMask
        case Reg.serrInt: return UInt8(Serr.allDisables)
        case Reg.slotBase...: return (address - Reg.slotBase) % 4 == 3 ? Event.allMasks : 0
        default: return 0
        }
    }

    /// `shpc->w1cmask` of `shpc_init`.
    private static func writeOneToClearMask(at address: Int) -> UInt8 {
        switch address {
        case Reg.serrInt + 2: return UInt8(Serr.detectedBits >> 16)
        case Reg.slotBase...: return (address - Reg.slotBase) % 4 == 2 ? Event.allLatches : 0
        default: return 0
        }
    }

    private func byte(at address: Int) -> UInt8 {
        let locatorRange = Reg.interruptLocator..<(Reg.interruptLocator + 4)
        guard locatorRange.contains(address) else { return registers[address] }
        return UInt8(truncatingIfNeeded: interruptLocator >> (8 * (address - Reg.interruptLocator)))
    }

    private func statusWord(_ index: Int) -> UInt16 {
        UInt16(registers[Reg.status(index)]) | UInt16(registers[Reg.status(index) + 1]) << 8
    }

    private mutating func setStatusWord(_ index: Int, _ word: UInt16) {
        registers[Reg.status(index)] = UInt8(truncatingIfNeeded: word)
        registers[Reg.status(index) + 1] = UInt8(truncatingIfNeeded: word >> 8)
    }

    /// `shpc_get_status`.
    private func field(_ index: Int, _ mask: UInt16) -> UInt8 {
        UInt8(truncatingIfNeeded: (statusWord(index) & mask) >> UInt16(mask.trailingZeroBitCount))
    }

    /// `shpc_set_status`.
    private mutating func setField(_ index: Int, _ mask: UInt16, _ value: UInt8) {
        let shifted = (UInt16(value) << UInt16(mask.trailingZeroBitCount)) & mask
        setStatusWord(index, (statusWord(index) & ~mask) | shifted)
    }

    private mutating func setLong(_ offset: Int, _ value: UInt32) {
        for index in 0..<4 { registers[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
    }

    private mutating func setCommandStatus(_ word: UInt16) {
        registers[Reg.commandStatus] = UInt8(truncatingIfNeeded: word)
        registers[Reg.commandStatus + 1] = UInt8(truncatingIfNeeded: word >> 8)
    }

    /// MRL open, slot empty, latch MRL|PRESENCE (the common tail of a slot being freed).
    private mutating func markEmpty(_ index: Int) {
        setField(index, Status.mrlOpen, 1)
        setField(index, Status.presenceMask, Status.presentEmpty)
        registers[Reg.latch(index)] |= Event.mrl | Event.presence
    }

    private mutating func noteInterrupt(wasAsserted: Bool) {
        if !wasAsserted, interruptAsserted { notificationCount += 1 }
    }

    /// `shpc_reset` (without the interrupt update).
    private mutating func resetRegisters(populatedSlots: Set<Int>) {
        registers = [UInt8](repeating: 0, count: Self.registerFileSize)
        registers[Reg.numberOfSlots] = UInt8(Self.slotCount)
        setLong(Reg.slotsAvailable33, UInt32(Self.slotCount))
        registers[Reg.firstDevice] = 1
        registers[Reg.physicalSlot] = UInt8(truncatingIfNeeded: Reg.physicalSlotInfo)
        registers[Reg.physicalSlot + 1] = UInt8(truncatingIfNeeded: Reg.physicalSlotInfo >> 8)
        setLong(Reg.serrInt, Serr.allDisables)
        registers[Reg.programmingInterface] = 1
        for index in 0..<Self.slotCount {
            registers[Reg.mask(index)] = Event.allMasks
            if populatedSlots.contains(index + 1) {
                setField(index, Status.stateMask, Code.stateEnabled)
                setField(index, Status.mrlOpen, 0)
                setField(index, Status.presenceMask, Status.present7_5W)
                setField(index, Status.powerLEDMask, Code.ledOn)
            } else {
                setField(index, Status.stateMask, Code.stateDisabled)
                setField(index, Status.mrlOpen, 1)
                setField(index, Status.presenceMask, Status.presentEmpty)
                setField(index, Status.powerLEDMask, Code.ledOff)
            }
            if style == .qemu8 { setField(index, Status.attentionLEDMask, Code.ledOff) }
            setField(index, Status.mhz66, 0)
        }
    }

    /// `shpc_command` on the code and target now in 0x14/0x15 (without the interrupt update).
    private mutating func runCommand() -> SHPCCommandOutcome {
        let code = registers[Reg.commandCode]
        var outcome = SHPCCommandOutcome()
        let status = UInt16(read(offset: Reg.commandStatus, size: 2))
        setCommandStatus(status & ~Code.commandStatusClear)
        switch code {
        case 0x00...0x3F:
            slotCommand(
                target: Int(registers[Reg.commandTarget] & Reg.targetMask),
                state: code & 0x3,
                power: (code >> 2) & 0x3,
                attention: (code >> 4) & 0x3,
                outcome: &outcome
            )
        case 0x40...0x47:
            // Secondary bus speed/mode: only 33 MHz conventional (0) is supported; it is already in place.
            if code & 0x7 != 0 { setCommandStatus(commandStatus | Code.invalidMode) }
        case 0x48, 0x49:
            // Power-only all / enable all: refused if any slot is enabled, else per slot by MRL state.
            let anyEnabled = (0..<Self.slotCount).contains { field($0, Status.stateMask) == Code.stateEnabled }
            if anyEnabled {
                setCommandStatus(commandStatus | Code.invalidCommand)
                break
            }
            let newState = code == 0x48 ? Code.statePowerOnly : Code.stateEnabled
            for index in 0..<Self.slotCount {
                if field(index, Status.mrlOpen) == 0 {
                    slotCommand(
                        target: index + 1,
                        state: newState,
                        power: Code.ledOn,
                        attention: Code.noChange,
                        outcome: &outcome
                    )
                } else {
                    slotCommand(
                        target: index + 1,
                        state: Code.noChange,
                        power: Code.ledOff,
                        attention: Code.noChange,
                        outcome: &outcome
                    )
                }
            }
        default:
            setCommandStatus(commandStatus | Code.invalidCommand)
        }
        setLong(Reg.serrInt, serrIntEnable | Serr.commandDetected)
        outcome.invalidCommand = commandStatus & Code.invalidCommand != 0
        outcome.invalidMode = commandStatus & Code.invalidMode != 0
        return outcome
    }

    /// `shpc_slot_command` of the selected release, plus the v8 `X_DEVICE_ON` check.
    private mutating func slotCommand(
        target: Int,
        state: UInt8,
        power: UInt8,
        attention: UInt8,
        outcome: inout SHPCCommandOutcome
    ) {
        guard let index = Self.index(of: target) else {
            setCommandStatus(commandStatus | Code.invalidCommand)
            return
        }
        let oldState = field(index, Status.stateMask)
        let oldPower = field(index, Status.powerLEDMask)
        let oldAttention = field(index, Status.attentionLEDMask)
        if oldState == Code.stateEnabled, state == Code.statePowerOnly {
            setCommandStatus(commandStatus | Code.invalidCommand)
            return
        }
        if power != Code.noChange { setField(index, Status.powerLEDMask, power) }
        if attention != Code.noChange { setField(index, Status.attentionLEDMask, attention) }
        let free: Bool
        switch style {
        case .qemu8:
            if state != Code.noChange { setField(index, Status.stateMask, state) }
            free =
                !Self.isOff(state: oldState, power: oldPower)
                && Self.isOff(state: field(index, Status.stateMask), power: field(index, Status.powerLEDMask))
        case .qemu7:
            let wasActive = oldState == Code.stateEnabled || oldState == Code.statePowerOnly
            if oldState == Code.stateDisabled, state == Code.statePowerOnly || state == Code.stateEnabled {
                setField(index, Status.stateMask, state)
                free = false
            } else if wasActive, state == Code.stateDisabled {
                setField(index, Status.stateMask, state)
                free = field(index, Status.powerLEDMask) == Code.ledOff
            } else {
                free = false
            }
        }
        if free {
            markEmpty(index)
            outcome.slotsToFree.append(index + 1)
        }
        let wasOn = Self.isOn(state: oldState, power: oldPower, attention: oldAttention)
        if !wasOn, isOn(index + 1) { outcome.slotsTurnedOn.append(index + 1) }
    }
}
