import QMPWire

/// The ACPI PM device and the PCI buses as `qom-get` shows them (`acpi-hotplug.md` §2, §4.2):
/// `/machine`'s `acpi-device` link, the PM device's read-only hot-plug properties, and each bus's
/// `acpi-pcihp-bsel`.
extension Machine {
    /// The QOM path of the ACPI PM device: q35's `ICH9-LPC` is `/machine/unattached/device[2]`; pc's
    /// `PIIX4_PM` is `/machine/unattached/device[18]` on 7.2 and a child of the PIIX south bridge,
    /// `/machine/unattached/device[3]/pm`, on 10.0 (observed; 8.2, where the PIIX rework landed, is taken
    /// to be as 10.0).
    public var acpiDevicePath: String {
        if machineType == .q35 { return "/machine/unattached/device[2]" }
        return profile.version.isAtLeast(8, 2) ? "/machine/unattached/device[3]/pm" : "/machine/unattached/device[18]"
    }

    /// `qom-get` answers about ACPI: nil when `path` and `name` are not about it.
    func qomGetACPI(_ path: String, property name: String) throws(QMPError) -> JSONValue? {
        if path == "/machine" {
            return name == "acpi-device" ? .string(acpiDevicePath) : nil
        }
        if path == acpiDevicePath { return acpiDeviceProperty(name) }
        return try qomGetBus(path, property: name)
    }

    /// A read-only property of the ACPI PM device, or nil (then the generic look-up answers).
    private func acpiDeviceProperty(_ name: String) -> JSONValue? {
        let q35 = machineType == .q35
        // q35's PM I/O base is LPC's PMBASE as the guest programmed it (0 until then); pc's is not
        // programmed by anything here (firmware would), so it reads 0.
        let pmBase =
            q35 ? Int64(acpi.pmConfigRead(offset: ACPIPowerManagement.pmBaseOffset, size: 4) ?? 0) & 0xFF80 : 0
        switch name {
        case "type": return .string(machineType.acpiDeviceType)
        case "acpi-pcihp-io-base": return .int(Int64(acpiPCIBase))
        case "acpi-pcihp-io-len": return .int(Int64(ACPIPCIHotplug.length))
        case PCIHotplugSettings.bridgeSupportProperty: return .bool(pciHotplug.bridgeSupport)
        case PCIHotplugSettings.rootHotplugProperty where !q35: return .bool(pciHotplug.rootHotplug)
        case "gpe0_blk": return .int(q35 ? pmBase + 0x20 : Int64(ACPIPowerManagement.pcGPEBase))
        case "gpe0_blk_len": return .int(Int64(acpi.gpe.length))
        case "pm_io_base": return .int(pmBase)
        default: return nil
        }
    }
}
