/// The guest's accesses to the ACPI CPU hot-plug interface (ACPICPUHotplug) and what they do to the machine.
extension Machine {
    /// A guest read at `offset` in the block (reads may have side effects).
    func cpuHotplugRead(offset: Int, size: Int) -> UInt32 { 0 }

    /// What a read at `offset` would return, without its side effects (for reports and views).
    func cpuHotplugPeek(offset: Int, size: Int) -> UInt32 { 0 }

    /// A guest write at `offset` in the block.
    func cpuHotplugWrite(offset: Int, size: Int, value: UInt32) {}

    /// `system_reset` of the block.
    func cpuHotplugReset() {}
}

extension Machine {
    /// The CPU slots' `_OST` state for `query-acpi-ospm-status` (none in legacy mode).
    func cpuOSPMStatus() -> [ACPIOSTInfo] { [] }
}
