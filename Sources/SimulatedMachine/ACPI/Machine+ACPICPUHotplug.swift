/// The guest's accesses to the ACPI CPU hot-plug interface (ACPICPUHotplug) and what they do to the machine.
extension Machine {
    /// A guest read at `offset` in the block (CPU reads have no side effects).
    func cpuHotplugRead(offset: Int, size: Int) -> UInt32 { cpuHotplug.read(offset: offset, size: size) }

    /// What a read at `offset` would return, without its side effects (for reports and views).
    func cpuHotplugPeek(offset: Int, size: Int) -> UInt32 { cpuHotplug.read(offset: offset, size: size) }

    /// A guest write at `offset` in the block: the register's effect, then the machine's part of it
    /// (the CPU unplugged by `_EJ0`, `ACPI_DEVICE_OST` for `_OST`), inside the write as in QEMU.
    func cpuHotplugWrite(offset: Int, size: Int, value: UInt32) {
        switch cpuHotplug.write(offset: offset, size: size, value: value) {
        case .none, .switchedToModern: break
        case .eject(let index): ejectCPU(index: index)
        case .ost(let index): emitOST(cpuOSTInfo(index: index))
        }
    }

    /// `system_reset` of the block: nothing changes (the modern switch, the flags and the selector stay).
    func cpuHotplugReset() {}
}

extension Machine {
    /// The CPU slots' `_OST` state for `query-acpi-ospm-status` (none in legacy mode).
    func cpuOSPMStatus() -> [ACPIOSTInfo] {
        guard cpuHotplug.isModern else { return [] }
        var ids = [String?](repeating: nil, count: cpuHotplug.slots.count)
        for cpu in presentCPUs where cpu.index < ids.count { ids[cpu.index] = cpu.device.id }
        return cpuHotplug.slots.indices.map { cpuOSTInfo(index: $0, device: ids[$0]) }
    }

    /// Slot `index`'s last `_OST`, with the id of the CPU there (if it has one).
    func cpuOSTInfo(index: Int) -> ACPIOSTInfo {
        cpuOSTInfo(index: index, device: presentCPUs.first { $0.index == index }?.device.id)
    }

    private func cpuOSTInfo(index: Int, device: String?) -> ACPIOSTInfo {
        let slot = cpuHotplug.slots[index]
        return ACPIOSTInfo(
            device: device,
            slot: String(index),
            slotType: .cpu,
            source: slot.ostEvent,
            status: slot.ostStatus
        )
    }
}
