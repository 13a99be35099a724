import QMPWire
import SimulatedMachine

extension MachineStateView {
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
