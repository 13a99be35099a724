import QMPWire
import SimulatedMachine

/// The CPUs in `machine-state` (and so in `qmp-mockctl state`): one flat entry per possible CPU with its
/// ACPI flags and last `_OST`, so that a test sees a CPU whose insert or removal the guest has not
/// acknowledged yet (`docs/cpus.md`).
extension MachineStateView {
    /// Adds `cpu-interface` and `cpus` to `state`, on machines with more than one possible CPU (a
    /// machine without CPU hot-plug shows neither).
    static func appendCPUs(of machine: Machine, to state: inout JSONObject) {
        guard machine.cpuTopology.maxcpus > 1 else { return }
        let hotplug = machine.cpuHotplug
        state.append("cpu-interface", .string(hotplug.isModern ? "modern" : "legacy"))
        var cpus: [JSONValue] = []
        for (index, slot) in hotplug.slots.enumerated() {
            var entry = JSONObject()
            entry.append("index", .int(Int64(index)))
            entry.append("apic-id", .int(Int64(slot.apicID)))
            if let cpu = machine.presentCPUs.first(where: { $0.index == index }) {
                if let id = cpu.device.id { entry.append("id", .string(id)) }
                entry.append("path", .string(cpu.device.path))
            }
            var flags: [String] = []
            if slot.isPresent { flags.append("enabled") }
            if slot.isInserting { flags.append("inserting") }
            if slot.isRemoving { flags.append("removing") }
            if slot.isFirmwareRemoving { flags.append("fw-remove") }
            entry.append("flags", .string(flags.isEmpty ? "none" : flags.joined(separator: ",")))
            entry.append("ost-source", .int(Int64(slot.ostEvent)))
            entry.append("ost-status", .int(Int64(slot.ostStatus)))
            cpus.append(.object(entry))
        }
        state.append("cpus", .array(cpus))
    }
}
