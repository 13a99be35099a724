/// What a guest sees in the configuration space header of an endpoint, beyond the hotplug
/// controllers' own registers.
extension Machine {
    /// The dword at offset 0 of a device's configuration space (device id << 16 | vendor id), as a guest
    /// reads it: all ones when no such device exists, and while the PCIe slot the device sits in is
    /// powered off (QEMU disables the functions of a powered-off slot, so their reads float high).
    /// SHPC slots do not hide their devices: QEMU answers whatever the slot state.
    public func vendorDeviceRead(of id: String) -> UInt32 {
        guard let device = device(id: id) else { return 0xFFFF_FFFF }
        if let slot = device.parentBus?.owner?.pcieSlot, !slot.powerOn { return 0xFFFF_FFFF }
        let deviceID = device.model.identity(onExpressBus: device.parentBus?.isExpress ?? false).deviceID
        return UInt32(deviceID) << 16 | UInt32(device.model.vendorID)
    }
}

/// Configuration-space accesses by address, as firmware and a guest make them through 0xcf8/0xcfc:
/// the identity dword of any function, and the registers of the ACPI PM function that firmware
/// programs (q35's LPC PMBASE at 0x40 and ACPI_CNTL at 0x44). Nothing else of configuration space is
/// modelled here: other offsets read 0 and ignore writes; a missing function reads all ones.
extension Machine {
    /// The function at `bus` (numbered as ``busNumbers()`` numbers them, as a booted guest sees them),
    /// `slot` and `function`.
    public func function(bus: Int, slot: Int, function: Int) -> Device? {
        guard (0..<32).contains(slot), (0..<8).contains(function) else { return nil }
        if bus == 0 { return rootBus.device(slot: slot, function: function) }
        let numbers = busNumbers()
        for device in allDevices {
            if let sub = device.secondaryBus, numbers[ObjectIdentifier(sub)]?.number == bus {
                return sub.device(slot: slot, function: function)
            }
        }
        return nil
    }

    /// Whether `device` is the machine's ACPI PM function (q35's LPC bridge 00:1f.0, pc's PIIX4_PM 00:01.3).
    func isACPIPMFunction(_ device: Device) -> Bool {
        guard device.parentBus === rootBus else { return false }
        return machineType == .q35 ? device.devfn == 31 << 3 : device.devfn == 1 << 3 | 3
    }

    /// A configuration read of `size` bytes (1, 2 or 4) at `offset` of a function.
    public func configRead(bus: Int, slot: Int, function: Int, offset: Int, size: Int) -> UInt32 {
        guard let device = self.function(bus: bus, slot: slot, function: function) else { return Self.allOnes(size) }
        if isACPIPMFunction(device), let value = acpi.pmConfigRead(offset: offset, size: size) { return value }
        guard offset < 4 else { return 0 }
        if let slot = device.parentBus?.owner?.pcieSlot, !slot.powerOn { return Self.allOnes(size) }
        let deviceID = device.model.identity(onExpressBus: device.parentBus?.isExpress ?? false).deviceID
        let dword = UInt32(deviceID) << 16 | UInt32(device.model.vendorID)
        return (dword >> (UInt32(offset) * 8)) & Self.allOnes(size)
    }

    /// A configuration write of `size` bytes at `offset` of a function: only the ACPI PM function's
    /// PMBASE and ACPI_CNTL (q35) take it, which maps or unmaps GPE0.
    public func configWrite(bus: Int, slot: Int, function: Int, offset: Int, size: Int, value: UInt32) {
        guard let device = self.function(bus: bus, slot: slot, function: function), isACPIPMFunction(device) else {
            return
        }
        let old = acpi.pmConfigRead(offset: offset, size: size) ?? 0
        guard acpi.pmConfigWrite(offset: offset, size: size, value: value) else { return }
        reportGuestWrite(
            GuestRegisterWrite(
                controller: device.name,
                register: "config",
                target: offset,
                written: value,
                old: old,
                new: acpi.pmConfigRead(offset: offset, size: size) ?? 0
            )
        )
    }
}
