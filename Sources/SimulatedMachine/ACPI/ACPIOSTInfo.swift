public import QMPWire

/// One `ACPIOSTInfo` (QAPI): the last `_OST` a guest reported for a CPU or DIMM slot, as
/// `query-acpi-ospm-status` lists it and `ACPI_DEVICE_OST` carries it (`acpi-hotplug.md` §6.1, §7).
public struct ACPIOSTInfo: Sendable, Equatable {
    /// `DIMM` or `CPU`.
    public enum SlotType: String, Sendable {
        case dimm = "DIMM"
        case cpu = "CPU"
    }

    /// The id of the device in the slot, while one with an id is there.
    public var device: String?
    /// The slot (DIMM slot number, or possible-CPU index), as text.
    public var slot: String
    public var slotType: SlotType
    /// `_OST`'s source event (1 Device Check, 3 Eject Request).
    public var source: UInt32
    /// `_OST`'s status code (0 success, 0x84 eject in progress, 0x82 busy, ...).
    public var status: UInt32

    public init(device: String?, slot: String, slotType: SlotType, source: UInt32, status: UInt32) {
        self.device = device
        self.slot = slot
        self.slotType = slotType
        self.source = source
        self.status = status
    }

    /// The QAPI object in QEMU's member order: `device` (when present), `source`, `status`, `slot`, `slot-type`.
    public var json: JSONObject {
        var info = JSONObject(capacity: 5)
        if let device { info.append("device", .string(device)) }
        info.append("source", .int(Int64(source)))
        info.append("status", .int(Int64(status)))
        info.append("slot", .string(slot))
        info.append("slot-type", .string(slotType.rawValue))
        return info
    }
}
