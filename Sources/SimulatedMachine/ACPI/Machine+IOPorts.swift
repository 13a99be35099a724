/// The guest's I/O-port space: the ACPI register blocks of the machine (GPE0, PCI, CPU and memory
/// hot-plug), reached as a guest's `inb`/`outl` reach them. Every access goes through the register
/// semantics of its block; the control plane's `guest-read`/`guest-write` with `port` and the simulated
/// guest's ACPI driver use the same two entry points.
extension Machine {
    /// The base of the ACPI PCI hot-plug block on this machine type.
    var acpiPCIBase: UInt16 { machineType == .q35 ? ACPIPCIHotplug.q35Base : ACPIPCIHotplug.pcBase }
    /// The base of the ACPI CPU hot-plug interface on this machine type.
    var cpuHotplugBase: UInt16 { machineType == .q35 ? ACPICPUHotplug.q35Base : ACPICPUHotplug.pcBase }

    /// The block that decodes `port`, and the offset in it.
    public func ioRegion(_ port: UInt16) -> IOPortRegion {
        func offset(_ base: UInt16, _ length: Int) -> Int? {
            guard port >= base else { return nil }
            let delta = Int(port - base)
            return delta < length ? delta : nil
        }
        if let base = acpi.pmBase {
            if let o = offset(base, 4) { return .pm1Event(offset: o) }
            if let o = offset(base + 4, 2) { return .pm1Control(offset: o) }
            if let o = offset(base + 8, 4) { return .pmTimer(offset: o) }
        }
        if let base = acpi.gpeBase, let o = offset(base, acpi.gpe.length) { return .gpe(offset: o) }
        if pciHotplug.hasRegisterBlock, let o = offset(acpiPCIBase, ACPIPCIHotplug.length) {
            return .acpiPCI(offset: o)
        }
        if let o = offset(cpuHotplugBase, cpuHotplug.length) { return .cpuHotplug(offset: o) }
        if board.memory.slots > 0, let o = offset(ACPIMemoryHotplug.base, ACPIMemoryHotplug.length) {
            return .memoryHotplug(offset: o)
        }
        return .unassigned
    }

    /// A guest read of `size` bytes (1, 2 or 4) at `port`.
    public func ioRead(port: UInt16, size: Int) -> UInt32 {
        let region = ioRegion(port)
        switch region {
        case .pm1Event, .pm1Control, .pmTimer: return pmBlockAccess(port: port, size: size, write: nil)
        case .acpiPCI(let o): return acpiPCIRead(offset: o, size: size)
        case .cpuHotplug(let o): return cpuHotplugRead(offset: o, size: size)
        case .memoryHotplug(let o): return memoryHotplugRead(offset: o, size: size)
        case .gpe, .unassigned: return ioPeek(port: port, size: size)  // reads without side effects
        }
    }

    /// A guest write of `size` bytes (1, 2 or 4) at `port`, reported to the observer as a guest register
    /// write (register = the block's name, target = the port, old and new = what the port read before
    /// and after, without read side effects).
    public func ioWrite(port: UInt16, size: Int, value: UInt32) {
        let region = ioRegion(port)
        // The before and after values exist only for the observer (GUEST_REGISTER_WRITE): a machine
        // without one (fuzzing, the guest's own tests) does not read every register twice more.
        let old = observer == nil ? 0 : ioPeek(port: port, size: size)
        switch region {
        case .pm1Event, .pm1Control, .pmTimer: _ = pmBlockAccess(port: port, size: size, write: value)
        case .gpe(let o):
            for i in 0..<size { acpi.gpe.write(offset: o + i, value: UInt8(truncatingIfNeeded: value >> (i * 8))) }
            updateSCI()
        case .acpiPCI(let o): acpiPCIWrite(offset: o, size: size, value: value)
        case .cpuHotplug(let o): cpuHotplugWrite(offset: o, size: size, value: value)
        case .memoryHotplug(let o): memoryHotplugWrite(offset: o, size: size, value: value)
        case .unassigned: break
        }
        guard observer != nil else { return }
        reportGuestWrite(
            GuestRegisterWrite(
                controller: "io",
                register: region.name,
                target: Int(port),
                written: value,
                old: old,
                new: ioPeek(port: port, size: size)
            )
        )
    }

    /// What a read of `size` bytes at `port` would return, without side effects.
    func ioPeek(port: UInt16, size: Int) -> UInt32 {
        switch ioRegion(port) {
        // The PM block's reads have no side effects: a peek is a read.
        case .pm1Event, .pm1Control, .pmTimer: return pmBlockAccess(port: port, size: size, write: nil)
        case .gpe(let o):
            var value: UInt32 = 0
            for i in 0..<size { value |= UInt32(acpi.gpe.read(offset: o + i)) << (i * 8) }
            return value
        case .acpiPCI(let o): return acpiPCIPeek(offset: o, size: size)
        case .cpuHotplug(let o): return cpuHotplugPeek(offset: o, size: size)
        case .memoryHotplug(let o): return memoryHotplugPeek(offset: o, size: size)
        case .unassigned: return Self.allOnes(size)
        }
    }

    /// All ones in `size` bytes: what an unassigned port reads.
    static func allOnes(_ size: Int) -> UInt32 { size >= 4 ? 0xFFFF_FFFF : (1 << (UInt32(size) * 8)) - 1 }

    // MARK: GPE0 and the SCI

    /// A hot-plug event: ORs `bits` (``GPE0Block/pciHotplug`` ...) into GPE0's status and re-evaluates
    /// the SCI.
    func raiseGPE(_ bits: UInt8) {
        acpi.gpe.raise(bits)
        updateSCI()
    }

    /// Re-evaluates the SCI level and tells the observer when it changed.
    func updateSCI() {
        let level = acpi.sci(atTicks: pmTimerTicks)
        guard level != acpi.sciLevel else { return }
        acpi.sciLevel = level
        observer?.sciLevelChanged(level)
    }

    /// `system_reset` of the ACPI hardware: GPE0 (and the SCI) cleared, q35's PM block unmapped, then
    /// each hot-plug block's own reset.
    func resetACPI() {
        acpi.reset()
        updateSCI()
        acpiPCIReset()
        cpuHotplugReset()
        memoryHotplugReset()
    }
}
