/// The type of a bus, as QEMU's QOM names it (`PCIE`, `PCI`, `SCSI`, `virtio-serial-bus`): what
/// a device model plugs into and what `device_add`'s `bus` must name.
///
/// PCI buses hold functions at slot/function addresses with a hotplug controller (port or SHPC);
/// the other buses belong to a controller device (`virtio-scsi-pci`, `virtio-serial-pci`) and plug
/// their devices at once, with no guest involved (QEMU's SCSI and virtio-serial hotplug handlers).
public enum BusKind: String, Sendable, Equatable {
    /// A conventional PCI bus (`PCI`).
    case pci = "PCI"
    /// A PCI Express bus (`PCIE`).
    case pcie = "PCIE"
    /// The machine's ISA bus (`isa.0`): never takes hot-plugged devices.
    case isa = "ISA"
    /// A SCSI bus of a SCSI controller (`scsi0.0`), holding `scsi-hd` and `scsi-cd` at
    /// channel/target/LUN addresses.
    case scsi = "SCSI"
    /// The port bus of a `virtio-serial-pci` (`vs0.0`), holding `virtserialport` and `virtconsole`.
    case virtioSerial = "virtio-serial-bus"

    /// A PCI or PCIe bus.
    public var isPCI: Bool { self == .pci || self == .pcie }

    /// Whether a device model that plugs into `wanted` may sit on a bus of this kind (PCI models go
    /// on either PCI bus).
    public func accepts(_ wanted: BusKind) -> Bool { isPCI ? wanted.isPCI : self == wanted }

    /// The prefix of an automatic bus name (QEMU: the lowercased type name plus a per-type counter).
    var automaticNamePrefix: String { rawValue.lowercased() }
}
