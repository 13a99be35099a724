import SimulatedMachine

extension ACPIGuestDriver {
    /// `_E01`: the DSDT's PCNT over every bus with a bsel, in DSDT order (SEL, read UP, read DOWN;
    /// reading UP clears it), then acpiphp's handling of the notifications (`acpi-hotplug.md` §4.3, §4.7):
    /// Device Check for UP bits only reads configuration space (nothing QEMU can see, so nothing is done
    /// here); an Eject Request for a DOWN bit is queued, and each queued slot is ejected (SEL, EJ) one
    /// ``GuestLatencies/acpiEject`` after the previous one was handled, as Linux handles hot-plug
    /// notifications one at a time. Slots without an `_EJ0` in the DSDT (cold-plugged bridges, devices
    /// that cannot be unplugged, slots other than 0 behind a PCIe port) are never ejected.
    func pciScan() {
        guard machine.pciHotplug.hasRegisterBlock else { return }
        let base = pciBlockBase
        for entry in machine.acpiPCIDescription() {
            machine.ioWrite(port: base + UInt16(ACPIPCIHotplug.Offset.select), size: 4, value: UInt32(entry.bsel))
            _ = machine.ioRead(port: base + UInt16(ACPIPCIHotplug.Offset.up), size: 4)
            let down = machine.ioRead(port: base + UInt16(ACPIPCIHotplug.Offset.down), size: 4)
            var slots = down & entry.ejectableSlots
            while slots != 0 {
                let slot = slots.trailingZeroBitCount
                slots &= slots - 1
                queueEject(bsel: entry.bsel, slot: slot)
            }
        }
    }

    /// The ACPI PCI block's base on this machine type.
    var pciBlockBase: UInt16 { machine.machineType == .q35 ? ACPIPCIHotplug.q35Base : ACPIPCIHotplug.pcBase }

    /// Queues an Eject Request (once: a slot already queued is not queued again).
    private func queueEject(bsel: Int, slot: Int) {
        guard !pendingEjects.contains(where: { $0 == (bsel, slot) }) else { return }
        pendingEjects.append((bsel, slot))
        if pendingEjects.count == 1 { scheduleNextEject() }
    }

    /// Arms the timer of the first queued eject.
    private func scheduleNextEject() {
        guard !pendingEjects.isEmpty else { return }
        timers.after(os.latencies(for: persona).acpiEject) { [unowned self] in
            let (bsel, slot) = pendingEjects.removeFirst()
            ejectPCISlot(bsel: bsel, slot: slot)
            scheduleNextEject()
        }
    }

    /// `_EJ0` → PCEJ: SEL = bsel, EJ = 1 << slot.
    func ejectPCISlot(bsel: Int, slot: Int) {
        let base = pciBlockBase
        machine.ioWrite(port: base + UInt16(ACPIPCIHotplug.Offset.select), size: 4, value: UInt32(bsel))
        machine.ioWrite(port: base + UInt16(ACPIPCIHotplug.Offset.eject), size: 4, value: 1 << UInt32(slot))
    }
}
