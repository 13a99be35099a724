import SimulatedMachine
import Testing

/// Register-level tests of ``SHPCController`` (QEMU hw/pci/shpc.c). Expected raw values come from the QEMU 7.2
/// oracle transcripts (`c1_shpc_flow`, `c2_shpc_errors`, `c3_shpc_pcie_pci_bridge`, `c4_shpc_pc_native`) where
/// they show them, otherwise from the register layout of the hotplug spec §3.3.
@Suite struct SHPCControllerTests {
    typealias Style = SHPCController.ResetStyle
    typealias Outcome = SHPCController.SHPCCommandOutcome
    static let styles: [Style] = [.qemu7, .qemu8]

    /// Offset of the slot dword (status word, event latch, event mask) of PCI slot `slot`.
    static func slotOffset(_ slot: Int) -> Int { 0x24 + 4 * (slot - 1) }
    static func slotDword(_ shpc: SHPCController, _ slot: Int) -> UInt32 {
        shpc.read(offset: slotOffset(slot), size: 4)
    }
    /// The raw register file as 40 dwords.
    static func dump(_ shpc: SHPCController) -> [UInt32] {
        stride(from: 0, to: 0xA0, by: 4).map { shpc.read(offset: $0, size: 4) }
    }
    /// Status word of an empty slot after reset: disabled, power LED off, MRL open, PRSNT empty; attention LED
    /// `00` on 7.2 (observed), off on 8.0+.
    static func emptyStatus(_ style: Style) -> UInt32 { style == .qemu7 ? 0x0D0F : 0x0D3F }
    /// Status word of a populated slot after reset: enabled, power LED on, MRL closed, 7.5 W.
    static func populatedStatus(_ style: Style) -> UInt32 { style == .qemu7 ? 0x0006 : 0x0036 }

    // MARK: Reset

    @Test(arguments: styles) func resetCapabilityRegisters(style: Style) {
        let shpc = SHPCController(style: style)
        #expect(shpc.read(offset: 0x00, size: 4) == 0)
        #expect(shpc.read(offset: 0x04, size: 4) == 0x1F)
        #expect(shpc.read(offset: 0x08, size: 4) == 0)
        #expect(shpc.read(offset: 0x0C, size: 4) == 0xE001_011F)
        #expect(shpc.read(offset: 0x10, size: 4) == 0x0100_0000)
        #expect(shpc.read(offset: 0x14, size: 4) == 0)
        #expect(shpc.read(offset: 0x18, size: 4) == 0)
        #expect(shpc.read(offset: 0x1C, size: 4) == 0)
        #expect(shpc.read(offset: 0x20, size: 4) == 0xF)
        #expect(shpc.interruptLocator == 0)
        #expect(!shpc.interruptAsserted)
        #expect(shpc.notificationCount == 0)
    }

    @Test(arguments: styles) func resetEmptySlots(style: Style) {
        let shpc = SHPCController(style: style)
        for slot in SHPCController.validSlots {
            #expect(Self.slotDword(shpc, slot) == 0x7F00_0000 | Self.emptyStatus(style))
            #expect(shpc.slotState(slot) == .disabled)
            #expect(shpc.powerLED(slot) == .off)
            #expect(shpc.attentionLED(slot) == (style == .qemu7 ? nil : .off))
            #expect(shpc.isMRLOpen(slot))
            #expect(shpc.isOff(slot))
            #expect(!shpc.isOn(slot))
        }
    }

    @Test(arguments: styles) func resetPopulatedSlots(style: Style) {
        var shpc = SHPCController(style: style)
        shpc.reset(populatedSlots: [0, 3, 31, 32])
        #expect(Self.slotDword(shpc, 3) == 0x7F00_0000 | Self.populatedStatus(style))
        #expect(Self.slotDword(shpc, 31) == 0x7F00_0000 | Self.populatedStatus(style))
        #expect(Self.slotDword(shpc, 1) == 0x7F00_0000 | Self.emptyStatus(style))
        #expect(shpc.slotState(3) == .enabled)
        #expect(shpc.powerLED(3) == .on)
        #expect(!shpc.isMRLOpen(3))
        #expect(!shpc.isOff(3))
        // The v8 "on" predicate needs the attention LED off, which only the 8.0 reset sets.
        #expect(shpc.isOn(3) == (style == .qemu8))
        #expect(shpc == SHPCController(style: style, populatedSlots: [3, 31]))
    }

    @Test(arguments: styles) func resetRestoresEveryRegister(style: Style) {
        var shpc = SHPCController(style: style)
        shpc.hotPlug(slot: 5)
        _ = shpc.write(offset: 0x20, size: 1, value: 0)
        _ = shpc.write(offset: Self.slotOffset(5) + 3, size: 1, value: 0)
        _ = shpc.executeCommand(code: 0x06, target: 5)
        _ = shpc.executeCommand(code: 0x41, target: 0)
        let count = shpc.notificationCount
        #expect(count > 0)
        shpc.reset(populatedSlots: [5])
        #expect(Self.dump(shpc) == Self.dump(SHPCController(style: style, populatedSlots: [5])))
        #expect(shpc.notificationCount == count)
    }

    // MARK: Plug and unplug requests

    @Test(arguments: styles) func coldPlugClosesMRLWithoutEvents(style: Style) {
        var shpc = SHPCController(style: style)
        shpc.coldPlug(slot: 7)
        #expect(Self.slotDword(shpc, 7) == 0x7F00_0000 | (Self.emptyStatus(style) & 0xFF))
        #expect(shpc.eventLatch(7) == 0)
        #expect(!shpc.isMRLOpen(7))
        #expect(shpc.slotState(7) == .disabled)
        shpc.reset(populatedSlots: [7])
        #expect(Self.slotDword(shpc, 7) == 0x7F00_0000 | Self.populatedStatus(style))
    }

    /// c1/c3/c4: `device_add` into an empty slot reads `0x7f0d000f` on 7.2.
    @Test(arguments: styles) func hotPlugIntoEmptySlot(style: Style) {
        var shpc = SHPCController(style: style)
        shpc.hotPlug(slot: 1)
        #expect(Self.slotDword(shpc, 1) == 0x7F0D_0000 | (Self.emptyStatus(style) & 0xFF))
        #expect(shpc.eventLatch(1) == 0x0D)
        #expect(!shpc.isMRLOpen(1))
        #expect(shpc.slotState(1) == .disabled)
        #expect(shpc.powerLED(1) == .off)
        #expect(shpc.interruptLocator == 0)
    }

    @Test(arguments: styles) func hotPlugIntoPopulatedSlotPressesButtonOnly(style: Style) {
        var shpc = SHPCController(style: style, populatedSlots: [4])
        shpc.hotPlug(slot: 4)
        #expect(Self.slotDword(shpc, 4) == 0x7F04_0000 | Self.populatedStatus(style))
        var cold = SHPCController(style: style)
        cold.coldPlug(slot: 6)
        cold.hotPlug(slot: 6)
        #expect(cold.eventLatch(6) == 0x04)
    }

    @Test(arguments: styles) func plugCallsIgnoreSlotsOutsideTheController(style: Style) {
        var shpc = SHPCController(style: style)
        for slot in [-1, 0, 32] {
            shpc.hotPlug(slot: slot)
            shpc.coldPlug(slot: slot)
            shpc.slotFreed(slot: slot)
            #expect(shpc.unplugRequest(slot: slot) == .buttonPressed)
            #expect(shpc.slotState(slot) == nil)
            #expect(shpc.powerLED(slot) == nil)
            #expect(shpc.attentionLED(slot) == nil)
            #expect(shpc.slotStatus(slot) == nil)
            #expect(shpc.eventLatch(slot) == nil)
            #expect(shpc.eventMask(slot) == nil)
            #expect(!shpc.isOn(slot) && !shpc.isOff(slot) && !shpc.isMRLOpen(slot))
            #expect(!SHPCController.isValidSlot(slot))
        }
        #expect(shpc == SHPCController(style: style))
    }

    /// c1: `device_del` of an enabled slot latches BUTTON, and again on every repeat (no pending state).
    @Test(arguments: styles) func unplugRequestPressesButtonEveryTime(style: Style) {
        var shpc = SHPCController(style: style, populatedSlots: [1])
        #expect(shpc.unplugRequest(slot: 1) == .buttonPressed)
        #expect(Self.slotDword(shpc, 1) == 0x7F04_0000 | Self.populatedStatus(style))
        _ = shpc.write(offset: 0x26, size: 1, value: 0x04)
        #expect(shpc.unplugRequest(slot: 1) == .buttonPressed)
        #expect(shpc.eventLatch(1) == 0x04)
    }

    /// c1: `device_del` while the slot is still disabled with the LED off empties it at once (`0x7f0d0d0f`).
    @Test(arguments: styles) func unplugRequestOfDisabledSlotFreesNow(style: Style) {
        var shpc = SHPCController(style: style)
        shpc.hotPlug(slot: 2)
        let before = shpc
        #expect(shpc.unplugRequest(slot: 2) == .freeNow)
        #expect(shpc == before)
        shpc.slotFreed(slot: 2)
        #expect(Self.slotDword(shpc, 2) == 0x7F0D_0000 | Self.emptyStatus(style))
        _ = shpc.write(offset: 0x2A, size: 1, value: 0x0D)
        shpc.slotFreed(slot: 2)
        #expect(shpc.eventLatch(2) == 0x09)
        #expect(shpc.isMRLOpen(2))
    }

    @Test func unplugRequestWhileBlinkingIsBusyOnQEMU8() {
        var shpc = SHPCController(style: .qemu8, populatedSlots: [1])
        _ = shpc.executeCommand(code: 0x08, target: 1)
        let before = shpc
        #expect(shpc.unplugRequest(slot: 1) == .busy)
        #expect(shpc == before)
    }

    /// c1: 7.2 answers `{}` and latches BUTTON while the power LED blinks (`0x7f04000a`).
    @Test func unplugRequestWhileBlinkingPressesButtonOnQEMU7() {
        var shpc = SHPCController(style: .qemu7, populatedSlots: [1])
        _ = shpc.executeCommand(code: 0x08, target: 1)
        #expect(shpc.unplugRequest(slot: 1) == .buttonPressed)
        #expect(Self.slotDword(shpc, 1) == 0x7F04_000A)
    }

    // MARK: Slot commands

    @Test(arguments: styles) func slotCommandSetsStateAndLEDs(style: Style) {
        var shpc = SHPCController(style: style)
        shpc.hotPlug(slot: 9)
        let outcome = shpc.executeCommand(code: 0x06, target: 9)
        #expect(outcome == Outcome(slotsTurnedOn: style == .qemu8 ? [9] : []))
        #expect(shpc.slotState(9) == .enabled)
        #expect(shpc.powerLED(9) == .on)
        #expect(shpc.commandStatus == 0)
        _ = shpc.executeCommand(code: 0x20, target: 9)
        #expect(shpc.attentionLED(9) == .blinking)
        #expect(shpc.slotState(9) == .enabled)
        #expect(shpc.powerLED(9) == .on)
        _ = shpc.executeCommand(code: 0x18, target: 9)
        #expect(shpc.attentionLED(9) == .on)
        #expect(shpc.powerLED(9) == .blinking)
        #expect(shpc.slotStatus(9) == 0x001A)
    }

    @Test(arguments: styles) func disabledToPowerOnly(style: Style) {
        var shpc = SHPCController(style: style)
        shpc.hotPlug(slot: 2)
        let outcome = shpc.executeCommand(code: 0x05, target: 2)
        #expect(outcome == Outcome())
        #expect(shpc.slotState(2) == .powerOnly)
        #expect(shpc.powerLED(2) == .on)
    }

    /// 8.0 applies power-only -> enabled; 7.2 silently keeps power-only (LEDs still change).
    @Test(arguments: styles) func powerOnlyToEnabled(style: Style) {
        var shpc = SHPCController(style: style)
        shpc.hotPlug(slot: 2)
        _ = shpc.executeCommand(code: 0x01, target: 2)
        let outcome = shpc.executeCommand(code: 0x3A, target: 2)
        #expect(!outcome.invalidCommand)
        #expect(shpc.slotState(2) == (style == .qemu8 ? .enabled : .powerOnly))
        #expect(shpc.powerLED(2) == .blinking)
        #expect(shpc.attentionLED(2) == .off)
    }

    /// c1: enabled -> power-only (`0x301` on an enabled slot) is INVALID_CMD and applies nothing, LEDs included.
    @Test(arguments: styles) func enabledToPowerOnlyIsInvalid(style: Style) {
        var shpc = SHPCController(style: style, populatedSlots: [3])
        let before = Self.slotDword(shpc, 3)
        let outcome = shpc.executeCommand(code: 0x3D, target: 3)
        #expect(outcome == Outcome(invalidCommand: true))
        #expect(Self.slotDword(shpc, 3) == before)
        #expect(shpc.commandStatus == 0x4)
        #expect(shpc.serrIntEnable == 0x1_000F)
    }

    /// c1: target 0 is INVALID_CMD.
    @Test(arguments: styles) func targetZeroIsInvalid(style: Style) {
        var shpc = SHPCController(style: style, populatedSlots: [1])
        let before = Self.dump(shpc)
        let outcome = shpc.executeCommand(code: 0x0F, target: 0)
        #expect(outcome.invalidCommand)
        #expect(outcome.slotsToFree.isEmpty)
        #expect(shpc.commandStatus == 0x4)
        var after = Self.dump(shpc)
        after[0x14 / 4] = before[0x14 / 4]
        after[0x20 / 4] = before[0x20 / 4]
        #expect(after == before)
    }

    /// The target register keeps 5 bits (QEMU's write mask 0x1f): 32 becomes 0 (invalid), 33 becomes slot 1.
    @Test func targetIsMaskedToFiveBits() {
        var shpc = SHPCController(style: .qemu8)
        shpc.hotPlug(slot: 1)
        #expect(shpc.executeCommand(code: 0x05, target: 0x20).invalidCommand)
        #expect(shpc.read(offset: 0x15, size: 1) == 0)
        #expect(!shpc.executeCommand(code: 0x05, target: 0x21).invalidCommand)
        #expect(shpc.read(offset: 0x15, size: 1) == 1)
        #expect(shpc.slotState(1) == .powerOnly)
        // The same mask applies to guest writes.
        #expect(shpc.write(offset: 0x15, size: 1, value: 0xE2)?.invalidCommand == false)
        #expect(shpc.read(offset: 0x15, size: 1) == 2)
        #expect(shpc.slotState(2) == .powerOnly)
    }

    @Test(arguments: styles) func busSpeedCommands(style: Style) {
        var shpc = SHPCController(style: style)
        #expect(shpc.executeCommand(code: 0x40, target: 0) == Outcome())
        #expect(shpc.commandStatus == 0)
        for code in UInt8(0x41)...0x47 {
            #expect(shpc.executeCommand(code: code, target: 0) == Outcome(invalidMode: true))
            #expect(shpc.commandStatus == 0x8)
        }
        #expect(shpc.read(offset: 0x10, size: 4) == 0x0100_0000)
    }

    /// c1: `0x4a` is INVALID_CMD, as is every code above `0x49`.
    @Test(arguments: styles) func unknownCodesAreInvalid(style: Style) {
        var shpc = SHPCController(style: style, populatedSlots: [1])
        let slots = Self.dump(shpc)[9...]
        for code: UInt8 in [0x4A, 0x4F, 0x50, 0x80, 0xFF] {
            #expect(shpc.executeCommand(code: code, target: 1) == Outcome(invalidCommand: true))
            #expect(shpc.commandStatus == 0x4)
        }
        #expect(Self.dump(shpc)[9...] == slots)
    }

    @Test(arguments: styles) func commandStatusIsClearedByTheNextCommand(style: Style) {
        var shpc = SHPCController(style: style)
        _ = shpc.executeCommand(code: 0x4A, target: 0)
        #expect(shpc.commandStatus == 0x4)
        _ = shpc.executeCommand(code: 0x40, target: 0)
        #expect(shpc.commandStatus == 0)
        _ = shpc.executeCommand(code: 0x43, target: 0)
        #expect(shpc.commandStatus == 0x8)
        _ = shpc.executeCommand(code: 0x4A, target: 0)
        #expect(shpc.commandStatus == 0x4)
        _ = shpc.executeCommand(code: 0x0C, target: 4)
        #expect(shpc.commandStatus == 0)
    }

    /// c1: every command, valid or not, sets CMD_DETECTED (SERR-INT reads `0x1000f`); it is RW1C.
    @Test(arguments: styles) func commandDetectedAfterEveryCommandAndRW1C(style: Style) {
        var shpc = SHPCController(style: style)
        for code: UInt8 in [0x0C, 0x40, 0x41, 0x48, 0x4A] {
            #expect(shpc.write(offset: 0x20, size: 4, value: 0x1_000F) == nil)
            #expect(shpc.serrIntEnable == 0xF)
            _ = shpc.executeCommand(code: code, target: 1)
            #expect(shpc.serrIntEnable == 0x1_000F)
        }
        _ = shpc.write(offset: 0x20, size: 4, value: 0x0)
        #expect(shpc.serrIntEnable == 0x1_0000)
        _ = shpc.write(offset: 0x22, size: 1, value: 0xFF)
        #expect(shpc.serrIntEnable == 0)
        _ = shpc.write(offset: 0x20, size: 4, value: 0xFFFF_FFF5)
        #expect(shpc.serrIntEnable == 0x5)
    }

    @Test(arguments: styles) func powerOnlyAll(style: Style) {
        var shpc = SHPCController(style: style)
        shpc.hotPlug(slot: 3)
        shpc.hotPlug(slot: 7)
        let outcome = shpc.executeCommand(code: 0x48, target: 0)
        #expect(outcome == Outcome())
        for slot in SHPCController.validSlots {
            let populated = slot == 3 || slot == 7
            #expect(shpc.slotState(slot) == (populated ? .powerOnly : .disabled))
            #expect(shpc.powerLED(slot) == (populated ? .on : .off))
        }
    }

    /// c1: enable-all after hot-adding slots 3 and 31 reads `0x7f0d0006` for both and `0x7f000d0f` for slot 4.
    @Test(arguments: styles) func enableAll(style: Style) {
        var shpc = SHPCController(style: style)
        shpc.hotPlug(slot: 3)
        shpc.hotPlug(slot: 31)
        let outcome = shpc.executeCommand(code: 0x49, target: 0)
        #expect(!outcome.invalidCommand)
        #expect(outcome.slotsToFree.isEmpty)
        // Only 8.0 has the attention LED off, so only there do the slots become "on" (v8 X_DEVICE_ON).
        #expect(outcome.slotsTurnedOn == (style == .qemu8 ? [3, 31] : []))
        #expect(outcome.slotTurnedOn == (style == .qemu8 ? 3 : nil))
        let attention: UInt32 = style == .qemu8 ? 0x30 : 0
        #expect(Self.slotDword(shpc, 3) == 0x7F0D_0006 | attention)
        #expect(Self.slotDword(shpc, 31) == 0x7F0D_0006 | attention)
        #expect(Self.slotDword(shpc, 4) == 0x7F00_0000 | Self.emptyStatus(style))
    }

    @Test(arguments: styles) func allSlotCommandsAreRefusedWhileASlotIsEnabled(style: Style) {
        for code: UInt8 in [0x48, 0x49] {
            var shpc = SHPCController(style: style, populatedSlots: [2])
            shpc.hotPlug(slot: 5)
            let before = Self.dump(shpc)
            let outcome = shpc.executeCommand(code: code, target: 0)
            #expect(outcome == Outcome(invalidCommand: true))
            #expect(Self.dump(shpc)[9...] == before[9...])
        }
    }

    /// Enable-all on a power-only slot: 8.0 enables it, 7.2 ignores power-only -> enabled.
    @Test(arguments: styles) func enableAllAfterPowerOnlyAll(style: Style) {
        var shpc = SHPCController(style: style)
        shpc.hotPlug(slot: 3)
        _ = shpc.executeCommand(code: 0x48, target: 0)
        _ = shpc.executeCommand(code: 0x49, target: 0)
        #expect(shpc.slotState(3) == (style == .qemu8 ? .enabled : .powerOnly))
        #expect(shpc.powerLED(3) == .on)
    }

    // MARK: Off transition (free) and on transition (X_DEVICE_ON)

    /// c1/c3/c4: disable + LED off (`0x0f`) on an enabled slot frees it: status `0x0d0f`, latch MRL|PRESENCE.
    @Test(arguments: styles) func offTransitionFreesOnce(style: Style) {
        var shpc = SHPCController(style: style, populatedSlots: [4])
        let outcome = shpc.executeCommand(code: 0x0F, target: 4)
        #expect(outcome == Outcome(slotsToFree: [4]))
        #expect(Self.slotDword(shpc, 4) == 0x7F09_0000 | Self.emptyStatus(style))
        #expect(shpc.isOff(4))
        #expect(shpc.executeCommand(code: 0x0F, target: 4).slotsToFree.isEmpty)
        #expect(shpc.executeCommand(code: 0x0C, target: 4).slotsToFree.isEmpty)
        shpc.slotFreed(slot: 4)
        #expect(Self.slotDword(shpc, 4) == 0x7F09_0000 | Self.emptyStatus(style))
    }

    @Test(arguments: styles) func offTransitionFromPowerOnly(style: Style) {
        var shpc = SHPCController(style: style)
        shpc.hotPlug(slot: 8)
        _ = shpc.executeCommand(code: 0x05, target: 8)
        #expect(shpc.executeCommand(code: 0x0F, target: 8).slotsToFree == [8])
    }

    /// 8.0 frees on the not-off -> off transition whichever command completes it.
    @Test func offTransitionOverTwoCommandsOnQEMU8() {
        var disableFirst = SHPCController(style: .qemu8, populatedSlots: [4])
        #expect(disableFirst.executeCommand(code: 0x03, target: 4).slotsToFree.isEmpty)
        #expect(!disableFirst.isMRLOpen(4))
        #expect(disableFirst.executeCommand(code: 0x0C, target: 4).slotsToFree == [4])
        #expect(disableFirst.isMRLOpen(4))
        #expect(disableFirst.executeCommand(code: 0x0C, target: 4).slotsToFree.isEmpty)

        var ledFirst = SHPCController(style: .qemu8, populatedSlots: [4])
        #expect(ledFirst.executeCommand(code: 0x0C, target: 4).slotsToFree.isEmpty)
        #expect(ledFirst.executeCommand(code: 0x03, target: 4).slotsToFree == [4])
        #expect(ledFirst.executeCommand(code: 0x03, target: 4).slotsToFree.isEmpty)
    }

    /// 7.2 frees only on enabled/power-only -> disabled with the LED off afterwards: LED first works, disable
    /// first never frees.
    @Test func offTransitionOverTwoCommandsOnQEMU7() {
        var disableFirst = SHPCController(style: .qemu7, populatedSlots: [4])
        #expect(disableFirst.executeCommand(code: 0x03, target: 4).slotsToFree.isEmpty)
        #expect(disableFirst.executeCommand(code: 0x0C, target: 4).slotsToFree.isEmpty)
        #expect(disableFirst.executeCommand(code: 0x0F, target: 4).slotsToFree.isEmpty)
        #expect(disableFirst.isOff(4))
        #expect(!disableFirst.isMRLOpen(4))

        var ledFirst = SHPCController(style: .qemu7, populatedSlots: [4])
        #expect(ledFirst.executeCommand(code: 0x0C, target: 4).slotsToFree.isEmpty)
        #expect(ledFirst.executeCommand(code: 0x03, target: 4).slotsToFree == [4])
        #expect(ledFirst.isMRLOpen(4))
    }

    /// Enable-all turns the power LED of MRL-open slots off through the slot command, so on 8.0 an empty slot
    /// whose LED the guest had lit goes "off" again (and is reported); 7.2 only frees on a disable command.
    @Test(arguments: styles) func enableAllReachesOffThroughSlotCommand(style: Style) {
        var shpc = SHPCController(style: style)
        _ = shpc.executeCommand(code: 0x04, target: 5)
        #expect(!shpc.isOff(5))
        let outcome = shpc.executeCommand(code: 0x49, target: 0)
        #expect(outcome.slotsToFree == (style == .qemu8 ? [5] : []))
        #expect(shpc.isOff(5))
    }

    /// Linux shpchp enable sequence: power-only, enabled + blink + attention off, then power LED on.
    @Test func linuxEnableSequenceTurnsOnOnceOnQEMU8() {
        var shpc = SHPCController(style: .qemu8)
        shpc.hotPlug(slot: 1)
        #expect(shpc.executeCommand(code: 0x01, target: 1).slotTurnedOn == nil)
        #expect(shpc.executeCommand(code: 0x3A, target: 1).slotTurnedOn == nil)
        #expect(shpc.executeCommand(code: 0x04, target: 1) == Outcome(slotsTurnedOn: [1]))
        #expect(shpc.isOn(1))
        #expect(shpc.executeCommand(code: 0x04, target: 1).slotTurnedOn == nil)
        #expect(shpc.executeCommand(code: 0x06, target: 1).slotTurnedOn == nil)
        // Attention on makes it "not on"; attention off again is a new false -> true transition.
        #expect(shpc.executeCommand(code: 0x10, target: 1).slotTurnedOn == nil)
        #expect(!shpc.isOn(1))
        #expect(shpc.executeCommand(code: 0x30, target: 1).slotTurnedOn == 1)
    }

    /// On 7.2 the same sequence stays power-only (the ignored transition), so the slot never counts as "on";
    /// disabled -> enabled with the attention LED set off does.
    @Test func onTransitionOnQEMU7() {
        var shpc = SHPCController(style: .qemu7)
        shpc.hotPlug(slot: 1)
        #expect(shpc.executeCommand(code: 0x01, target: 1).slotTurnedOn == nil)
        #expect(shpc.executeCommand(code: 0x3A, target: 1).slotTurnedOn == nil)
        #expect(shpc.executeCommand(code: 0x04, target: 1).slotTurnedOn == nil)
        #expect(shpc.slotState(1) == .powerOnly)

        var direct = SHPCController(style: .qemu7)
        direct.hotPlug(slot: 2)
        #expect(direct.executeCommand(code: 0x06, target: 2).slotTurnedOn == nil)
        _ = direct.executeCommand(code: 0x0F, target: 2)
        direct.hotPlug(slot: 2)
        #expect(direct.executeCommand(code: 0x36, target: 2).slotTurnedOn == 2)
        #expect(direct.executeCommand(code: 0x36, target: 2).slotTurnedOn == nil)
    }

    @Test func outcomeSlotTurnedOnSetterReplacesTheList() {
        var outcome = Outcome(slotsTurnedOn: [3, 31])
        outcome.slotTurnedOn = 7
        #expect(outcome.slotsTurnedOn == [7])
        outcome.slotTurnedOn = nil
        #expect(outcome.slotsTurnedOn.isEmpty)
    }

    // MARK: Latches, masks, interrupts

    /// c1: the guest clears latches by writing the bits back (RW1C); the status word is read-only.
    @Test(arguments: styles) func eventLatchIsRW1CAndStatusIsReadOnly(style: Style) {
        var shpc = SHPCController(style: style)
        shpc.hotPlug(slot: 1)
        #expect(shpc.write(offset: 0x26, size: 1, value: 0x04) == nil)
        #expect(shpc.eventLatch(1) == 0x09)
        _ = shpc.write(offset: 0x26, size: 1, value: 0x00)
        #expect(shpc.eventLatch(1) == 0x09)
        _ = shpc.write(offset: 0x24, size: 2, value: 0x0000)
        _ = shpc.write(offset: 0x24, size: 2, value: 0xFFFF)
        #expect(shpc.slotStatus(1) == UInt16(Self.emptyStatus(style) & 0xFF))
        _ = shpc.write(offset: 0x24, size: 4, value: 0x7FFF_FFFF)
        #expect(Self.slotDword(shpc, 1) == 0x7F00_0000 | (Self.emptyStatus(style) & 0xFF))
    }

    @Test(arguments: styles) func eventMaskIsWritableSevenBits(style: Style) {
        var shpc = SHPCController(style: style)
        _ = shpc.write(offset: 0x27, size: 1, value: 0x00)
        #expect(shpc.eventMask(1) == 0)
        #expect(shpc.read(offset: 0x24, size: 4) == Self.emptyStatus(style))
        _ = shpc.write(offset: 0x27, size: 1, value: 0xFF)
        #expect(shpc.eventMask(1) == 0x7F)
        _ = shpc.write(offset: 0x9F, size: 1, value: 0x5A)
        #expect(shpc.eventMask(31) == 0x5A)
        #expect(shpc.eventMask(30) == 0x7F)
    }

    @Test(arguments: styles) func interruptLocatorSlotBits(style: Style) {
        var shpc = SHPCController(style: style)
        shpc.hotPlug(slot: 3)
        #expect(shpc.interruptLocator == 0)
        _ = shpc.write(offset: Self.slotOffset(3) + 3, size: 1, value: 0x7B)
        #expect(shpc.interruptLocator == 1 << 3)
        #expect(shpc.read(offset: 0x18, size: 4) == 1 << 3)
        #expect(shpc.read(offset: 0x18, size: 1) == 1 << 3)
        #expect(!shpc.interruptAsserted)
        _ = shpc.write(offset: 0x20, size: 1, value: 0x0E)
        #expect(shpc.interruptAsserted)
        _ = shpc.write(offset: Self.slotOffset(3) + 2, size: 1, value: 0x04)
        #expect(shpc.interruptLocator == 0)
        #expect(!shpc.interruptAsserted)
        shpc.hotPlug(slot: 31)
        _ = shpc.write(offset: Self.slotOffset(31) + 3, size: 1, value: 0x00)
        #expect(shpc.interruptLocator == 1 << 31)
        #expect(shpc.read(offset: 0x1B, size: 1) == 0x80)
    }

    @Test(arguments: styles) func interruptLocatorCommandBit(style: Style) {
        var shpc = SHPCController(style: style)
        _ = shpc.executeCommand(code: 0x40, target: 0)
        #expect(shpc.interruptLocator == 0)
        _ = shpc.write(offset: 0x20, size: 1, value: 0x0B)
        #expect(shpc.interruptLocator == 1)
        #expect(!shpc.interruptAsserted)
        _ = shpc.write(offset: 0x20, size: 1, value: 0x0A)
        #expect(shpc.interruptAsserted)
        _ = shpc.write(offset: 0x20, size: 4, value: 0x1_000A)
        #expect(shpc.interruptLocator == 0)
        #expect(!shpc.interruptAsserted)
    }

    @Test(arguments: styles) func notificationsCountRisingEdges(style: Style) {
        var shpc = SHPCController(style: style)
        _ = shpc.write(offset: 0x20, size: 1, value: 0x0A)
        #expect(shpc.notificationCount == 0)
        _ = shpc.executeCommand(code: 0x40, target: 0)
        #expect(shpc.notificationCount == 1)
        _ = shpc.executeCommand(code: 0x40, target: 0)
        #expect(shpc.notificationCount == 1)
        _ = shpc.write(offset: 0x22, size: 1, value: 0x01)
        #expect(!shpc.interruptAsserted)
        _ = shpc.write(offset: 0x14, size: 2, value: 0x0040)
        #expect(shpc.notificationCount == 2)
        _ = shpc.write(offset: 0x22, size: 1, value: 0x01)
        _ = shpc.write(offset: Self.slotOffset(6) + 3, size: 1, value: 0x00)
        shpc.hotPlug(slot: 6)
        #expect(shpc.notificationCount == 3)
        #expect(shpc.unplugRequest(slot: 6) == .freeNow)
        _ = shpc.write(offset: Self.slotOffset(6) + 2, size: 1, value: 0xFF)
        shpc.slotFreed(slot: 6)
        #expect(shpc.notificationCount == 4)
        shpc.reset(populatedSlots: [])
        #expect(shpc.notificationCount == 4)
        #expect(!shpc.interruptAsserted)
    }

    // MARK: Access granularity

    @Test(arguments: styles) func readGranularity(style: Style) {
        let shpc = SHPCController(style: style)
        #expect(shpc.read(offset: 0x0C, size: 1) == 0x1F)
        #expect(shpc.read(offset: 0x0D, size: 1) == 0x01)
        #expect(shpc.read(offset: 0x0E, size: 2) == 0xE001)
        #expect(shpc.read(offset: 0x0F, size: 1) == 0xE0)
        #expect(shpc.read(offset: 0x0D, size: 2) == 0x0101)
        #expect(shpc.read(offset: 0x13, size: 1) == 0x01)
        #expect(shpc.read(offset: 0x24, size: 2) == Self.emptyStatus(style))
        #expect(shpc.read(offset: 0x27, size: 1) == 0x7F)
        #expect(shpc.read(offset: 0x9E, size: 4) == 0x7F00)
        #expect(shpc.read(offset: 0xA0, size: 4) == 0)
        #expect(shpc.read(offset: 0xFC, size: 4) == 0)
        #expect(shpc.read(offset: -1, size: 1) == 0)
        #expect(shpc.read(offset: 0x0C, size: 8) == 0)
    }

    @Test(arguments: styles) func writeGranularity(style: Style) {
        var shpc = SHPCController(style: style)
        shpc.hotPlug(slot: 1)
        // A dword write at 0x14 executes; the status half is read-only.
        #expect(shpc.write(offset: 0x14, size: 4, value: 0xFFFF_0105) != nil)
        #expect(shpc.read(offset: 0x14, size: 4) == 0x0105)
        #expect(shpc.slotState(1) == .powerOnly)
        // A byte write of the code alone executes with the stored target...
        #expect(shpc.write(offset: 0x14, size: 1, value: 0x04)?.invalidCommand == false)
        // ...and so does a byte write of the target alone, with the stored code.
        _ = shpc.executeCommand(code: 0x3A, target: 0)
        #expect(shpc.write(offset: 0x15, size: 1, value: 0x01)?.invalidCommand == false)
        #expect(shpc.powerLED(1) == .blinking)
        // A dword write at 0x12 overlaps 0x14-0x15; 0x12-0x13 are read-only.
        #expect(shpc.write(offset: 0x12, size: 4, value: 0x0108_FFFF)?.invalidCommand == false)
        #expect(shpc.read(offset: 0x10, size: 4) == 0x0100_0000)
        // Writes that miss 0x14-0x15 execute nothing.
        #expect(shpc.write(offset: 0x16, size: 2, value: 0xFFFF) == nil)
        #expect(shpc.write(offset: 0x10, size: 4, value: 0xFFFF_FFFF) == nil)
        #expect(shpc.read(offset: 0x10, size: 4) == 0x0100_0000)
        #expect(shpc.write(offset: 0x00, size: 4, value: 0xFFFF_FFFF) == nil)
        #expect(shpc.read(offset: 0x00, size: 4) == 0)
        // Outside the register file nothing happens; a write straddling its end keeps the inside part.
        let before = shpc
        #expect(shpc.write(offset: 0xA0, size: 4, value: 0xFFFF_FFFF) == nil)
        #expect(shpc.write(offset: -2, size: 4, value: 0xFFFF_FFFF) == nil)
        #expect(shpc.write(offset: 0x14, size: 8, value: 0x0106) == nil)
        #expect(shpc == before)
        _ = shpc.write(offset: 0x9F, size: 4, value: 0xFFFF_FF00)
        #expect(shpc.eventMask(31) == 0)
    }

    /// c2: QEMU 7.2's broken capability window writes slot 9's dword (`0x7f000d0f`) to dword 5: the command
    /// half takes code `0x0f` target 13, the status half stays, and 0x14 then reads `0xd0f`.
    @Test func slotDwordWrittenToCommandRegister() {
        var shpc = SHPCController(style: .qemu7)
        let slot9 = shpc.read(offset: 0x44, size: 4)
        #expect(slot9 == 0x7F00_0D0F)
        #expect(shpc.write(offset: 0x14, size: 4, value: slot9) == Outcome())
        #expect(shpc.read(offset: 0x14, size: 4) == 0xD0F)
    }

    // MARK: Oracle replay

    /// The register traffic of `c1_shpc_flow` (QEMU 7.2, pci-bridge pb1), MMIO accesses and QMP-driven events
    /// in transcript order, with every value the guest read.
    @Test func replayC1SHPCFlow() {
        var shpc = SHPCController(style: .qemu7)
        // seq 9-20: capability registers and slot 1 after reset.
        let header: [(Int, UInt32)] = [
            (0x00, 0), (0x00, 0), (0x04, 0x1F), (0x08, 0), (0x0C, 0xE001_011F), (0x10, 0x0100_0000),
            (0x14, 0), (0x18, 0), (0x1C, 0), (0x20, 0xF), (0x24, 0x7F00_0D0F),
        ]
        for (offset, value) in header { #expect(shpc.read(offset: offset, size: 4) == value) }
        // seq 22-28: device_add s1 addr=1.
        shpc.hotPlug(slot: 1)
        #expect(shpc.read(offset: 0x24, size: 4) == 0x7F0D_000F)
        #expect(shpc.read(offset: 0x18, size: 4) == 0)
        #expect(shpc.read(offset: 0x26, size: 1) == 0xD)
        #expect(shpc.write(offset: 0x26, size: 1, value: 0xD) == nil)
        // seq 30-32: enable + power LED on.
        #expect(shpc.write(offset: 0x14, size: 2, value: 0x106) == Outcome())
        #expect(shpc.read(offset: 0x16, size: 2) == 0)
        #expect(shpc.read(offset: 0x24, size: 4) == 0x7F00_0006)
        // seq 34-40: device_del twice: BUTTON each time.
        #expect(shpc.unplugRequest(slot: 1) == .buttonPressed)
        #expect(shpc.read(offset: 0x24, size: 4) == 0x7F04_0006)
        #expect(shpc.unplugRequest(slot: 1) == .buttonPressed)
        #expect(shpc.read(offset: 0x26, size: 1) == 0x4)
        _ = shpc.write(offset: 0x26, size: 1, value: 0x4)
        // seq 42-48: power LED blink; device_del still answers {} and latches BUTTON on 7.2.
        #expect(shpc.write(offset: 0x14, size: 2, value: 0x108) == Outcome())
        #expect(shpc.read(offset: 0x16, size: 2) == 0)
        #expect(shpc.unplugRequest(slot: 1) == .buttonPressed)
        #expect(shpc.read(offset: 0x24, size: 4) == 0x7F04_000A)
        #expect(shpc.read(offset: 0x26, size: 1) == 0x4)
        _ = shpc.write(offset: 0x26, size: 1, value: 0x4)
        // seq 49-55: disable + LED off -> s1 freed (DEVICE_DELETED), slot empty, latch PRESENCE|MRL.
        #expect(shpc.write(offset: 0x14, size: 2, value: 0x10F) == Outcome(slotsToFree: [1]))
        #expect(shpc.read(offset: 0x16, size: 2) == 0)
        #expect(shpc.read(offset: 0x24, size: 4) == 0x7F09_0D0F)
        #expect(shpc.read(offset: 0x26, size: 1) == 0x9)
        _ = shpc.write(offset: 0x26, size: 1, value: 0x9)
        // seq 58-65: device_add s2 addr=2, device_del while disabled + LED off: immediate unplug.
        shpc.hotPlug(slot: 2)
        #expect(shpc.read(offset: 0x28, size: 4) == 0x7F0D_000F)
        #expect(shpc.unplugRequest(slot: 2) == .freeNow)
        shpc.slotFreed(slot: 2)
        #expect(shpc.read(offset: 0x28, size: 4) == 0x7F0D_0D0F)
        // seq 67-75: device_add s3 addr=3 and s31 addr=0x1f, enable all.
        shpc.hotPlug(slot: 3)
        shpc.hotPlug(slot: 31)
        #expect(shpc.write(offset: 0x14, size: 2, value: 0x49) == Outcome())
        #expect(shpc.read(offset: 0x16, size: 2) == 0)
        #expect(shpc.read(offset: 0x2C, size: 4) == 0x7F0D_0006)
        #expect(shpc.read(offset: 0x9C, size: 4) == 0x7F0D_0006)
        #expect(shpc.read(offset: 0x30, size: 4) == 0x7F00_0D0F)
        // seq 76-81: device_del s31, guest acks and disables slot 31 -> s31 freed.
        #expect(shpc.unplugRequest(slot: 31) == .buttonPressed)
        #expect(shpc.read(offset: 0x9E, size: 1) == 0xD)
        _ = shpc.write(offset: 0x9E, size: 1, value: 0xD)
        #expect(shpc.write(offset: 0x14, size: 2, value: 0x1F0F) == Outcome(slotsToFree: [31]))
        #expect(shpc.read(offset: 0x16, size: 2) == 0)
        // seq 84-90: invalid commands: target 0, enabled -> power-only, unknown code.
        #expect(shpc.write(offset: 0x14, size: 2, value: 0x6)?.invalidCommand == true)
        #expect(shpc.read(offset: 0x16, size: 2) == 0x4)
        #expect(shpc.write(offset: 0x14, size: 2, value: 0x301)?.invalidCommand == true)
        #expect(shpc.read(offset: 0x16, size: 2) == 0x4)
        #expect(shpc.write(offset: 0x14, size: 2, value: 0x4A)?.invalidCommand == true)
        #expect(shpc.read(offset: 0x16, size: 2) == 0x4)
        #expect(shpc.read(offset: 0x20, size: 4) == 0x1_000F)
        // All hotplug interrupts stay masked throughout (no IRQ line in the transcript).
        #expect(shpc.notificationCount == 0)
    }
}
