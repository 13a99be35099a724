/// What role a device model plays in the PCI topology.
public enum DeviceKind: String, Sendable, Equatable {
    /// An ordinary PCI or PCIe function (NIC, disk controller, ...).
    case endpoint
    /// `pcie-root-port`: a PCIe downstream port with a native-hotplug slot, on a root bus.
    case rootPort = "root-port"
    /// `x3130-upstream`: the upstream port of a switch; its bus holds downstream ports.
    case upstreamPort = "upstream-port"
    /// `xio3130-downstream`: a switch downstream port with a native-hotplug slot.
    case downstreamPort = "downstream-port"
    /// `pci-bridge`: a conventional PCI bridge, with an SHPC unless `shpc=off`.
    case pciBridge = "pci-bridge"
    /// `pcie-pci-bridge`: a PCIe-to-PCI bridge whose conventional bus always has an SHPC.
    case pciePCIBridge = "pcie-pci-bridge"
    /// A device of a bus other than PCI (e.g. `isa-serial`); it can never be hot-plugged here.
    case nonPCI = "non-pci"

    /// Whether the device is a PCIe port with a native-hotplug slot.
    public var hasPCIeSlot: Bool { self == .rootPort || self == .downstreamPort }
    /// Whether the device is a bridge that may carry an SHPC.
    public var mayHaveSHPC: Bool { self == .pciBridge || self == .pciePCIBridge }
    /// Whether the device creates a secondary bus.
    public var hasSecondaryBus: Bool { self != .endpoint && self != .nonPCI }
}
