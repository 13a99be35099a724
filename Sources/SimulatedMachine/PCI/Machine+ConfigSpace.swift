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
