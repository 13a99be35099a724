import QMPWire

/// What the simulated machine is made of: its type, the controllers and devices present at start
/// (cold-plugged, like `-device` options), and device models added to the catalog.
///
/// A plain value: the machine never sees configuration text. `YAMLConfig` reads it from a file's
/// YAML (`MachineConfiguration.load(yaml:)`), and ``standard`` is the embedded default.
public struct MachineConfiguration: Sendable {
    public var machineType: MachineType
    /// `-accel`, `-smp`, `-m` and `-global` (`accel:`, `smp:`, `memory:`, `globals:` in a file). An empty
    /// configuration has none: QEMU's defaults, so ACPI PCI hot-plug.
    public var board = BoardOptions()
    /// Block nodes created before the devices, each as `blockdev-add` arguments (QEMU's `-blockdev`).
    public var blockdevs: [BackendEntry] = []
    /// Cold-plugged devices in creation order (controllers first, as the file lists them).
    public var devices: [DeviceSpec]
    /// Models added to (or replacing in) the built-in catalog.
    public var catalogAdditions: [DeviceModel]
    /// Network backends created before the devices (`netdevs:`), each `netdev_add`'s arguments (QEMU's
    /// `-netdev` in JSON form) with the line it came from.
    public var netdevs: [BackendEntry] = []
    /// User-creatable objects created first (`objects:`), each `object-add`'s arguments (QEMU's `-object`
    /// in JSON form) with the line it came from.
    public var objects: [BackendEntry] = []
    /// Character devices created after the objects (`chardevs:`), each `chardev-add`'s arguments
    /// (`id` and `backend`, QEMU's `-chardev` in JSON form) with the line it came from.
    public var chardevs: [BackendEntry] = []
    /// `-machine memory-backend=ID`: the user object (an `objects:` entry) that is the guest's RAM,
    /// in place of the built-in `pc.ram` QEMU makes only when no backend is named; it is in use for
    /// the machine's life.
    public var memoryBackend: String?
    /// Legacy drives (QEMU's `-drive if=none,...`), created after the block nodes, each with its
    /// option text (``BackendEntry/textOptions``), as HMP's `drive_add` makes them.
    public var drives: [BackendEntry] = []

    public init(machineType: MachineType = .q35, devices: [DeviceSpec] = [], catalogAdditions: [DeviceModel] = []) {
        self.machineType = machineType
        self.devices = devices
        self.catalogAdditions = catalogAdditions
    }

    /// The embedded default machine, used when no configuration file is given:
    /// q35 with native PCI hot-plug (`ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off`); `pcie-root-port` `pci.1`…`pci.4` (chassis and slot 1–4) empty with hotplug on; `pci.5`
    /// empty with `hotplug=off`; `pci.6` holding the `pcie-pci-bridge` `pci.7` (SHPC); `pci.8`
    /// holding the cold-plugged `virtio-blk-pci` `virtio-disk0`, whose drive is the raw node
    /// `libvirt-1-format` over the `null-co` node `libvirt-1-storage`.
    public static let standard: MachineConfiguration = {
        var devices: [DeviceSpec] = []
        for n in 1...8 where n != 7 {
            var properties: JSONObject = [
                "chassis": .int(Int64(n)), "slot": .int(Int64(n)), "addr": .string("0x\(n + 1)"),
            ]
            if n == 5 { properties.append("hotplug", .bool(false)) }
            devices.append(DeviceSpec(driver: "pcie-root-port", id: "pci.\(n)", bus: "pcie.0", properties: properties))
        }
        devices.append(DeviceSpec(driver: "pcie-pci-bridge", id: "pci.7", bus: "pci.6"))
        devices.append(
            DeviceSpec(
                driver: "virtio-blk-pci",
                id: "virtio-disk0",
                bus: "pci.8",
                properties: JSONObject([("drive", .string("libvirt-1-format"))])
            )
        )
        var configuration = MachineConfiguration(machineType: .q35, devices: devices)
        // Native PCIe and SHPC hot-plug, as qmp-mock's first releases ran (and libvirt's q35 guests
        // with `acpi-pci-hotplug-with-bridge-support=off`).
        configuration.board = .nativePCIHotplug(.q35)
        // The disk's backend as libvirt gives it: a raw node over a null-co node.
        configuration.blockdevs = [
            BackendEntry(["driver": "null-co", "node-name": "libvirt-1-storage"]),
            BackendEntry(
                [
                    "node-name": "libvirt-1-format", "read-only": .bool(false), "driver": "raw",
                    "file": "libvirt-1-storage",
                ]
            ),
        ]
        return configuration
    }()
}
