/// What one hot-plug cycle of the benchmark does around `device_add`/`device_del`: a bare PCI
/// device, or a device with its backend, as stacks plug disks and NICs (backend, device,
/// `X_DEVICE_ON`, unplug, `DEVICE_DELETED`, backend removal); or a bare PCI device on a port ACPI
/// hot-plug serves (no `X_DEVICE_ON`: the guest's GPE handler scans, acpiphp ejects 20 ms after
/// `device_del`).
enum HotplugFlow: Sendable {
    /// `virtio-net-pci` without a backend (the PCI-only cycle).
    case pci
    /// `blockdev-add` of a `null-co` node, `virtio-blk-pci drive=`, then `blockdev-del`.
    case disk
    /// `netdev_add type=user`, `virtio-net-pci netdev=`, then `netdev_del` (a `user` netdev, not a
    /// tap: the benchmark measures the daemon, not descriptor passing).
    case nic
    /// `virtio-net-pci` without a backend on a machine with QEMU's default ACPI PCI hot-plug.
    case acpiPCI

    /// Whether the guest's acceptance is an `X_DEVICE_ON` (native hot-plug) the cycle waits for.
    var waitsForDeviceOn: Bool { self != .acpiPCI }

    /// The virtual time a removal takes (the cycle advances the manual clock this far): pciehp's
    /// 5 s button window plus 1 s, or acpiphp's 20 ms.
    var removalAdvanceMilliseconds: Int { self == .acpiPCI ? 50 : 7000 }

    /// Requests before `device_add` (their replies must be `{}`).
    func before(_ id: String) -> [[UInt8]] {
        switch self {
        case .pci, .acpiPCI: return []
        case .disk:
            return [
                Measure.request(
                    "blockdev-add",
                    arguments: "{\"driver\": \"null-co\", \"node-name\": \"\(id)-disk\", \"size\": 1073741824}"
                )
            ]
        case .nic:
            return [Measure.request("netdev_add", arguments: "{\"type\": \"user\", \"id\": \"\(id)-net\"}")]
        }
    }

    /// `device_add`'s arguments.
    func device(_ id: String, bus: String) -> String {
        switch self {
        case .pci, .acpiPCI: return "{\"driver\": \"virtio-net-pci\", \"id\": \"\(id)\", \"bus\": \"\(bus)\"}"
        case .disk:
            return "{\"driver\": \"virtio-blk-pci\", \"id\": \"\(id)\", \"bus\": \"\(bus)\", \"drive\": \"\(id)-disk\"}"
        case .nic:
            return "{\"driver\": \"virtio-net-pci\", \"id\": \"\(id)\", \"bus\": \"\(bus)\", \"netdev\": \"\(id)-net\"}"
        }
    }

    /// Requests after `DEVICE_DELETED`.
    func after(_ id: String) -> [[UInt8]] {
        switch self {
        case .pci, .acpiPCI: return []
        case .disk: return [Measure.request("blockdev-del", arguments: "{\"node-name\": \"\(id)-disk\"}")]
        case .nic: return [Measure.request("netdev_del", arguments: "{\"id\": \"\(id)-net\"}")]
        }
    }
}
