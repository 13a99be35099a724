import QMPWire

/// The guest's accesses to the ACPI PCI hot-plug block (ACPIPCIHotplug) and what they do to the machine:
/// ejects unplug devices at once, AIDX looks up an `acpi-index`, a reset carries out every pending
/// removal (`acpi-hotplug.md` §4.1, §4.3).
extension Machine {
    /// A guest read at `offset` in the block (reads may have side effects).
    func acpiPCIRead(offset: Int, size: Int) -> UInt32 { acpiPCI.read(offset: offset, size: size) }

    /// What a read at `offset` would return, without its side effects (for reports and views).
    func acpiPCIPeek(offset: Int, size: Int) -> UInt32 { acpiPCI.peek(offset: offset, size: size) }

    /// A guest write at `offset` in the block.
    func acpiPCIWrite(offset: Int, size: Int, value: UInt32) {
        switch acpiPCI.write(offset: offset, size: size, value: value) {
        case .none:
            break
        case .eject(let bsel, let slot):
            ejectACPISlot(bsel: bsel, slot: slot)
        case .fetchACPIIndex(let bsel, let slot):
            // The first device at that slot in the bus's child order (newest first, as QOM keeps it).
            guard let bus = acpiHotplugBus(bsel: bsel) else { return }
            let device = bus.children.last { $0.slot == slot }
            acpiPCI.latch(index: UInt32(truncatingIfNeeded: device?.integer("acpi-index") ?? 0))
        }
    }

    /// `system_reset` of the block (`acpi_pcihp_reset`), after ``completeACPIPCIRemovals()``: RMV is
    /// recomputed. UP bits, SEL and the buses' bsel numbers stay.
    func acpiPCIReset() {
        guard pciHotplug.hasRegisterBlock else { return }
        updateACPIRemovable()
    }

    /// The first part of `system_reset`: every pending removal of every bus is carried out as an eject
    /// (lowest bsel and slot first; the `DEVICE_DELETED` events follow the command's reply), before the
    /// ports are reset (a root port emptied this way is powered off by its reset, as on QEMU).
    func completeACPIPCIRemovals() {
        guard pciHotplug.hasRegisterBlock else { return }
        deferringEvents {
            for bsel in 0..<ACPIPCIHotplug.maxBuses {
                while acpiPCI.down[bsel] != 0 {
                    let slot = acpiPCI.down[bsel].trailingZeroBitCount
                    ejectACPISlot(bsel: bsel, slot: slot)
                    // A bsel whose bus has gone (QEMU would spin here): the request is dropped.
                    acpiPCI.ejected(bsel: bsel, slot: slot)
                }
            }
        }
    }

    /// `acpi_pcihp_eject_slot`: clears the slot's UP and DOWN bits, then unplugs every device at that slot
    /// number (all functions, newest first, each with what is behind it) except cold-plugged bridges and
    /// devices that cannot be hot-unplugged. Nothing happens for a bsel no bus has.
    func ejectACPISlot(bsel: Int, slot: Int) {
        guard let bus = acpiHotplugBus(bsel: bsel) else { return }
        acpiPCI.ejected(bsel: bsel, slot: slot)
        for device in bus.children.reversed() where device.slot == slot && isACPIEjectable(device) {
            destroy(device)
        }
    }

    /// Whether an ACPI eject removes `device` (QEMU's `acpi_pcihp_pc_no_hotplug` negated): not a bridge or
    /// port present at start (the DSDT describes those), and a device class that can be hot-unplugged.
    func isACPIEjectable(_ device: Device) -> Bool {
        device.model.isHotpluggable && !(device.model.kind.hasSecondaryBus && !device.isHotplugged)
    }

    /// RMV of every bus with a bsel: all ones except the slots of devices an eject would not remove.
    func updateACPIRemovable() {
        for bsel in 0..<ACPIPCIHotplug.maxBuses {
            var mask = ~UInt32(0)
            if let bus = acpiHotplugBus(bsel: bsel) {
                for device in bus.children where !isACPIEjectable(device) { mask &= ~(1 << UInt32(device.slot)) }
            }
            acpiPCI.setRemovable(bsel: bsel, mask: mask)
        }
    }

    // MARK: Plug and unplug requests

    /// A device plugged into a bus ACPI serves (`acpi_pcihp_device_plug_cb`): nothing for a cold plug;
    /// a hot-add powers a PCIe port's slot on (no presence or event bits) and sets the slot's UP bit and
    /// GPE0's PCI bit. No QMP event.
    func acpiPCIPlugged(_ device: Device, on bus: PCIBus, hotplug: Bool) {
        guard hotplug else { return }
        if let port = bus.owner, var slot = port.pcieSlot {
            slot.enablePower()
            port.pcieSlot = slot
        }
        guard let bsel = acpiBusSelector(of: bus) else { return }
        acpiPCI.plugged(bsel: bsel, slot: device.slot)
        raiseGPE(GPE0Block.pciHotplug)
    }

    /// `device_del` of a device on a bus ACPI serves (`acpi_pcihp_device_unplug_request_cb`): the slot's
    /// DOWN bit and GPE0's PCI bit are set and the device is marked pending delete. The mark expires at
    /// the virtual millisecond of the request, so it refuses a repeat only when the request was made while
    /// the virtual clock read 0 ms (a VM that never ran); such a mark lasts until eject or reset
    /// (`acpi-hotplug.md` §4.4). A repeat that is let through raises the GPE again.
    func acpiPCIUnplugRequest(_ device: Device, on bus: PCIBus) throws(QMPError) {
        guard let bsel = acpiBusSelector(of: bus) else {
            throw .generic("Unsupported bus. Bus doesn't have property '\(Self.acpiBusSelectorProperty)' set")
        }
        if clock.now < 1_000_000 { device.pendingUnplugDeadline = Int64.max }
        acpiPCI.unplugRequested(bsel: bsel, slot: device.slot)
        raiseGPE(GPE0Block.pciHotplug)
    }

    /// Whether the device's removal was requested and not yet carried out (its slot's DOWN bit is set).
    public func isACPIRemovalPending(_ device: Device) -> Bool {
        guard let bus = device.parentBus, acpiServes(bus), let bsel = acpiBusSelector(of: bus) else { return false }
        return acpiPCI.down[bsel] & (1 << UInt32(device.slot)) != 0
    }
}
