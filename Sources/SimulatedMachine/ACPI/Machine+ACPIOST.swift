import QMPWire

/// `_OST` reporting shared by the CPU and memory hot-plug interfaces.
extension Machine {
    /// `query-acpi-ospm-status`: every DIMM slot (when the machine has slots), then every CPU slot
    /// (once the CPU interface is modern), each with its last `_OST`.
    public func acpiOSPMStatus() -> [ACPIOSTInfo] {
        memoryOSPMStatus() + cpuOSPMStatus()
    }

    /// `ACPI_DEVICE_OST` for a guest's `_OST` write.
    func emitOST(_ info: ACPIOSTInfo) {
        emit(MachineEvent(.acpiDeviceOST, data: JSONObject([("info", .object(info.json))])))
    }
}
