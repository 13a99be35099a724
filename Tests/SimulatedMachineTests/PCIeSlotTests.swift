import SimulatedMachine
import Testing

/// Register-level rules of `PCIeSlot`, checked against the values real QEMU showed (oracle transcripts
/// b1/b2/b3 and findings.md) and against `hw/pci/pcie.c`.
@Suite struct PCIeSlotTests {
    typealias Control = PCIeSlot.SlotControl
    typealias Status = PCIeSlot.SlotStatus

    /// ABPE | PDCE | CCIE | HPIE: everything a pciehp driver enables.
    static let allEnables: UInt16 = 0x0039
    /// HPIE | PDCE | ABPE, without CCIE.
    static let eventEnables: UInt16 = 0x0029

    /// rp1 of the oracle: chassis 1, slot 1, hotplug on, power controller, reset empty.
    static func emptySlot(style: PCIeSlot.ResetStyle = .qemu7) -> PCIeSlot {
        var slot = PCIeSlot(hotplug: true, physicalSlotNumber: 1)
        slot.reset(functionZeroPresent: false, style: style)
        return slot
    }

    /// An empty slot after reset whose guest enabled `enables` (and, as that write sets CC, acked CC).
    static func armedSlot(enables: UInt16) -> PCIeSlot {
        var slot = emptySlot()
        slot.writeSlotControl(0x07c0 | enables)
        slot.writeSlotStatus(Status.commandCompleted)
        return slot
    }

    // MARK: - Capabilities

    @Test func capabilitiesWithHotplugMatchRp1() {
        let slot = PCIeSlot(hotplug: true, physicalSlotNumber: 1)
        #expect(slot.slotCapabilities == 0x000a_007b)
        #expect(slot.isHotplugCapable)
        #expect(slot.hasPowerController)
        #expect(slot.physicalSlotNumber == 1)
    }

    @Test func capabilitiesWithoutHotplugMatchRp3() {
        let slot = PCIeSlot(hotplug: false, physicalSlotNumber: 3)
        #expect(slot.slotCapabilities == 0x001a_001b)
        #expect(!slot.isHotplugCapable)
        #expect(slot.physicalSlotNumber == 3)
    }

    @Test func capabilitiesWithoutPowerControllerLackPCP() {
        let slot = PCIeSlot(hotplug: true, powerControllerPresent: false, physicalSlotNumber: 1)
        #expect(slot.slotCapabilities == 0x000a_0079)
        #expect(!slot.hasPowerController)
    }

    @Test func physicalSlotNumberKeepsThirteenBits() {
        let slot = PCIeSlot(hotplug: true, physicalSlotNumber: 0x1fff)
        #expect(slot.slotCapabilities == 0xfffa_007b)
        #expect(slot.physicalSlotNumber == 0x1fff)
    }

    // MARK: - Reset

    @Test func initialStateBeforeReset() {
        let slot = PCIeSlot(hotplug: true, physicalSlotNumber: 1)
        #expect(slot.slotControl == 0x03c0)
        #expect(slot.slotStatus == 0)
        #expect(slot.linkStatus == 0x0204)
        #expect(!slot.interruptAsserted)
        #expect(slot.notificationCount == 0)
    }

    @Test(arguments: [PCIeSlot.ResetStyle.qemu7, .qemu8])
    func resetEmptySlotIsPoweredOff(style: PCIeSlot.ResetStyle) {
        let slot = Self.emptySlot(style: style)
        #expect(slot.slotControl == 0x07c0)
        #expect(slot.slotStatus == 0)
        #expect(slot.linkStatus == 0x0204)
        #expect(slot.isPoweredOff)
        #expect(!slot.powerOn)
    }

    @Test func resetPopulatedSlotQemu7KeepsPowerIndicatorOn() {
        var slot = PCIeSlot(hotplug: true, physicalSlotNumber: 4)
        slot.coldPlug()
        slot.reset(functionZeroPresent: true, style: .qemu7)
        #expect(slot.slotControl == 0x01c0)
        #expect(slot.slotStatus == 0x0040)
        #expect(slot.linkStatus == 0x2011)
        #expect(slot.isOn)
    }

    @Test func resetPopulatedSlotQemu8LeavesPowerIndicatorOff() {
        var slot = PCIeSlot(hotplug: true, physicalSlotNumber: 4)
        slot.coldPlug()
        slot.reset(functionZeroPresent: true, style: .qemu8)
        #expect(slot.slotControl == 0x03c0)
        #expect(slot.slotStatus == 0x0040)
        #expect(slot.powerOn)
        #expect(!slot.isOn)
        #expect(!slot.isPoweredOff)
    }

    @Test func resetWithoutPowerControllerLeavesPCCAndQemu7PICReserved() {
        var slot = PCIeSlot(hotplug: true, powerControllerPresent: false, physicalSlotNumber: 1)
        slot.reset(functionZeroPresent: false, style: .qemu7)
        #expect(slot.slotControl == 0x00c0)
        #expect(slot.powerLED == nil)
        #expect(slot.powerOn)
        slot.reset(functionZeroPresent: false, style: .qemu8)
        #expect(slot.slotControl == 0x03c0)
        #expect(slot.powerLED == .off)
    }

    @Test func resetClearsEventsInterlockAndEnablesButKeepsPresence() {
        var slot = Self.armedSlot(enables: Self.allEnables)
        slot.hotPlug()
        slot.writeSlotControl(0x09c0 | Self.allEnables)  // EIC: engage the interlock
        #expect(slot.slotStatus == 0x00d9)
        #expect(slot.interruptAsserted)
        slot.reset(functionZeroPresent: true, style: .qemu7)
        #expect(slot.slotStatus == 0x0040)
        #expect(slot.slotControl == 0x01c0)
        #expect(slot.linkStatus == 0x2011)
        #expect(!slot.interruptAsserted)
        #expect(!slot.isInterlockEngaged)
    }

    // MARK: - Plug events

    @Test func coldPlugSetsPresenceWithoutEvents() {
        var slot = Self.armedSlot(enables: Self.eventEnables)
        slot.coldPlug()
        #expect(slot.slotStatus == 0x0040)
        #expect(slot.linkStatus == 0x2011)
        #expect(slot.notificationCount == 0)
        #expect(!slot.interruptAsserted)
    }

    @Test func hotPlugRaisesPDCAndABPWithOneNotification() {
        var slot = Self.armedSlot(enables: Self.eventEnables)
        slot.hotPlug()
        #expect(slot.slotStatus == 0x0049)
        #expect(slot.linkStatus == 0x2011)
        #expect(slot.interruptAsserted)
        #expect(slot.notificationCount == 1)
    }

    @Test func hotPlugWithHPIEClearDoesNotNotify() {
        var slot = Self.armedSlot(enables: Self.eventEnables & ~Control.hotPlugInterruptEnable)
        slot.hotPlug()
        #expect(slot.slotStatus == 0x0049)
        #expect(!slot.interruptAsserted)
        #expect(slot.notificationCount == 0)
    }

    @Test func enablingHPIEWithPendingEventsNotifies() {
        var slot = Self.emptySlot()
        slot.hotPlug()
        #expect(slot.notificationCount == 0)
        slot.writeSlotControl(0x07c0 | Self.eventEnables)
        #expect(slot.interruptAsserted)
        #expect(slot.notificationCount == 1)
    }

    @Test func hotPlugNotifiesWhenOnlyOneOfItsEventsWasAlreadySet() {
        // ABP latched while its enable is off; PDC is new, so pcie_cap_slot_event still notifies.
        var slot = Self.armedSlot(enables: Control.hotPlugInterruptEnable | Control.presenceDetectChangedEnable)
        slot.pressAttentionButton()
        #expect(slot.notificationCount == 0)
        slot.hotPlug()
        #expect(slot.notificationCount == 1)
    }

    @Test func detachNowLeavesTheLevelAsNotifyComputedIt() {
        // Only ABP is enabled: the notify inside detachNow sees ABP and raises the level; ABP is then cleared
        // without a recompute (as in pcie_cap_slot_unplug_request_cb) until the next Slot Status write.
        var slot = Self.armedSlot(enables: Control.hotPlugInterruptEnable | Control.attentionButtonPressedEnable)
        slot.coldPlug()
        slot.pressAttentionButton()
        slot.writeSlotControl(0x07c0 | Control.hotPlugInterruptEnable | Control.attentionButtonPressedEnable)
        slot.writeSlotStatus(Status.commandCompleted)
        #expect(slot.interruptAsserted)
        #expect(slot.notificationCount == 1)
        slot.detachNow()
        #expect(slot.slotStatus == 0x0008)
        #expect(slot.interruptAsserted)
        slot.writeSlotStatus(0)
        #expect(!slot.interruptAsserted)
        #expect(slot.notificationCount == 1)
    }

    // MARK: - Slot Status writes

    @Test func writeOneToClearClearsExactlyTheSetBits() {
        var slot = Self.emptySlot()
        slot.hotPlug()
        slot.writeSlotStatus(0x0009)
        #expect(slot.slotStatus == 0x0040)
    }

    @Test func clearingAnUnsetEventRestoresAllEvents() {
        var slot = Self.emptySlot()
        slot.hotPlug()
        slot.writeSlotStatus(0x0019)  // CC was not set
        #expect(slot.slotStatus == 0x0049)
        slot.writeSlotStatus(0x0003)  // PFD is never set
        #expect(slot.slotStatus == 0x0049)
    }

    @Test func slotStatusReadOnlyBitsIgnoreWrites() {
        var slot = Self.emptySlot()
        slot.hotPlug()
        slot.writeSlotControl(0x0fc0)  // EIC sets EIS; CC raised
        slot.writeSlotStatus(0x0010 | Status.presenceDetectState | Status.electromechanicalInterlockStatus)
        #expect(slot.slotStatus == 0x00c9)
    }

    @Test func acknowledgingDropsTheLevelAndANewEventNotifiesAgain() {
        var slot = Self.armedSlot(enables: Self.eventEnables)
        slot.hotPlug()
        slot.writeSlotStatus(0x0009)
        #expect(!slot.interruptAsserted)
        #expect(slot.notificationCount == 1)
        slot.pressAttentionButton()
        #expect(slot.interruptAsserted)
        #expect(slot.notificationCount == 2)
    }

    // MARK: - Slot Control writes

    @Test func everySlotControlWriteRaisesCommandCompleted() {
        var slot = Self.emptySlot()
        slot.writeSlotControl(0x07c0)
        #expect(slot.slotStatus == Status.commandCompleted)
        slot.writeSlotStatus(Status.commandCompleted)
        #expect(slot.slotStatus == 0)
        slot.writeSlotControl(0x07c0)
        #expect(slot.slotStatus == Status.commandCompleted)
    }

    @Test func commandCompletedNotifiesOnceWhileLatched() {
        var slot = Self.emptySlot()
        slot.writeSlotControl(0x07c0 | Self.allEnables)
        #expect(slot.notificationCount == 1)
        slot.writeSlotControl(0x07c0 | Self.allEnables)
        #expect(slot.notificationCount == 1)
        slot.writeSlotStatus(Status.commandCompleted)
        #expect(!slot.interruptAsserted)
        slot.writeSlotControl(0x07c0 | Self.allEnables)
        #expect(slot.notificationCount == 2)
    }

    @Test func slotControlWriteMask() {
        var slot = Self.emptySlot()
        slot.writeSlotControl(0xffff)
        // PFDE, MRLSCE, DLLSCE and bits 13-15 are read-only; EIC reads back 0.
        #expect(slot.slotControl == 0x07f9)
        var noPower = PCIeSlot(hotplug: true, powerControllerPresent: false, physicalSlotNumber: 1)
        noPower.reset(functionZeroPresent: false, style: .qemu8)
        noPower.writeSlotControl(0x07c0)
        #expect(noPower.slotControl == 0x03c0)
        #expect(noPower.powerOn)
    }

    @Test func interlockControlTogglesStatusAndReadsZero() {
        var slot = Self.emptySlot()
        slot.hotPlug()
        slot.writeSlotStatus(0x0009)
        slot.writeSlotControl(0x01c0)
        slot.writeSlotControl(0x09c0)
        #expect(slot.slotControl == 0x01c0)
        #expect(slot.slotStatus == 0x00d0)
        #expect(slot.isInterlockEngaged)
        slot.writeSlotControl(0x09c0)
        #expect(slot.slotControl == 0x01c0)
        #expect(slot.slotStatus == 0x0050)
        #expect(!slot.isInterlockEngaged)
    }

    @Test func turnedOnOnlyOnTransitionToOnWithPresence() {
        var slot = Self.emptySlot()
        slot.hotPlug()
        // pciehp: power on with the indicator blinking, then indicator on.
        #expect(slot.writeSlotControl(0x02c0) == .init(turnedOn: false, detach: false))
        #expect(slot.writeSlotControl(0x01c0) == .init(turnedOn: true, detach: false))
        #expect(slot.isOn)
        // Rewriting the same value is not a transition.
        #expect(slot.writeSlotControl(0x01c0) == .init(turnedOn: false, detach: false))
        // Attention indicator on: not "on"; back to off: on again.
        #expect(slot.writeSlotControl(0x0140) == .init(turnedOn: false, detach: false))
        #expect(!slot.isOn)
        #expect(slot.writeSlotControl(0x01c0) == .init(turnedOn: true, detach: false))
    }

    @Test func turnedOnNeedsPresence() {
        var slot = Self.emptySlot()
        #expect(slot.writeSlotControl(0x01c0) == .init(turnedOn: false, detach: false))
        #expect(slot.isOn)
    }

    @Test func detachOnTransitionToOffWithPresence() {
        var slot = Self.emptySlot()
        slot.hotPlug()
        slot.writeSlotStatus(0x0009)
        slot.writeSlotControl(0x01c0)
        slot.writeSlotStatus(Status.commandCompleted)
        #expect(slot.writeSlotControl(0x06c0) == .init(turnedOn: false, detach: false))  // PCC off, PIC blink
        #expect(slot.isPresent)
        #expect(slot.writeSlotControl(0x07c0) == .init(turnedOn: false, detach: true))
        #expect(!slot.isPresent)
        #expect(slot.slotStatus == 0x0018)
        #expect(slot.linkStatus == 0x0204)
    }

    @Test func noDetachWhenAlreadyPoweredOff() {
        var slot = Self.emptySlot()
        slot.hotPlug()  // added into the powered-off slot: PDS set, still 0x7c0
        #expect(slot.writeSlotControl(0x07c0) == .init(turnedOn: false, detach: false))
        #expect(slot.isPresent)
        #expect(slot.linkStatus == 0x2011)
    }

    @Test func noDetachWithoutPresence() {
        var slot = Self.emptySlot()
        slot.writeSlotControl(0x01c0)
        #expect(slot.writeSlotControl(0x07c0) == .init(turnedOn: false, detach: false))
        #expect(slot.slotStatus == Status.commandCompleted)
    }

    @Test func detachNotifiesThroughPresenceDetectChanged() {
        var slot = Self.armedSlot(enables: Self.eventEnables)
        slot.hotPlug()
        slot.writeSlotStatus(0x0009)
        slot.writeSlotControl(0x01c0 | Self.eventEnables)
        slot.writeSlotStatus(Status.commandCompleted)
        #expect(slot.notificationCount == 1)
        slot.writeSlotControl(0x07c0 | Self.eventEnables)
        #expect(slot.interruptAsserted)
        #expect(slot.notificationCount == 2)
    }

    // MARK: - device_del

    @Test func detachNowEmptiesThePoweredOffSlot() {
        var slot = Self.emptySlot()
        slot.hotPlug()
        slot.detachNow()  // ABP was still latched: it is cleared too
        #expect(slot.slotStatus == 0x0008)
        #expect(slot.linkStatus == 0x0204)
        #expect(!slot.isPresent)
        #expect(slot.slotControl == 0x07c0)
    }

    @Test func detachNowNotifiesBeforeClearingABP() {
        var slot = Self.armedSlot(enables: Self.eventEnables)
        slot.hotPlug()
        slot.writeSlotStatus(0x0009)
        slot.detachNow()
        #expect(slot.notificationCount == 2)
        #expect(slot.interruptAsserted)
    }

    @Test func attentionButtonDoesNotRenotifyWhileLatched() {
        var slot = Self.armedSlot(enables: Self.eventEnables)
        slot.coldPlug()
        slot.pressAttentionButton()
        #expect(slot.slotStatus == 0x0041)
        #expect(slot.notificationCount == 1)
        slot.pressAttentionButton()
        #expect(slot.notificationCount == 1)
        slot.writeSlotStatus(Status.attentionButtonPressed)
        slot.pressAttentionButton()
        #expect(slot.notificationCount == 2)
    }

    // MARK: - Derived views

    @Test(arguments: [
        (UInt16(0x07c0), LedStatus?.some(.off), LedStatus?.some(.off), false, true, false, false),
        (0x01c0, .on, .off, true, false, true, false),
        (0x02c0, .blinking, .off, false, false, true, true),
        (0x06c0, .blinking, .off, false, false, false, true),
        (0x0140, .on, .on, false, false, true, false),
        (0x0180, .on, .blinking, false, false, true, false),
        (0x05c0, .on, .off, false, false, false, false),
        (0x03c0, .off, .off, false, false, true, false),
    ])
    func derivedViews(
        value: UInt16,
        power: LedStatus?,
        attention: LedStatus?,
        on: Bool,
        off: Bool,
        powerOn: Bool,
        blinking: Bool
    ) {
        var slot = Self.emptySlot()
        slot.writeSlotControl(value)
        #expect(slot.slotControl == value)
        #expect(slot.powerLED == power)
        #expect(slot.attentionLED == attention)
        #expect(slot.isOn == on)
        #expect(slot.isPoweredOff == off)
        #expect(slot.powerOn == powerOn)
        #expect(slot.isPowerIndicatorBlinking == blinking)
    }

    @Test func ledStatusWireSpelling() {
        #expect(LedStatus.allCases.map(\.rawValue) == ["on", "blinking", "off"])
        #expect(Control.attentionIndicator(0x0000) == nil)
        #expect(Control.powerIndicator(0x0000) == nil)
    }

    // MARK: - Oracle replays

    /// b1_pcie_hotplug_flow on QEMU 7.2: every register write and the values read after it.
    @Test func replayB1HotplugFlow() {
        var slot = PCIeSlot(hotplug: true, physicalSlotNumber: 1)
        slot.reset(functionZeroPresent: false, style: .qemu7)
        #expect(slot.slotCapabilities == 0x000a_007b)
        #expect(slot.slotControl == 0x07c0)
        #expect(slot.slotStatus == 0x0000)
        #expect(slot.linkStatus == 0x0204)

        // device_add virtio-rng-pci into rp1
        slot.hotPlug()
        #expect(slot.slotControl == 0x07c0)
        #expect(slot.slotStatus == 0x0049)
        #expect(slot.linkStatus == 0x2011)

        // guest acks ABP|PDC, then power on + indicator on
        slot.writeSlotStatus(0x0009)
        #expect(slot.writeSlotControl(0x01c0) == .init(turnedOn: true, detach: false))
        #expect(slot.slotControl == 0x01c0)
        #expect(slot.slotStatus == 0x0050)
        #expect(slot.linkStatus == 0x2011)
        slot.writeSlotStatus(0x0010)

        // device_del: attention button
        slot.pressAttentionButton()
        #expect(slot.slotControl == 0x01c0)
        #expect(slot.slotStatus == 0x0041)
        #expect(slot.linkStatus == 0x2011)
        // second device_del is refused by the monitor: no register change
        #expect(slot.slotStatus == 0x0041)
        slot.writeSlotStatus(0x0001)

        // guest blinks the power indicator
        #expect(slot.writeSlotControl(0x02c0) == .init(turnedOn: false, detach: false))
        #expect(slot.slotStatus == 0x0050)
        slot.writeSlotStatus(0x0010)

        // guest powers off + indicator off: QEMU unplugs
        #expect(slot.writeSlotControl(0x07c0) == .init(turnedOn: false, detach: true))
        #expect(slot.slotControl == 0x07c0)
        #expect(slot.slotStatus == 0x0018)
        #expect(slot.linkStatus == 0x0204)
        slot.writeSlotStatus(0x0018)

        // re-add into the empty, powered-off slot
        slot.hotPlug()
        #expect(slot.slotControl == 0x07c0)
        #expect(slot.slotStatus == 0x0049)
        #expect(slot.linkStatus == 0x2011)

        // the harness never enables slot interrupts
        #expect(slot.notificationCount == 0)
        #expect(!slot.interruptAsserted)
    }

    /// b2_pcie_del_powered_off on QEMU 7.2: device_del on a slot the guest never powered on.
    @Test func replayB2DeleteOnPoweredOffSlot() {
        var slot = Self.emptySlot()
        slot.hotPlug()
        #expect(slot.slotStatus == 0x0049)
        slot.writeSlotStatus(0x0009)
        #expect(slot.isPoweredOff)
        slot.detachNow()
        #expect(slot.slotControl == 0x07c0)
        #expect(slot.slotStatus == 0x0008)
        #expect(slot.linkStatus == 0x0204)
    }

    /// b3_pcie_errors on QEMU 7.2, rp4: cold-plugged cold1, then x4 hot-added while function 0 is present.
    @Test func replayB3ColdPluggedSlot() {
        var slot = PCIeSlot(hotplug: true, physicalSlotNumber: 4)
        slot.coldPlug()
        slot.reset(functionZeroPresent: true, style: .qemu7)
        slot.hotPlug()
        #expect(slot.slotControl == 0x01c0)
        #expect(slot.slotStatus == 0x0049)
        #expect(slot.linkStatus == 0x2011)
        slot.pressAttentionButton()
        #expect(slot.slotStatus == 0x0049)
        slot.writeSlotStatus(0x0009)
        #expect(slot.writeSlotControl(0x07c0) == .init(turnedOn: false, detach: true))
        #expect(slot.slotStatus == 0x0018)
    }
}
