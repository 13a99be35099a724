/// What one hot-plug cycle of the benchmark does around `device_add`/`device_del`: a bare PCI
/// device, or a device with its backend, as stacks plug disks and NICs (backend, device,
/// `X_DEVICE_ON`, unplug, `DEVICE_DELETED`, backend removal); a bare PCI device on a port ACPI
/// hot-plug serves (no `X_DEVICE_ON`: the guest's GPE handler scans, acpiphp ejects 20 ms after
/// `device_del`); a CPU through ACPI CPU hot-plug; or a DIMM through ACPI memory hot-plug (memory
/// backend, `pc-dimm`, the guest's `_OST`, unplug, eject, backend removal).
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

    /// `virtio-net-pci` without a backend on a machine with QEMU's default ACPI PCI hot-plug.
    case acpiPCI

    /// The virtual time a removal takes (the cycle advances the manual clock this far): pciehp's
    /// 5 s button window plus 1 s, or acpiphp's 20 ms (the processor driver's offline, 20 ms).
    var removalAdvanceMilliseconds: Int {
        switch self {
        case .acpiPCI, .cpu: return 50
        case .dimm: return 1000
        default: return 7000
        }
    }
    /// ACPI CPU hot-plug: `device_add qemu64-x86_64-cpu` at core 1 of a `-smp 1,maxcpus=2` machine
    /// (``cpuMachineYAML``), the guest's `ACPI_DEVICE_OST` instead of `X_DEVICE_ON`, `device_del`,
    /// the guest's eject and `DEVICE_DELETED` (lapic, then the CPU).
    case cpu

    /// The configuration qmp-mockd runs the CPU cycle on.
    static let cpuMachineYAML = """
        machine: q35
        smp: {cpus: 1, maxcpus: 2}
        globals: [ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off]

        """

    /// Text of the event line that says the guest took device `id`: `X_DEVICE_ON`, or for a CPU its
    /// Device Check `_OST`; nil for ACPI PCI (acpiphp's scan raises no event).
    func pluggedEvent(_ id: String) -> [UInt8]? {
        switch self {
        case .acpiPCI: return nil
        case .cpu, .dimm: return Array("{\"device\": \"\(id)\", \"source\": 1".utf8)
        default: return Array("X_DEVICE_ON".utf8)
        }
    }

    /// Text of the `DEVICE_DELETED` line of device `id` (a CPU's `_OST` lines also name it).
    func deletedEvent(_ id: String) -> [UInt8] {
        Array(
            (self == .cpu || self == .dimm
                ? "\"DEVICE_DELETED\", \"data\": {\"device\": \"\(id)\"" : "\"device\": \"\(id)\"").utf8
        )
    }

    /// Requests before `device_add` (their replies must be `{}`).
    func before(_ id: String) -> [[UInt8]] {
        switch self {
        case .pci, .acpiPCI, .cpu: return []
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
        case .pci, .acpiPCI: return "{\"driver\": \"virtio-net-pci\", \"id\": \"\(id)\", \"bus\": \"\(bus)\"}"
        case .disk:
            return "{\"driver\": \"virtio-blk-pci\", \"id\": \"\(id)\", \"bus\": \"\(bus)\", \"drive\": \"\(id)-disk\"}"
        case .nic:
            return "{\"driver\": \"virtio-net-pci\", \"id\": \"\(id)\", \"bus\": \"\(bus)\", \"netdev\": \"\(id)-net\"}"
        case .cpu:
            return
                "{\"driver\": \"qemu64-x86_64-cpu\", \"id\": \"\(id)\", \"socket-id\": 0, \"core-id\": 1, \"thread-id\": 0}"
        case .dimm: return "{\"driver\": \"pc-dimm\", \"id\": \"\(id)\", \"memdev\": \"\(id)-mem\"}"
        }
    }

    /// Requests after `DEVICE_DELETED`.
    func after(_ id: String) -> [[UInt8]] {
        switch self {
        case .pci, .acpiPCI, .cpu: return []
        case .disk: return [Measure.request("blockdev-del", arguments: "{\"node-name\": \"\(id)-disk\"}")]
        case .nic: return [Measure.request("netdev_del", arguments: "{\"id\": \"\(id)-net\"}")]
        case .dimm: return [Measure.request("object-del", arguments: "{\"id\": \"\(id)-mem\"}")]
        }
    }
}
