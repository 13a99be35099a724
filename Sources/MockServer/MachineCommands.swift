import QMPWire
import SimulatedMachine

/// The commands of the simulated machine: hotplug (`device_add`, `device_del`, `x-query-hotplug`),
/// the queries management tools read (`query-pci`, `qom-list`, `qom-get`) and `system_reset`.
enum MachineCommands {
    static func register(in table: inout CommandTable) {
        // 'gen': false in QEMU's schema: the arguments reach the handler unchecked.
        table.register(
            QMPCommand("device_add", arguments: QAPIArguments(allowsExtraMembers: true)) { call throws(QMPError) in
                try call.machine.deviceAdd(call.arguments, monitor: call.session.monitor)
                return .object(JSONObject())
            }
        )
        table.register(
            QMPCommand("device_del", arguments: QAPIArguments([QAPIArgument("id", .string)])) { call throws(QMPError) in
                try call.machine.deviceDel(call.arguments["id"]?.stringValue ?? "")
                return .object(JSONObject())
            }
        )
        table.register(
            QMPCommand("x-query-hotplug", arguments: QAPIArguments([QAPIArgument("id", .string)])) {
                call throws(QMPError) in
                .object(try call.machine.queryHotplug(call.arguments["id"]?.stringValue ?? ""))
            }
        )
        table.register(
            QMPCommand("query-pci") { call throws(QMPError) in
                call.machine.queryPCI()
            }
        )
        table.register(
            QMPCommand("qom-list", arguments: QAPIArguments([QAPIArgument("path", .string)])) { call throws(QMPError) in
                let path = call.arguments["path"]?.stringValue ?? ""
                if call.machine.cpuDevice(atPath: path) != nil, let recorded = call.core.probeAnswers()?.cpuProperties()
                {
                    return recorded
                }
                return try call.machine.qomList(path)
            }
        )
        let qomGetArguments = QAPIArguments([QAPIArgument("path", .string), QAPIArgument("property", .string)])
        table.register(
            QMPCommand("qom-get", arguments: qomGetArguments) { call throws(QMPError) in
                let path = call.arguments["path"]?.stringValue ?? ""
                let name = call.arguments["property"]?.stringValue ?? ""
                do throws(QMPError) {
                    return try call.machine.qomGet(path, property: name)
                } catch {
                    // A CPU's properties the machine does not model (its ~400 feature flags, ...) are
                    // the recorded boot CPU's (docs/probe.md).
                    guard call.machine.cpuDevice(atPath: path) != nil,
                        let recorded = call.core.probeAnswers()?.cpuProperty(name)
                    else { throw error }
                    return try recorded.get()
                }
            }
        )
        table.register(
            QMPCommand("system_reset") { call throws(QMPError) in
                call.machine.systemReset()
                call.core.afterSystemReset?()
                return .object(JSONObject())
            }
        )
        // The ACPI power button: POWERDOWN, and PWRBTN_STS for a guest that enabled it (docs/acpi.md).
        table.register(
            QMPCommand("system_powerdown") { call throws(QMPError) in
                call.machine.powerdown()
                return .object(JSONObject())
            }
        )
    }
}
