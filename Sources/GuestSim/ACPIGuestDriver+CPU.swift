import SimulatedMachine

extension ACPIGuestDriver {
    /// The CPU interface's base on this machine.
    var cpuBase: UInt16 { machine.machineType == .q35 ? ACPICPUHotplug.q35Base : ACPICPUHotplug.pcBase }

    /// `_E02`: `\_SB.CPUS.CSCN` as the profile's DSDT has it, then the Notifies it makes go to the
    /// processor driver (``ACPIProcessorDriver``), in the AML's order (`acpi-hotplug.md` §5.4).
    ///
    /// Both variants walk the CPUs with events through GET_NEXT_CPU_WITH_EVENT until the search wraps.
    /// QEMU 7.2's (used up to 9.x) tests REMOVING only when INSERTING is clear and clears it (after
    /// the Eject Request Notify) inside the loop; 10.0's reads FLAGS for both tests and clears REMOVING
    /// after the loop. Both clear INSERTING after the loop, after each Device Check Notify.
    func cpuScan() {
        let modernAML = machine.profile.cpuScanClearsRemovalAfterLoop
        let count = machine.cpuHotplug.slots.count
        var added: [Int] = []
        var removed: [Int] = []
        var index = 0
        var hasEvent = true
        while hasEvent && index < count {
            hasEvent = false
            selectCPU(index)
            machine.ioWrite(
                port: cpuBase + UInt16(ACPICPUHotplug.commandOffset),
                size: 1,
                value: UInt32(ACPICPUHotplug.getNextCPUWithEvent)
            )
            let next = Int(machine.ioRead(port: cpuBase + UInt16(ACPICPUHotplug.dataOffset), size: 4))
            if next < index { break }
            index = next
            var checkRemoving = true
            if cpuFlags() & ACPICPUSlot.insertingFlag != 0 {
                added.append(index)
                hasEvent = true
                checkRemoving = modernAML
            }
            if checkRemoving && cpuFlags() & ACPICPUSlot.removingFlag != 0 {
                removed.append(index)
                hasEvent = true
                if !modernAML {
                    processor.notify(index, .ejectRequest)
                    setCPUFlags(ACPICPUSlot.removingFlag)
                }
            }
            index += 1
        }
        for cpu in added {
            processor.notify(cpu, .deviceCheck)
            selectCPU(cpu)
            setCPUFlags(ACPICPUSlot.insertingFlag)
        }
        if modernAML {
            for cpu in removed {
                processor.notify(cpu, .ejectRequest)
                selectCPU(cpu)
                setCPUFlags(ACPICPUSlot.removingFlag)
            }
        }
    }

    /// CSEL: the selector.
    func selectCPU(_ index: Int) {
        machine.ioWrite(port: cpuBase + UInt16(ACPICPUHotplug.selectorOffset), size: 4, value: UInt32(index))
    }

    /// The selected CPU's FLAGS byte.
    func cpuFlags() -> UInt8 {
        UInt8(truncatingIfNeeded: machine.ioRead(port: cpuBase + UInt16(ACPICPUHotplug.flagsOffset), size: 1))
    }

    /// A FLAGS write to the selected CPU.
    func setCPUFlags(_ flags: UInt8) {
        machine.ioWrite(port: cpuBase + UInt16(ACPICPUHotplug.flagsOffset), size: 1, value: UInt32(flags))
    }

    /// `_STA` of CPU `index` (CSTA): select it and read ENABLED.
    func cpuStatus(_ index: Int) -> Bool {
        selectCPU(index)
        return cpuFlags() & ACPICPUSlot.enabledFlag != 0
    }

    /// `_OST(event, status)` of CPU `index` (COST): select, COMMAND 1, DATA event, COMMAND 2, DATA status.
    func cpuOST(_ index: Int, event: UInt32, status: UInt32) {
        selectCPU(index)
        let command = cpuBase + UInt16(ACPICPUHotplug.commandOffset)
        let data = cpuBase + UInt16(ACPICPUHotplug.dataOffset)
        machine.ioWrite(port: command, size: 1, value: UInt32(ACPICPUHotplug.ostEventCommand))
        machine.ioWrite(port: data, size: 4, value: event)
        machine.ioWrite(port: command, size: 1, value: UInt32(ACPICPUHotplug.ostStatusCommand))
        machine.ioWrite(port: data, size: 4, value: status)
    }

    /// `_EJ0` of CPU `index` (CEJ0): select it, FLAGS ← EJECT.
    func ejectCPU(_ index: Int) {
        selectCPU(index)
        setCPUFlags(ACPICPUSlot.ejectFlag)
    }
}

extension ACPIGuestDriver {
    /// `\_SB.PCI0.PRES._INI` at boot: a dword write of 0 at the CPU interface's base switches it to the
    /// modern block for good.
    func bootCPUInterface() {
        machine.ioWrite(port: cpuBase, size: 4, value: 0)
    }
}
