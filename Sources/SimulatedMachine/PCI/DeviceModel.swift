/// A device model of the catalog: what QEMU knows about a `-device` driver and the mock needs to
/// reproduce its behaviour (`qom-list-types`-like facts plus PCI identity for `query-pci`).
public struct DeviceModel: Sendable, Equatable {
    /// The driver name (`virtio-net-pci`).
    public var name: String
    /// For a fixed form of a virtio proxy (``VirtioVariant``), the generic model it comes from
    /// (`virtio-blk-pci` for `virtio-blk-pci-non-transitional`): realize rules and release
    /// adjustments key on ``family``.
    public var genericName: String?
    /// The generic model's name for a ``VirtioVariant``, else the model's own.
    public var family: String { genericName ?? name }
    public var kind: DeviceKind
    /// A PCI Express function (e1000e, nvme, ports); conventional PCI otherwise.
    public var isExpress: Bool
    /// `DeviceClass.hotpluggable`.
    public var isHotpluggable: Bool
    /// `DeviceClass.user_creatable`: may be named in `device_add`.
    public var isUserCreatable: Bool
    /// Properties `device_add` accepts besides `driver`, `id` and `bus`, with their QOM types.
    public var properties: [Property] { didSet { propertyIndex = Self.index(properties) } }
    /// Positions in ``properties`` by name: a virtio model has some 70 properties, and `device_add`
    /// looks up each argument (the hot-plug cycle is benchmarked).
    private var propertyIndex: [String: Int]
    /// The bus type the device plugs into: PCI (either PCI bus), or ISA, SCSI, virtio-serial.
    public var pluggedInto: BusKind = .pci
    /// The non-PCI bus the device provides (`virtio-scsi-pci`: a SCSI bus named `ID.0`), a child of
    /// its virtio backend; nil for most models.
    public var providesBus: BusKind?
    /// Child objects destroyed with the device, each with its own path-only `DEVICE_DELETED`
    /// (`virtio-backend` for virtio proxies).
    public var children: [Child]
    /// PCI vendor and device ids, class code and subsystem ids.
    public var vendorID: UInt16
    public var deviceID: UInt16
    /// The device id when the function sits on a PCIe bus and the model is a virtio proxy
    /// (`disable-legacy=auto` makes it modern-only there); nil when the id does not change.
    public var expressDeviceID: UInt16?
    public var classCode: UInt16
    public var subsystemVendorID: UInt16?
    public var subsystemID: UInt16?
    /// `class_info.desc` of `query-pci`, when QEMU has one for the class.
    public var classDescription: String?
    /// Configuration-space Interrupt Pin (`irq_pin` of `query-pci`): 1 (INTA#) unless the model says.
    public var interruptPin: UInt8

    /// Properties the model's realize refuses to do without, each with QEMU's error text
    /// (`virtio-blk-pci` without `drive`). Checked after the address, as realize runs after it.
    public var requiredProperties: [Requirement] = []

    /// A property realize needs, and QEMU's error when it is not set.
    public struct Requirement: Sendable, Equatable {
        /// The property (`drive`).
        public var name: String
        /// QEMU's error text when it is missing (`drive property not set`).
        public var error: String
    }

    /// The same model, with one more property its realize needs.
    public func requiring(_ name: String, error: String) -> DeviceModel {
        var copy = self
        copy.requiredProperties.append(Requirement(name: name, error: error))
        return copy
    }

    /// A `-device` property.
    public struct Property: Sendable, Equatable {
        public var name: String
        /// The QOM type `qom-list` reports (`bool`, `uint8`, `str`, `int32`, ...).
        public var type: String
        public var defaultValue: JSONDefault
        /// Set when the property names a backend the device then holds (``BackendKind``).
        public var backend: BackendKind?
        public init(
            _ name: String,
            _ type: String,
            default defaultValue: JSONDefault = .none,
            backend: BackendKind? = nil
        ) {
            self.name = name
            self.type = type
            self.defaultValue = defaultValue
            self.backend = backend
        }
    }

    /// A property default as `qom-get` reports it before anything is set.
    public enum JSONDefault: Sendable, Equatable {
        case none
        case bool(Bool)
        case int(Int64)
        case string(String)
    }

    /// A child object (QOM child), e.g. `virtio-backend` of type `virtio-net-device`.
    public struct Child: Sendable, Equatable {
        public var name: String
        public var type: String
        public init(name: String, type: String) {
            self.name = name
            self.type = type
        }
    }

    public init(
        name: String,
        kind: DeviceKind = .endpoint,
        isExpress: Bool = false,
        isHotpluggable: Bool = true,
        isUserCreatable: Bool = true,
        properties: [Property] = [],
        children: [Child] = [],
        vendorID: UInt16,
        deviceID: UInt16,
        expressDeviceID: UInt16? = nil,
        classCode: UInt16,
        subsystemVendorID: UInt16? = nil,
        subsystemID: UInt16? = nil,
        classDescription: String? = nil,
        interruptPin: UInt8 = 1
    ) {
        self.name = name
        self.kind = kind
        self.isExpress = isExpress
        self.isHotpluggable = isHotpluggable
        self.isUserCreatable = isUserCreatable
        self.properties = properties
        self.propertyIndex = Self.index(properties)
        self.children = children
        self.vendorID = vendorID
        self.deviceID = deviceID
        self.expressDeviceID = expressDeviceID
        self.classCode = classCode
        self.subsystemVendorID = subsystemVendorID
        self.subsystemID = subsystemID
        self.classDescription = classDescription
        self.interruptPin = interruptPin
    }

    /// Device and subsystem ids as the function reports them on its bus. A virtio proxy on a PCIe bus is
    /// modern-only (`disable-legacy=auto`): the modern device id, and QEMU's default subsystem id (0x1100)
    /// because only transitional proxies set the subsystem to the virtio device id.
    /// A transitional proxy (``VirtioVariant/transitional``) keeps its legacy identity there.
    public func identity(onExpressBus: Bool) -> (deviceID: UInt16, subsystemID: UInt16?) {
        guard onExpressBus, let modern = expressDeviceID, modern != deviceID else { return (deviceID, subsystemID) }
        return (modern, Self.defaultSubsystemID)
    }

    /// QEMU's subsystem id for functions that do not set their own (`PCI_SUBDEVICE_ID_QEMU`).
    public static let defaultSubsystemID: UInt16 = 0x1100

    /// Whether the function has a PCI Express capability when it sits on a PCIe bus: express models,
    /// and virtio proxies (which add one there).
    public var isExpressOnPCIeBus: Bool { isExpress || expressDeviceID != nil }

    /// The property of that name, if the model has it.
    public func property(_ name: String) -> Property? { propertyIndex[name].map { properties[$0] } }

    private static func index(_ properties: [Property]) -> [String: Int] {
        var index: [String: Int] = [:]
        index.reserveCapacity(properties.count)
        for (position, property) in properties.enumerated() where index[property.name] == nil {
            index[property.name] = position
        }
        return index
    }

    /// The bus type `device_add` looks for: ``pluggedInto``, or ISA for a non-PCI model that does
    /// not say (configuration entries with `kind: non-pci`).
    public var busType: BusKind { kind == .nonPCI && pluggedInto.isPCI ? .isa : pluggedInto }

    /// The same model, plugged into another bus type (and not a PCI function).
    func plugged(into bus: BusKind) -> DeviceModel {
        var copy = self
        copy.pluggedInto = bus
        copy.kind = .nonPCI
        return copy
    }

    /// The same model, providing a non-PCI bus of that type.
    func providing(_ bus: BusKind) -> DeviceModel {
        var copy = self
        copy.providesBus = bus
        return copy
    }
}
