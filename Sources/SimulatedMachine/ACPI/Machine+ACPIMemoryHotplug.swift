/// The guest's accesses to the ACPI memory hot-plug block (ACPIMemoryHotplug) and what they do to the machine.
extension Machine {
    /// A guest read at `offset` in the block (reads may have side effects).
    func memoryHotplugRead(offset: Int, size: Int) -> UInt32 { 0 }

    /// What a read at `offset` would return, without its side effects (for reports and views).
    func memoryHotplugPeek(offset: Int, size: Int) -> UInt32 { 0 }

    /// A guest write at `offset` in the block.
    func memoryHotplugWrite(offset: Int, size: Int, value: UInt32) {}

    /// `system_reset` of the block.
    func memoryHotplugReset() {}
}

extension Machine {
    /// The DIMM slots' `_OST` state for `query-acpi-ospm-status` (none without slots).
    func memoryOSPMStatus() -> [ACPIOSTInfo] { [] }
}
