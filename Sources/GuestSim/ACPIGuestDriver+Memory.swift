import SimulatedMachine

/// The guest's memory hot-plug side: `\_GPE._E03` runs `MSCN`, the DSDT's scan of the memory hot-plug
/// block, and Linux's memory driver (`drivers/acpi/acpi_memhotplug.c`, `scan.c`) handles the Notifies it
/// makes (`acpi-hotplug.md` §6.3, §9), each as register accesses QEMU's AML and Linux make:
///
/// - Device Check: after ``GuestLatencies/memoryAdd``, `_STA` (SEL, FLAGS), `_CRS` (SEL, address and
///   size), then `_OST(1, 0)` (SEL, event, status).
/// - Eject Request: `_OST(3, 0x84)` at once; after ``GuestLatencies/memoryOffline`` `_EJ0` (SEL,
///   FLAGS ← 8), `_STA` and `_OST(3, 0)`, or, when the configuration's ``GuestMemoryRemoval`` is
///   `refuse`, `_OST(3, 0x82)` and the DIMM stays.
///
/// Decision (not observable without a guest OS): an Eject Request for a slot whose removal is already
/// under way (a repeated `device_del`) joins it instead of starting a second one.
extension ACPIGuestDriver {
    /// Register offsets of the block (``ACPIMemoryHotplug``).
    private enum Register {
        static let selector = 0x00
        static let addressLow = 0x00
        static let addressHigh = 0x04
        static let ostEvent = 0x04
        static let sizeLow = 0x08
        static let sizeHigh = 0x0C
        static let ostStatus = 0x08
        static let flags = 0x14
    }

    /// `_OST` source events and status codes (`include/linux/acpi.h`).
    private enum OST {
        static let deviceCheck: UInt32 = 1
        static let ejectRequest: UInt32 = 3
        static let success: UInt32 = 0
        static let busy: UInt32 = 0x82
        static let ejectInProgress: UInt32 = 0x84
    }

    /// `_E03`: MSCN over every slot (SEL; FLAGS; INSERTING → Notify 1 and clear it; else FLAGS again,
    /// REMOVING → Notify 3 and clear it), then the Notifies' work.
    func memoryScan() {
        var inserted: [Int] = []
        var removals: [Int] = []
        for slot in 0..<machine.memoryHotplug.slots.count {
            memoryWrite(Register.selector, size: 4, UInt32(slot))
            if memoryRead(Register.flags, size: 1) & 0x2 != 0 {
                inserted.append(slot)
                memoryWrite(Register.flags, size: 1, ACPIMemoryHotplug.clearInserting)
            } else if memoryRead(Register.flags, size: 1) & 0x4 != 0 {
                removals.append(slot)
                memoryWrite(Register.flags, size: 1, ACPIMemoryHotplug.clearRemoving)
            }
        }
        let latencies = os.latencies(for: persona)
        for slot in inserted {
            timers.after(latencies.memoryAdd) { [unowned self] in memoryDeviceCheck(slot) }
        }
        for slot in removals where !memoryEjections.contains(slot) {
            memoryEjections.insert(slot)
            memoryOST(slot, event: OST.ejectRequest, status: OST.ejectInProgress)
            timers.after(latencies.memoryOffline) { [unowned self] in memoryEject(slot) }
        }
    }

    /// Device Check: `_STA`, `_CRS` of a present DIMM, memory added, `_OST(1, 0)`.
    private func memoryDeviceCheck(_ slot: Int) {
        if memorySTA(slot) {
            memoryWrite(Register.selector, size: 4, UInt32(slot))
            _ = memoryRead(Register.addressLow, size: 4)
            _ = memoryRead(Register.addressHigh, size: 4)
            _ = memoryRead(Register.sizeLow, size: 4)
            _ = memoryRead(Register.sizeHigh, size: 4)
        }
        memoryOST(slot, event: OST.deviceCheck, status: OST.success)
    }

    /// The end of the offline delay: eject (`_EJ0`, `_STA`, `_OST(3, 0)`) or refuse (`_OST(3, 0x82)`).
    private func memoryEject(_ slot: Int) {
        memoryEjections.remove(slot)
        if os.configuration.memoryRemoval == .refuse {
            memoryOST(slot, event: OST.ejectRequest, status: OST.busy)
            return
        }
        memoryWrite(Register.selector, size: 4, UInt32(slot))
        memoryWrite(Register.flags, size: 1, ACPIMemoryHotplug.eject)
        _ = memorySTA(slot)
        memoryOST(slot, event: OST.ejectRequest, status: OST.success)
    }

    /// `_STA` (MRST): SEL, then FLAGS' ENABLED bit.
    private func memorySTA(_ slot: Int) -> Bool {
        memoryWrite(Register.selector, size: 4, UInt32(slot))
        return memoryRead(Register.flags, size: 1) & 0x1 != 0
    }

    /// `_OST` (MOST): SEL, event, status (QEMU then sends `ACPI_DEVICE_OST`).
    private func memoryOST(_ slot: Int, event: UInt32, status: UInt32) {
        memoryWrite(Register.selector, size: 4, UInt32(slot))
        memoryWrite(Register.ostEvent, size: 4, event)
        memoryWrite(Register.ostStatus, size: 4, status)
    }

    private func memoryRead(_ offset: Int, size: Int) -> UInt32 {
        machine.ioRead(port: ACPIMemoryHotplug.base + UInt16(offset), size: size)
    }

    private func memoryWrite(_ offset: Int, size: Int, _ value: UInt32) {
        machine.ioWrite(port: ACPIMemoryHotplug.base + UInt16(offset), size: size, value: value)
    }
}
