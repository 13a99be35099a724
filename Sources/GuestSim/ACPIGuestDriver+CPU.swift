import SimulatedMachine

extension ACPIGuestDriver {
    /// `_E02`: CSCN, then the processor driver's Device Check and Eject Request handling. Not implemented yet.
    func cpuScan() {}
}

extension ACPIGuestDriver {
    /// `\_SB.PCI0.PRES._INI` at boot: a dword write of 0 at the CPU interface's base switches it to the
    /// modern block for good.
    func bootCPUInterface() {
        let base: UInt16 = machine.machineType == .q35 ? ACPICPUHotplug.q35Base : ACPICPUHotplug.pcBase
        machine.ioWrite(port: base, size: 4, value: 0)
    }
}
