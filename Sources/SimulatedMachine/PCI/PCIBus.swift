/// A bus of the simulated machine: the root bus, the secondary bus of a port or bridge, or the
/// non-PCI bus of a controller device (a SCSI or virtio-serial bus, ``BusKind``).
public final class PCIBus {
    /// The bus name `device_add`'s `bus` argument names: `pcie.0`/`pci.0` for the root bus, the id of
    /// the port or bridge that owns it, or `pci.N`/`pcie.N` for an anonymous owner.
    public let name: String
    /// The bus type (`PCIE`, `PCI`, `SCSI`, `virtio-serial-bus`).
    public let kind: BusKind
    /// A PCIe bus (QOM type `PCIE`) rather than conventional PCI (`PCI`).
    public var isExpress: Bool { kind == .pcie }
    /// The port or bridge whose secondary bus this is; nil for the root bus. Not `weak` (see
    /// ``Device/parentBus``): the owner outlives its bus in the machine, and ``Machine`` clears it
    /// when the owner is removed.
    public internal(set) unowned(unsafe) var owner: Device?
    /// Devices by devfn (slot << 3 | function); in devfn order as a sequence.
    public private(set) var devices = DevfnTable()
    /// Devices in the order they were added (QOM destroys a bus's children newest first).
    public internal(set) var children: [Device] = []

    init(name: String, isExpress: Bool, owner: Device?) {
        self.name = name
        self.kind = isExpress ? .pcie : .pci
        self.owner = owner
    }

    init(name: String, kind: BusKind, owner: Device?) {
        self.name = name
        self.kind = kind
        self.owner = owner
    }

    /// An empty bus named and typed as `other` (``MachineCopier`` fills it).
    init(copying other: PCIBus) {
        name = other.name
        kind = other.kind
    }

    /// Takes `other`'s owner and devices, each replaced by `copy(_:)` of it.
    func adopt(_ other: PCIBus, copy: (Device) -> Device) {
        owner = other.owner.map(copy)
        devices = other.devices.map(copy)
        children = other.children.map(copy)
    }

    /// The device at a slot and function.
    public func device(slot: Int, function: Int) -> Device? { devices[UInt8(slot << 3 | function)] }

    /// The QOM type name of the bus (`PCIE` or `PCI`), as errors print it.
    public var typeName: String { kind.rawValue }

    /// The bus's QOM path: a non-PCI bus is a child of its controller's virtio backend
    /// (`/machine/peripheral/scsi0/virtio-backend/scsi0.0`).
    public var qomPath: String {
        let parent = owner?.path ?? "/machine"
        return kind.isPCI ? "\(parent)/\(name)" : "\(parent)/virtio-backend/\(name)"
    }

    /// Whether the bus sits behind a root or downstream port: then only device 0 exists and function 0
    /// is `devices[0]` (QEMU's `pcie_has_upstream_port`).
    public var isPortBus: Bool { owner?.model.kind.hasPCIeSlot ?? false }

    func insert(_ device: Device) {
        if kind.isPCI { devices[device.devfn] = device }
        children.append(device)
    }

    func remove(_ device: Device) {
        if devices[device.devfn] === device { devices[device.devfn] = nil }
        children.removeAll { $0 === device }
        device.parentBus = nil
    }
}
