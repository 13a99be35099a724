import QMPWire
import SimulatedMachine

extension MachineStateView {
    /// The DIMMs among the devices (they sit on no bus): `bus` empty, `addr` their guest-physical address.
    static func dimmDevices(_ machine: Machine) -> [JSONValue] {
        machine.memoryHotplug.dimms.map { dimm in
            var d = JSONObject()
            if let id = dimm.id { d.append("id", .string(id)) }
            d.append("path", .string(dimm.path))
            d.append("driver", .string(PCDIMM.driver))
            d.append("bus", "")
            d.append("addr", .string("0x" + String(dimm.address, radix: 16)))
            d.append("hotplugged", .bool(dimm.isHotplugged))
            d.append("device-on", .bool(false))
            return .object(d)
        }
    }

    /// The machine's DIMM slots (ACPI memory hot-plug), one entry each: the DIMM in it, its FLAGS bits
    /// (`enabled`; `inserting`: a hot-add the guest has not scanned; `removing`: an unplug request it has
    /// not scanned) and the last `_OST` the guest reported.
    static func dimmSlots(_ machine: Machine) -> [JSONValue] {
        machine.memoryHotplug.slots.enumerated().map { index, slot in
            var s = JSONObject()
            s.append("controller", "acpi-memory")
            s.append("type", "acpi-dimm")
            s.append("slot", .int(Int64(index)))
            if let dimm = slot.dimm { s.append("device", .string(dimm.id ?? dimm.path)) }
            s.append("enabled", .bool(slot.isEnabled))
            s.append("inserting", .bool(slot.isInserting))
            s.append("removing", .bool(slot.isRemoving))
            s.append("ost-source", .int(Int64(slot.ostEvent)))
            s.append("ost-status", .int(Int64(slot.ostStatus)))
            return .object(s)
        }
    }
}
