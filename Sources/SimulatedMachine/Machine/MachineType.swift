import QMPWire

/// The machine types qmp-mock models. Which PCI hot-plug each bus gets (ACPI or native) follows the
/// board's globals (``PCIHotplugSettings``).
public enum MachineType: String, Sendable, CaseIterable {
    /// Q35: PCIe root bus `pcie.0`.
    case q35
    /// i440FX: conventional PCI root bus `pci.0`.
    case pc

    /// The root bus name.
    public var rootBusName: String { self == .q35 ? "pcie.0" : "pci.0" }
    /// Whether the root bus is PCIe.
    public var rootBusIsExpress: Bool { self == .q35 }

    /// The QOM type of the machine's ACPI PM device, which `-global` options name: `ICH9-LPC` (q35,
    /// the LPC bridge at 00:1f.0) or `PIIX4_PM` (pc, 00:01.3).
    public var acpiDeviceType: String { self == .q35 ? "ICH9-LPC" : "PIIX4_PM" }

    /// The QOM type of `/machine` for a QEMU release (`pc-q35-8.2-machine`).
    public func qomType(_ profile: QEMUProfile) -> String {
        let v = "\(profile.version.major).\(profile.version.minor)"
        return self == .q35 ? "pc-q35-\(v)-machine" : "pc-i440fx-\(v)-machine"
    }

    /// Built-in functions on the root bus, in QEMU's order.
    var builtinFunctions: [BuiltinFunction] {
        switch self {
        case .q35:
            return [
                BuiltinFunction(0, 0, 0x8086, 0x29C0, 0x0600, "Host bridge", pin: 0),
                BuiltinFunction(31, 0, 0x8086, 0x2918, 0x0601, "ISA bridge", pin: 0),
                BuiltinFunction(31, 2, 0x8086, 0x2922, 0x0106, "SATA controller", pin: 1),
                BuiltinFunction(31, 3, 0x8086, 0x2930, 0x0C05, "SMBus", pin: 1),
            ]
        case .pc:
            return [
                BuiltinFunction(0, 0, 0x8086, 0x1237, 0x0600, "Host bridge", pin: 0),
                BuiltinFunction(1, 0, 0x8086, 0x7000, 0x0601, "ISA bridge", pin: 0),
                BuiltinFunction(1, 1, 0x8086, 0x7010, 0x0101, "IDE controller", pin: 0),
                BuiltinFunction(1, 3, 0x8086, 0x7113, 0x0680, "Bridge", pin: 1),
            ]
        }
    }
}
