import GuestSim
import QMPWire
import SimulatedMachine

/// The ACPI side of `machine-state`: GPE0, the SCI, the guest's ACPI state and the ACPI PCI hot-plug
/// slots that have something to show (a device, or a pending insert or removal).
extension MachineStateView {
    /// `{"gpe0-status", "gpe0-enable", "sci", "guest", "pci-slots": [...]}`; each slot
    /// `{"bus", "bsel", "slot", "device"?, "up", "down"}` (`up`: an insert the guest has not scanned yet;
    /// `down`: a removal request not ejected yet).
    static func acpi(_ core: ServerCore) -> JSONObject {
        let machine = core.machine
        var info = JSONObject()
        info.append("gpe0-status", .int(Int64(machine.acpi.gpe.status0)))
        info.append("gpe0-enable", .int(Int64(machine.acpi.gpe.enable0)))
        info.append("sci", .bool(machine.acpi.sciLevel))
        let guest = core.attachments.lazy.compactMap { $0 as? GuestOS }.first
        info.append("guest", .string(guest?.acpiState ?? "none"))
        var slots: [JSONValue] = []
        for entry in machine.acpiPCIDescription() {
            let up = machine.acpiPCI.up[entry.bsel]
            let down = machine.acpiPCI.down[entry.bsel]
            for slot in 0..<32 {
                let bit = UInt32(1) << UInt32(slot)
                let device = entry.bus.device(slot: slot, function: 0) ?? entry.bus.children.last { $0.slot == slot }
                guard device?.path.hasPrefix("/machine/peripheral") ?? false || (up | down) & bit != 0 else { continue }
                var s = JSONObject()
                s.append("bus", .string(entry.bus.name))
                s.append("bsel", .int(Int64(entry.bsel)))
                s.append("slot", .int(Int64(slot)))
                if let device { s.append("device", .string(device.name)) }
                s.append("up", .bool(up & bit != 0))
                s.append("down", .bool(down & bit != 0))
                slots.append(.object(s))
            }
        }
        info.append("pci-slots", .array(slots))
        return info
    }
}
