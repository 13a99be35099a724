import QMPWire

/// The `acpi-index` property of PCI devices (the index a guest's udev names NICs by, read through the
/// ACPI PCI block's AIDX register): checked when a device is realized, in every hot-plug mode
/// (`acpi-hotplug.md` §4.1).
extension Machine {
    /// The largest acpi-index QEMU takes (systemd's `ONBOARD_INDEX_MAX`).
    static let maxACPIIndex: Int64 = 16383

    /// `pci_qdev_realize`'s checks: at most 16383, and unique among the devices present (an ejected
    /// device's index is free again). 0 means none.
    func checkACPIIndex(_ value: JSONValue?) throws(QMPError) {
        guard let index = value?.int64Value, index != 0 else { return }
        if index > Self.maxACPIIndex {
            throw .generic("acpi-index should be less or equal to \(Self.maxACPIIndex)")
        }
        if allDevices.contains(where: { $0.integer("acpi-index") == index }) {
            throw .generic("a PCI device with acpi-index = \(index) already exist")
        }
    }
}
