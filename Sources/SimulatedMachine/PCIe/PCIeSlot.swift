/// The slot registers of the PCI Express capability of one hotplug-capable downstream port (pcie-root-port,
/// xio3130-downstream), behaving as QEMU's `hw/pci/pcie.c` does (`pcie_cap_slot_*`).
///
/// The registers are the only state besides QEMU's interrupt level (`hpev_notified`): every view is derived
/// from the raw values. The type knows nothing about devices except the "function 0 present" facts its
/// callers pass in; it never fails (QMP error checks such as HPC, EIS and a blinking power indicator belong to
/// the caller, which reads them from here).
public struct PCIeSlot: Sendable, Equatable {
    /// Slot Capabilities (capability + 0x14), read-only: filled once by `pcie_cap_slot_init`.
    public private(set) var slotCapabilities: UInt32
    /// Slot Control (capability + 0x18) as the guest reads it (EIC always reads 0).
    public private(set) var slotControl: UInt16
    /// Slot Status (capability + 0x1a).
    public private(set) var slotStatus: UInt16
    /// The port's Link Status (capability + 0x12): ``LinkStatus/linkDown`` while empty, ``LinkStatus/linkUp``
    /// (DLLLA set) while populated.
    public private(set) var linkStatus: UInt16
    /// QEMU's `hpev_notified` level, as `hotplug_event_update_event_status` computes it:
    /// HPIE && (Slot Status & Slot Control & {ABP, PDC, CC}) != 0. It is recomputed where QEMU recomputes it,
    /// so it can be stale where QEMU's is (after ``detachNow()`` clears ABP).
    public private(set) var interruptAsserted: Bool
    /// How many times ``interruptAsserted`` went from false to true in `hotplug_event_notify`, i.e. how many
    /// hot-plug interrupts (MSI, or INTx assertions) a guest driver would have received.
    ///
    /// With MSI/MSI-X QEMU also sends a message when the level falls inside `hotplug_event_notify` (a Slot
    /// Control write that masks pending events); those are not counted here.
    public private(set) var notificationCount: Int

    /// Makes the registers as `pcie_cap_slot_init` leaves them, before the machine's first reset: Slot Control
    /// `0x3c0` (indicators off, power controller on), Slot Status 0, link down.
    /// - Parameters:
    ///   - hotplug: the port's `hotplug` property; when false Slot Capabilities lacks HPS and HPC.
    ///   - powerControllerPresent: the port's `power_controller_present` property (PCP, and PCC writable).
    ///   - physicalSlotNumber: the port's `slot` property (PSN; only its low 13 bits fit the field).
    public init(hotplug: Bool, powerControllerPresent: Bool = true, physicalSlotNumber: UInt32) {
        var capabilities =
            SlotCapabilities.attentionButtonPresent | SlotCapabilities.attentionIndicatorPresent
            | SlotCapabilities.powerIndicatorPresent | SlotCapabilities.electromechanicalInterlockPresent
            | (physicalSlotNumber << SlotCapabilities.physicalSlotNumberShift)
        if hotplug {
            capabilities |= SlotCapabilities.hotPlugSurprise | SlotCapabilities.hotPlugCapable
        }
        if powerControllerPresent {
            capabilities |= SlotCapabilities.powerControllerPresent
        }
        slotCapabilities = capabilities
        slotControl = SlotControl.powerIndicatorOff | SlotControl.attentionIndicatorOff
        slotStatus = 0
        linkStatus = LinkStatus.linkDown
        interruptAsserted = false
        notificationCount = 0
    }

    // MARK: - Machine-side actions

    /// Resets the slot as `pcie_cap_slot_reset` does: clears EIC, the indicators and the interrupt enables,
    /// sets the attention indicator off; with a power controller, powers a populated slot on (indicator on for
    /// `.qemu7`, left off for `.qemu8`) and an empty one off (indicator off: `0x7c0`); clears EIS, CC, PDC and
    /// ABP and keeps PDS. The interrupt level is recomputed (it drops, HPIE being clear) without a notification.
    /// - Parameters:
    ///   - functionZeroPresent: whether a device sits at devfn 0 of the port's secondary bus.
    ///   - style: which release's reset to reproduce.
    public mutating func reset(functionZeroPresent: Bool, style: ResetStyle) {
        slotControl &=
            ~(SlotControl.electromechanicalInterlockControl | SlotControl.powerIndicatorMask
            | SlotControl.attentionIndicatorMask | SlotControl.hotPlugInterruptEnable
            | SlotControl.commandCompletedInterruptEnable | SlotControl.presenceDetectChangedEnable
            | SlotControl.attentionButtonPressedEnable)
        switch style {
        case .qemu7: slotControl |= SlotControl.attentionIndicatorOff
        case .qemu8: slotControl |= SlotControl.attentionIndicatorOff | SlotControl.powerIndicatorOff
        }
        if hasPowerController {
            if functionZeroPresent {
                slotControl &= ~SlotControl.powerControllerOff
                slotControl |= SlotControl.powerIndicatorOn
            } else {
                slotControl |= SlotControl.powerControllerOff | SlotControl.powerIndicatorOff
            }
        }
        slotStatus &=
            ~(SlotStatus.electromechanicalInterlockStatus | SlotStatus.commandCompleted
            | SlotStatus.presenceDetectChanged | SlotStatus.attentionButtonPressed)
        interruptAsserted = interruptLevel
    }

    /// A device plugged while the machine is created (`pcie_cap_slot_plug_cb` with `hotplugged` false): sets PDS
    /// and brings the link up (DLLLA). No event is raised.
    public mutating func coldPlug() {
        setPresent()
    }

    /// A hot-plugged function 0, or any function while function 0 is present (`pcie_cap_slot_plug_cb`): sets
    /// PDS, brings the link up and raises PDC and ABP together (`pcie_cap_slot_event`: one notification, and
    /// none if both were already set).
    public mutating func hotPlug() {
        setPresent()
        raiseEvent(SlotStatus.presenceDetectChanged | SlotStatus.attentionButtonPressed)
    }

    /// An ACPI hot-add into the port (`pcie_cap_slot_enable_power`): with a power controller, PCC is cleared
    /// (power on); indicators, presence and events are left alone (`acpi-hotplug.md` §2).
    public mutating func enablePower() {
        guard hasPowerController else { return }
        slotControl &= ~SlotControl.powerControllerOff
    }

    /// `device_del` on a slot that is not powered off: QEMU "presses the attention button"
    /// (`pcie_cap_slot_push_attention_button`): raises ABP, notifying only if ABP was clear.
    public mutating func pressAttentionButton() {
        raiseEvent(SlotStatus.attentionButtonPressed)
    }

    /// The immediate detach of `device_del` on a powered-off slot (`pcie_cap_slot_unplug_request_cb`):
    /// `pcie_cap_slot_do_unplug` (clear PDS, link down, set PDC), `hotplug_event_notify`, then ABP is cleared
    /// without recomputing the interrupt level. The caller removes the devices.
    public mutating func detachNow() {
        detachRegisters()
        notify()
        slotStatus &= ~SlotStatus.attentionButtonPressed
    }

    // MARK: - Guest config writes

    /// A guest config write of `value` to Slot Control, as the root port's config write handler runs it: the
    /// generic write through the writable mask (PCC only with a power controller; PFDE, MRLSCE and DLLSCE are
    /// read-only), then `pcie_cap_slot_write_config`: EIC is cleared and toggles EIS; the v8 X_DEVICE_ON check
    /// (PDS && powered-on(`value`) && !powered-on(old)); the detach rule (PDS && powered-off(`value`) &&
    /// !powered-off(old): clear PDS, link down, set PDC); `hotplug_event_notify`; then CC is raised.
    ///
    /// As in QEMU both predicates look at the value as written, not at the masked register.
    /// - Parameter value: the 16-bit value the guest wrote.
    /// - Returns: whether the caller must emit X_DEVICE_ON and whether it must unplug the slot's devices.
    @discardableResult
    public mutating func writeSlotControl(_ value: UInt16) -> SlotControlOutcome {
        let old = slotControl
        let writable = SlotControl.writableMask(powerControllerPresent: hasPowerController)
        slotControl = (old & ~writable) | (value & writable)

        if slotControl & SlotControl.electromechanicalInterlockControl != 0 {
            slotControl &= ~SlotControl.electromechanicalInterlockControl
            slotStatus ^= SlotStatus.electromechanicalInterlockStatus
        }
        let turnedOn = isPresent && SlotControl.isPoweredOn(value) && !SlotControl.isPoweredOn(old)
        let detach = isPresent && SlotControl.isPoweredOff(value) && !SlotControl.isPoweredOff(old)
        if detach {
            detachRegisters()
        }
        notify()
        raiseEvent(SlotStatus.commandCompleted)
        return SlotControlOutcome(turnedOn: turnedOn, detach: detach)
    }

    /// A guest config write of `value` to Slot Status: write-1-to-clear of ABP, PDC and CC (the other bits are
    /// read-only), then `pcie_cap_slot_write_config`'s restore quirk: if the value has an event bit (ABP, PFD,
    /// MRLSC, PDC, CC) that was not set before the write, every event bit gets its pre-write value back.
    /// Finally `hotplug_event_clear` recomputes the interrupt level (it never notifies).
    /// - Parameter value: the 16-bit value the guest wrote.
    public mutating func writeSlotStatus(_ value: UInt16) {
        let old = slotStatus
        slotStatus = old & ~(value & SlotStatus.supportedEvents)
        if value & ~old & SlotStatus.slotEvents != 0 {
            slotStatus = (slotStatus & ~SlotStatus.slotEvents) | (old & SlotStatus.slotEvents)
        }
        interruptAsserted = interruptLevel
    }

    // MARK: - Derived views

    /// Slot Capabilities HPC: the port accepts native hot-plug (`hotplug=on`).
    public var isHotplugCapable: Bool { slotCapabilities & SlotCapabilities.hotPlugCapable != 0 }
    /// Slot Capabilities PCP: the port has a power controller.
    public var hasPowerController: Bool { slotCapabilities & SlotCapabilities.powerControllerPresent != 0 }
    /// Slot Capabilities PSN: the port's `slot` property.
    public var physicalSlotNumber: UInt32 {
        (slotCapabilities & SlotCapabilities.physicalSlotNumberMask) >> SlotCapabilities.physicalSlotNumberShift
    }
    /// Slot Status PDS: the slot is populated (as far as the guest is told).
    public var isPresent: Bool { slotStatus & SlotStatus.presenceDetectState != 0 }
    /// Slot Status EIS: the electromechanical interlock is engaged (device_add and device_del are refused).
    public var isInterlockEngaged: Bool { slotStatus & SlotStatus.electromechanicalInterlockStatus != 0 }
    /// Slot Control PIC is "blink": the guest is between a button press and its action (device_del refused).
    public var isPowerIndicatorBlinking: Bool {
        slotControl & SlotControl.powerIndicatorMask == SlotControl.powerIndicatorBlinking
    }
    /// QEMU's `pcie_sltctl_powered_off` on the current Slot Control: PCC off and PIC off.
    public var isPoweredOff: Bool { SlotControl.isPoweredOff(slotControl) }
    /// The v8 `pcie_sltctl_powered_on` on the current Slot Control: PCC on, PIC on and AIC off.
    public var isOn: Bool { SlotControl.isPoweredOn(slotControl) }
    /// The v8 `power-on` field: Slot Control PCC reads 0 (always true without a power controller). This is
    /// also `pcie_cap_update_power`'s answer to "are the slot's devices powered".
    public var powerOn: Bool { slotControl & SlotControl.powerControllerOff == 0 }
    /// The v8 `power-led` field, from Slot Control PIC; nil for the reserved `00` encoding.
    public var powerLED: LedStatus? { SlotControl.powerIndicator(slotControl) }
    /// The v8 `attention-led` field, from Slot Control AIC; nil for the reserved `00` encoding.
    public var attentionLED: LedStatus? { SlotControl.attentionIndicator(slotControl) }

    // MARK: - QEMU internals

    /// `hotplug_event_update_event_status`: the level the registers call for.
    private var interruptLevel: Bool {
        slotControl & SlotControl.hotPlugInterruptEnable != 0
            && slotStatus & slotControl & SlotStatus.supportedEvents != 0
    }

    /// Sets the negotiated link speed and width the port reports while populated: an express endpoint's
    /// (x1 at 2.5 GT/s, ``LinkStatus/linkUp``), or, for a conventional PCI function at devfn 0, the port's
    /// own values with DLLLA set (`0x2204`, as QEMU 7.2 shows for pci-testdev). Only while present.
    public mutating func setEndpointLink(express: Bool) {
        guard isPresent else { return }
        linkStatus = express ? LinkStatus.linkUp : LinkStatus.linkDown | LinkStatus.dataLinkLayerLinkActive
    }

    /// Sets PDS and DLLLA, with the endpoint's link speed and width.
    private mutating func setPresent() {
        slotStatus |= SlotStatus.presenceDetectState
        linkStatus = LinkStatus.linkUp
    }

    /// The register part of `pcie_cap_slot_do_unplug`: clear PDS, link down (DLLLA clear), set PDC.
    private mutating func detachRegisters() {
        slotStatus &= ~SlotStatus.presenceDetectState
        linkStatus = LinkStatus.linkDown
        slotStatus |= SlotStatus.presenceDetectChanged
    }

    /// `pcie_cap_slot_event`: sets the event bits; if all of them were already set nothing more happens,
    /// otherwise `hotplug_event_notify`.
    private mutating func raiseEvent(_ events: UInt16) {
        let wasSet = slotStatus & events
        slotStatus |= events
        if wasSet != events {
            notify()
        }
    }

    /// `hotplug_event_notify`: recomputes the level and counts a rising edge as one interrupt.
    private mutating func notify() {
        let previous = interruptAsserted
        interruptAsserted = interruptLevel
        if !previous && interruptAsserted {
            notificationCount += 1
        }
    }
}
