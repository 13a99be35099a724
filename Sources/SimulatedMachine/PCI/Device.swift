public import QMPWire

/// A device of the simulated machine (a `-device` or `device_add`): its model, identity, PCI address,
/// and, for ports and bridges, its secondary bus and hotplug controller registers.
///
/// Per-device state is small: the hotplug state machine lives in the controller's registers
/// (``PCIeSlot``, ``SHPCController``), never in a parallel status field.
public final class Device {
    public let model: DeviceModel
    /// The `id` given by the user; nil for anonymous devices.
    public let id: String?
    /// The canonical QOM path: `/machine/peripheral/ID` or `/machine/peripheral-anon/device[N]`.
    public let path: String
    /// The bus the device sits on; cleared when the device is removed. `unowned` rather than `weak`:
    /// a weak reference gives every bus a side table and sends all its reference counting down
    /// the slow path (measured: 15% of a hot-plug cycle).
    public internal(set) unowned(unsafe) var parentBus: PCIBus?
    /// Slot << 3 | function on the parent bus.
    public let devfn: UInt8
    /// Properties given at creation, as parsed.
    public internal(set) var properties: [String: JSONValue]
    /// The backends the device holds (its `drive`, `netdev`, `chardev` and link properties), released
    /// when it is destroyed.
    public internal(set) var links: [BackendLink] = []
    /// Descriptors the device took from `getfd` names (`vhost-vsock-pci`'s `vhostfd`), closed when
    /// it is destroyed.
    public internal(set) var descriptors: [Int32] = []
    /// The secondary bus of a port or bridge.
    public internal(set) var secondaryBus: PCIBus?
    /// The non-PCI bus the device provides (``DeviceModel/providesBus``: a SCSI or virtio-serial bus).
    public internal(set) var childBus: PCIBus?
    /// Slot registers of a root or downstream port.
    public internal(set) var pcieSlot: PCIeSlot? {
        didSet {
            if let new = pcieSlot, let old = oldValue, new.notificationCount > old.notificationCount {
                interruptHandler?(self)
            }
        }
    }
    /// SHPC registers of a bridge with a standard hotplug controller.
    public internal(set) var shpc: SHPCController? {
        didSet {
            if let new = shpc, let old = oldValue, new.notificationCount > old.notificationCount {
                interruptHandler?(self)
            }
        }
    }
    /// Called when the controller's interrupt line rises (a hot-plug interrupt a guest driver takes).
    var interruptHandler: ((Device) -> Void)?
    /// Added by `device_add` (true) or by the configuration at start (false).
    public let isHotplugged: Bool
    /// The v8 once-per-lifetime flag: `X_DEVICE_ON` was sent (`device-on` of `x-query-hotplug`).
    public internal(set) var deviceOnSent = false
    /// Virtual time (ns) until which a PCIe unplug request is pending (`pending_deleted_expires_ms`).
    public internal(set) var pendingUnplugDeadline: Int64?
    /// `N` of `device[N]` for anonymous devices.
    let anonymousIndex: Int?

    init(
        model: DeviceModel,
        id: String?,
        anonymousIndex: Int?,
        path: String? = nil,
        devfn: UInt8,
        properties: [String: JSONValue],
        hotplugged: Bool
    ) {
        self.model = model
        self.id = id
        self.anonymousIndex = anonymousIndex
        self.path =
            path ?? id.map { "/machine/peripheral/\($0)" }
            ?? "/machine/peripheral-anon/device[\(anonymousIndex ?? 0)]"
        self.devfn = devfn
        self.properties = properties
        self.isHotplugged = hotplugged
    }

    /// A copy of `other`'s own state, on no bus, with no buses of its own and no interrupt handler
    /// (``MachineCopier`` links the copies).
    init(copying other: Device) {
        model = other.model
        id = other.id
        path = other.path
        devfn = other.devfn
        properties = other.properties
        links = other.links
        descriptors = other.descriptors
        pcieSlot = other.pcieSlot
        shpc = other.shpc
        isHotplugged = other.isHotplugged
        deviceOnSent = other.deviceOnSent
        pendingUnplugDeadline = other.pendingUnplugDeadline
        anonymousIndex = other.anonymousIndex
    }

    public var slot: Int { Int(devfn >> 3) }
    public var function: Int { Int(devfn & 7) }

    /// `{"device": ID, "path": PATH}` (`DeviceAndPath`; `device` omitted without an id).
    public var deviceAndPath: JSONObject {
        var object = JSONObject(capacity: 2)
        if let id { object.append("device", .string(id)) }
        object.append("path", .string(path))
        return object
    }

    /// A property's value as given, or the model's default.
    public func property(_ name: String) -> JSONValue? {
        if let value = properties[name] { return value }
        guard let defaultValue = model.property(name)?.defaultValue else { return nil }
        switch defaultValue {
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .string(let s): return .string(s)
        case .none: return nil
        }
    }

    /// A boolean property (given or default).
    func flag(_ name: String) -> Bool { property(name)?.boolValue ?? false }
    /// An integer property (given or default).
    func integer(_ name: String) -> Int64 { property(name)?.int64Value ?? 0 }

    /// The id, or the QOM path of an anonymous device: how the control plane names devices.
    public var name: String { id ?? path }

    /// What `DEVICE_DELETED` and the error texts call this device when it has no id.
    var idForErrors: String { id ?? "(null)" }
}
