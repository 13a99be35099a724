/// The guest's accesses to the ACPI memory hot-plug block (ACPIMemoryHotplug) and what they do to the machine.
extension Machine {
    /// A guest read at `offset` in the block (this block's reads have no side effects).
    func memoryHotplugRead(offset: Int, size: Int) -> UInt32 {
        memoryHotplug.read(offset: offset, size: size)
    }

    /// What a read at `offset` would return, without its side effects (for reports and views).
    func memoryHotplugPeek(offset: Int, size: Int) -> UInt32 {
        memoryHotplug.read(offset: offset, size: size)
    }

    /// A guest write at `offset` in the block: an `_OST` status write sends `ACPI_DEVICE_OST`, an
    /// eject unplugs the DIMM at once (its one `DEVICE_DELETED` follows the write; the backend is free
    /// again, but not deleted).
    func memoryHotplugWrite(offset: Int, size: Int, value: UInt32) {
        switch memoryHotplug.write(offset: offset, size: size, value: value) {
        case .none:
            break
        case .ost(let slot):
            emitOST(memoryHotplug.ostInfo(slot: slot))
        case .eject(let slot):
            ejectDIMM(slot: slot)
        }
    }

    /// `system_reset` of the block: nothing changes (flags, `_OST` values and DIMMs all stay).
    func memoryHotplugReset() {}
}

extension Machine {
    /// The DIMM slots' `_OST` state for `query-acpi-ospm-status`: every slot when the machine has
    /// slots (none otherwise), `device` only while a DIMM with an id is plugged.
    func memoryOSPMStatus() -> [ACPIOSTInfo] {
        memoryHotplug.slots.indices.map { memoryHotplug.ostInfo(slot: $0) }
    }
}
