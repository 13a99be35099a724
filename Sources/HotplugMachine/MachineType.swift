import QMPWire

/// The machine types qmp-mock models, both in native-hotplug mode (QEMU with
/// `acpi-pci-hotplug-with-bridge-support=off`).
public enum MachineType: String, Sendable, CaseIterable {
    /// Q35: PCIe root bus `pcie.0`.
    case q35
    /// i440FX: conventional PCI root bus `pci.0`.
    case pc

    /// The root bus name.
    public var rootBusName: String { self == .q35 ? "pcie.0" : "pci.0" }
    /// Whether the root bus is PCIe.
    public var rootBusIsExpress: Bool { self == .q35 }

    /// The QOM type of `/machine` for a QEMU release (`pc-q35-8.2-machine`).
    public func qomType(_ profile: QEMUProfile) -> String {
        let v = "\(profile.version.major).\(profile.version.minor)"
        return self == .q35 ? "pc-q35-\(v)-machine" : "pc-i440fx-\(v)-machine"
    }

    /// Built-in functions on the root bus: (slot, function, vendor, device, class, description, subsystem vendor, subsystem).
    var builtinFunctions: [(Int, Int, UInt16, UInt16, UInt16, String)] {
        switch self {
        case .q35:
            return [
                (0, 0, 0x8086, 0x29C0, 0x0600, "Host bridge"), (31, 0, 0x8086, 0x2918, 0x0601, "ISA bridge"),
                (31, 2, 0x8086, 0x2922, 0x0106, "SATA controller"), (31, 3, 0x8086, 0x2930, 0x0C05, "SMBus"),
            ]
        case .pc:
            return [
                (0, 0, 0x8086, 0x1237, 0x0600, "Host bridge"), (1, 0, 0x8086, 0x7000, 0x0601, "ISA bridge"),
                (1, 1, 0x8086, 0x7010, 0x0101, "IDE controller"), (1, 3, 0x8086, 0x7113, 0x0680, "Bridge"),
            ]
        }
    }
}
