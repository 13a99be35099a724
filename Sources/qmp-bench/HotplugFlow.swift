/// What one hot-plug cycle of the benchmark does around `device_add`/`device_del`: a bare PCI
/// device, or a device with its backend, as stacks plug disks and NICs (backend, device,
/// `X_DEVICE_ON`, unplug, `DEVICE_DELETED`, backend removal), or a DIMM through ACPI memory
/// hot-plug (memory backend, `pc-dimm`, the guest's `_OST`, unplug, eject, backend removal).
enum HotplugFlow: Sendable {
    /// `virtio-net-pci` without a backend (the PCI-only cycle).
    case pci
    /// `blockdev-add` of a `null-co` node, `virtio-blk-pci drive=`, then `blockdev-del`.
    case disk
    /// `netdev_add type=user`, `virtio-net-pci netdev=`, then `netdev_del` (a `user` netdev, not a
    /// tap: the benchmark measures the daemon, not descriptor passing).
    case nic
    /// `object-add` of a 128 MiB `memory-backend-ram`, `pc-dimm memdev=`, the guest's
    /// `ACPI_DEVICE_OST`, `device_del`, its eject's `DEVICE_DELETED`, then `object-del` (needs a
    /// machine with DIMM slots: ``dimmConfiguration``).
    case dimm

    /// A machine for the DIMM cycle: `-m 512M,slots=4,maxmem=4G`, no PCI devices.
    static let dimmConfiguration = "machine: q35\nmemory: {size: 512M, slots: 4, maxmem: 4G}\n"

    /// The event that says the guest took the device.
    var addedEvent: [UInt8] { Array((self == .dimm ? "ACPI_DEVICE_OST" : "X_DEVICE_ON").utf8) }

    /// What marks the device's removal in an event line (a DIMM's `ACPI_DEVICE_OST` names it too).
    func removedEvent(_ id: String) -> [UInt8] {
        Array((self == .dimm ? "\"DEVICE_DELETED\", \"data\": {\"device\": \"\(id)\"" : "\"device\": \"\(id)\"").utf8)
    }

    /// Requests before `device_add` (their replies must be `{}`).
    func before(_ id: String) -> [[UInt8]] {
        switch self {
        case .pci: return []
        case .disk:
            return [
                Measure.request(
                    "blockdev-add",
                    arguments: "{\"driver\": \"null-co\", \"node-name\": \"\(id)-disk\", \"size\": 1073741824}"
                )
            ]
        case .nic:
            return [Measure.request("netdev_add", arguments: "{\"type\": \"user\", \"id\": \"\(id)-net\"}")]
        case .dimm:
            return [
                Measure.request(
                    "object-add",
                    arguments: "{\"qom-type\": \"memory-backend-ram\", \"id\": \"\(id)-mem\", \"size\": 134217728}"
                )
            ]
        }
    }

    /// `device_add`'s arguments.
    func device(_ id: String, bus: String) -> String {
        switch self {
        case .pci: return "{\"driver\": \"virtio-net-pci\", \"id\": \"\(id)\", \"bus\": \"\(bus)\"}"
        case .disk:
            return "{\"driver\": \"virtio-blk-pci\", \"id\": \"\(id)\", \"bus\": \"\(bus)\", \"drive\": \"\(id)-disk\"}"
        case .nic:
            return "{\"driver\": \"virtio-net-pci\", \"id\": \"\(id)\", \"bus\": \"\(bus)\", \"netdev\": \"\(id)-net\"}"
        case .dimm: return "{\"driver\": \"pc-dimm\", \"id\": \"\(id)\", \"memdev\": \"\(id)-mem\"}"
        }
    }

    /// Requests after `DEVICE_DELETED`.
    func after(_ id: String) -> [[UInt8]] {
        switch self {
        case .pci: return []
        case .disk: return [Measure.request("blockdev-del", arguments: "{\"node-name\": \"\(id)-disk\"}")]
        case .nic: return [Measure.request("netdev_del", arguments: "{\"id\": \"\(id)-net\"}")]
        case .dimm: return [Measure.request("object-del", arguments: "{\"id\": \"\(id)-mem\"}")]
        }
    }
}
