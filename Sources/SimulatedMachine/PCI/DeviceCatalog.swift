import QMPWire
import Synchronization

/// The device models `device_add` and the configuration file know, as data.
///
/// The built-in entries carry the facts of QEMU's models that a management stack can observe:
/// hot-pluggability, user-creatability, accepted properties, child objects and PCI identity.
/// Configuration files may add entries (``add(_:)``).
public struct DeviceCatalog: Sendable {
    private var models: [String: DeviceModel]

    /// The built-in catalog, each model passed through `adjust` (a release's differences).
    public init(adjustedBy adjust: (DeviceModel) -> DeviceModel = { $0 }) {
        models = [:]
        for model in Self.builtin + Self.backendDeviceModels { models[model.name] = adjust(model) }
        for (generic, variants) in Self.virtioVariants {
            guard let model = Self.builtinModel(generic) else { continue }
            for variant in variants {
                let fixed = variant.model(from: model)
                models[fixed.name] = adjust(fixed)
            }
        }
    }

    /// The catalog's virtio proxies QEMU also registers in fixed forms (`virtio_pci_types_register`
    /// with transitional and non-transitional names; QEMU 7.2's and 10.0's `qom-list-types`).
    static let virtioVariants: [(generic: String, variants: [VirtioVariant])] = [
        ("virtio-net-pci", VirtioVariant.allCases), ("virtio-blk-pci", VirtioVariant.allCases),
        ("virtio-scsi-pci", VirtioVariant.allCases), ("virtio-rng-pci", VirtioVariant.allCases),
        ("virtio-serial-pci", VirtioVariant.allCases), ("vhost-user-blk-pci", VirtioVariant.allCases),
        ("vhost-vsock-pci", [.nonTransitional]),
    ]

    /// The built-in catalog as `profile`'s release has it (each model through
    /// ``QEMUProfile/adjust(_:)-(DeviceModel)``), made once per process for each release: every machine of
    /// a release starts from the same value, which is what ``init(adjustedBy:)`` makes of it.
    public static func adjusted(for profile: QEMUProfile) -> DeviceCatalog {
        if let catalog = perRelease.withLock({ $0[profile.version] }) { return catalog }
        let catalog = DeviceCatalog(adjustedBy: profile.adjust)
        perRelease.withLock { $0[profile.version] = catalog }
        return catalog
    }

    /// ``adjusted(for:)``'s catalogs, by release (a handful per process).
    private static let perRelease = Mutex<[QEMUVersion: DeviceCatalog]>([:])

    /// A built-in model as the catalog is written (configuration entries start from one).
    public static func builtinModel(_ name: String) -> DeviceModel? {
        builtin.first { $0.name == name } ?? backendDeviceModels.first { $0.name == name }
    }

    /// The model of that driver name.
    public func model(_ name: String) -> DeviceModel? { models[name] }

    /// Adds or replaces a model.
    public mutating func add(_ model: DeviceModel) { models[model.name] = model }

    /// All driver names, sorted.
    public var names: [String] { models.keys.sorted() }

    // MARK: Built-in models

    /// Properties every PCI device has (`PCIDevice`): a configuration's catalog entry without
    /// `based-on` starts from these.
    public static let pciCommon: [DeviceModel.Property] = [
        .init("addr", "int32", default: .int(-1)), .init("romfile", "str"), .init("romsize", "uint32"),
        .init("rombar", "uint32", default: .int(1)), .init("multifunction", "bool", default: .bool(false)),
        .init("x-pcie-lnksta-dllla", "bool", default: .bool(true)),
        .init("x-pcie-extcap-init", "bool", default: .bool(true)), .init("failover_pair_id", "str"),
        .init("acpi-index", "uint32", default: .int(0)),
    ]

    static let portCommon: [DeviceModel.Property] = [
        .init("chassis", "uint8", default: .int(0)), .init("slot", "uint16", default: .int(0)),
        .init("port", "uint8", default: .int(0)), .init("hotplug", "bool", default: .bool(true)),
        .init("power_controller_present", "bool", default: .bool(true)),
        .init("bus-reserve", "uint32"), .init("io-reserve", "size"), .init("mem-reserve", "size"),
        .init("pref32-reserve", "size"), .init("pref64-reserve", "size"), .init("x-native-hotplug", "bool"),
    ]

    static func virtio(
        _ name: String,
        backend: String,
        legacy: UInt16,
        modern: UInt16,
        classCode: UInt16,
        description: String?,
        extra: [DeviceModel.Property]
    ) -> DeviceModel {
        DeviceModel(
            name: name,
            properties: pciCommon + virtioTransport + extra,
            children: [.init(name: "virtio-backend", type: backend)],
            vendorID: 0x1AF4,
            deviceID: legacy,
            expressDeviceID: modern,
            classCode: classCode,
            subsystemVendorID: 0x1AF4,
            subsystemID: modern - 0x1040,  // the virtio device id (transitional proxies)
            classDescription: description
        )
    }

    static let builtin: [DeviceModel] = [
        virtio(
            "virtio-net-pci",
            backend: "virtio-net-device",
            legacy: 0x1000,
            modern: 0x1041,
            classCode: 0x0200,
            description: "Ethernet controller",
            extra: virtioNetProperties
        ),
        virtio(
            "virtio-blk-pci",
            backend: "virtio-blk-device",
            legacy: 0x1001,
            modern: 0x1042,
            classCode: 0x0100,
            description: "SCSI controller",
            extra: virtioBlkProperties
        ).requiring("drive", error: "drive property not set"),
        virtio(
            "virtio-scsi-pci",
            backend: "virtio-scsi-device",
            legacy: 0x1004,
            modern: 0x1048,
            classCode: 0x0100,
            description: "SCSI controller",
            extra: virtioSCSIProperties
        ).providing(.scsi),
        virtio(
            "virtio-rng-pci",
            backend: "virtio-rng-device",
            legacy: 0x1005,
            modern: 0x1044,
            classCode: 0x00FF,
            description: nil,
            extra: virtioRNGProperties
        ),
        DeviceModel(
            name: "e1000e",
            isExpress: true,
            properties: pciCommon + [
                .init("mac", "str"), .init("netdev", "str", backend: .netdev), .init("bootindex", "int32"),
            ],
            vendorID: 0x8086,
            deviceID: 0x10D3,
            classCode: 0x0200,
            subsystemVendorID: 0x8086,
            subsystemID: 0,
            classDescription: "Ethernet controller"
        ),
        DeviceModel(
            name: "e1000",
            properties: pciCommon + [
                .init("mac", "str"), .init("netdev", "str", backend: .netdev), .init("bootindex", "int32"),
            ],
            vendorID: 0x8086,
            deviceID: 0x100E,
            classCode: 0x0200,
            subsystemVendorID: 0x1AF4,
            subsystemID: 0x1100,
            classDescription: "Ethernet controller"
        ),
        DeviceModel(
            name: "nvme",
            isExpress: true,
            properties: pciCommon + [
                .init("drive", "str", backend: .block), .init("serial", "str"), .init("bootindex", "int32"),
                .init("share-rw", "bool"),
            ],
            vendorID: 0x1B36,
            deviceID: 0x0010,
            classCode: 0x0108,
            subsystemVendorID: 0x1AF4,
            subsystemID: 0x1100,
            classDescription: "NVMe controller"
        ).requiring("serial", error: "serial property not set"),
        DeviceModel(
            name: "vfio-pci",
            isExpress: true,
            properties: pciCommon + [.init("host", "str"), .init("sysfsdev", "str"), .init("x-no-mmap", "bool")],
            vendorID: 0x8086,
            deviceID: 0x154C,
            classCode: 0x0200,
            subsystemVendorID: 0x8086,
            subsystemID: 0,
            classDescription: "Ethernet controller"
        ),
        DeviceModel(
            name: "pci-testdev",
            properties: pciCommon + [.init("membar", "size")],
            vendorID: 0x1B36,
            deviceID: 0x0005,
            classCode: 0x00FF,
            subsystemVendorID: 0x1AF4,
            subsystemID: 0x1100,
            interruptPin: 0
        ),
        // A 16550 UART on PCI: the hot-pluggable device that takes `chardev=` directly. QEMU's
        // `chardev` belongs to its `serial` child (`Property 'serial.chardev' ...`), whose
        // DEVICE_DELETED comes first. Identity from QEMU 7.2.22's `query-pci`.
        DeviceModel(
            name: "pci-serial",
            properties: pciCommon + [
                .init("chardev", "str", backend: .chardev), .init("baudbase", "uint32"), .init("prog_if", "uint8"),
            ],
            children: [.init(name: "serial", type: "serial")],
            vendorID: 0x1B36,
            deviceID: 0x0002,
            classCode: 0x0700,
            subsystemVendorID: 0x1AF4,
            subsystemID: 0x1100,
            classDescription: "Serial port"
        ),
        DeviceModel(
            name: "pcie-root-port",
            kind: .rootPort,
            isExpress: true,
            properties: pciCommon + portCommon,
            vendorID: 0x1B36,
            deviceID: 0x000C,
            classCode: 0x0604,
            classDescription: "PCI bridge"
        ),
        DeviceModel(
            name: "x3130-upstream",
            kind: .upstreamPort,
            isExpress: true,
            properties: pciCommon,
            vendorID: 0x104C,
            deviceID: 0x8232,
            classCode: 0x0604,
            classDescription: "PCI bridge",
            interruptPin: 0  // MSI only: QEMU leaves the pin at 0
        ),
        DeviceModel(
            name: "xio3130-downstream",
            kind: .downstreamPort,
            isExpress: true,
            properties: pciCommon + portCommon,
            vendorID: 0x104C,
            deviceID: 0x8233,
            classCode: 0x0604,
            classDescription: "PCI bridge",
            interruptPin: 0  // MSI only: QEMU leaves the pin at 0
        ),
        DeviceModel(
            name: "pcie-pci-bridge",
            kind: .pciePCIBridge,
            isExpress: true,
            properties: pciCommon + [.init("msi", "OnOffAuto")],
            vendorID: 0x1B36,
            deviceID: 0x000E,
            classCode: 0x0604,
            classDescription: "PCI bridge"
        ),
        DeviceModel(
            name: "pci-bridge",
            kind: .pciBridge,
            properties: pciCommon + [
                .init("chassis_nr", "uint8", default: .int(0)), .init("shpc", "bool", default: .bool(true)),
                .init("msi", "OnOffAuto"), .init("bus-reserve", "uint32"),
            ],
            vendorID: 0x1B36,
            deviceID: 0x0001,
            classCode: 0x0604,
            classDescription: "PCI bridge"
        ),
        DeviceModel(
            name: "isa-serial",
            kind: .nonPCI,
            properties: [.init("index", "uint32"), .init("chardev", "str", backend: .chardev)],
            vendorID: 0,
            deviceID: 0,
            classCode: 0
        ).plugged(into: .isa),
        // SCSI disks on a SCSI controller's bus: no PCI identity; `drive` is required by scsi-hd,
        // optional for scsi-cd (an empty tray).
        DeviceModel(name: "scsi-hd", properties: scsiHDProperties, vendorID: 0, deviceID: 0, classCode: 0)
            .plugged(into: .scsi).requiring("drive", error: "drive property not set"),
        DeviceModel(name: "scsi-cd", properties: scsiCDProperties, vendorID: 0, deviceID: 0, classCode: 0)
            .plugged(into: .scsi),
    ]
}
