/// Where a guest I/O-port access lands: one of the ACPI register blocks, at an offset in it, or
/// nowhere (unassigned ports read all ones and ignore writes, as QEMU's unassigned I/O does).
public enum IOPortRegion: Sendable, Equatable {
    /// PM1 status and enable (PMBASE+0, 4 bytes: ``PM1Block``).
    case pm1Event(offset: Int)
    /// PM1 control (PMBASE+4, 2 bytes).
    case pm1Control(offset: Int)
    /// The PM timer (PMBASE+8, 4 bytes).
    case pmTimer(offset: Int)
    /// GPE0 of the ACPI PM device (``GPE0Block``).
    case gpe(offset: Int)
    /// The ACPI PCI hot-plug block (``ACPIPCIHotplug``).
    case acpiPCI(offset: Int)
    /// The ACPI CPU hot-plug interface (``ACPICPUHotplug``).
    case cpuHotplug(offset: Int)
    /// The ACPI memory hot-plug block (``ACPIMemoryHotplug``).
    case memoryHotplug(offset: Int)
    /// No device decodes the port.
    case unassigned

    /// The name `GUEST_REGISTER_WRITE` reports as the register: `pm1-event`, `pm1-control`, `pm-timer`,
    /// `gpe0`, `acpi-pci-hotplug`, `acpi-cpu-hotplug`, `acpi-memory-hotplug` or `unassigned`.
    public var name: String {
        switch self {
        case .pm1Event: return "pm1-event"
        case .pm1Control: return "pm1-control"
        case .pmTimer: return "pm-timer"
        case .gpe: return "gpe0"
        case .acpiPCI: return "acpi-pci-hotplug"
        case .cpuHotplug: return "acpi-cpu-hotplug"
        case .memoryHotplug: return "acpi-memory-hotplug"
        case .unassigned: return "unassigned"
        }
    }
}
