import QMPWire
import SimulatedMachine

#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// The commands of the QMP core: capabilities, versions, introspection (`query-commands`,
/// `query-qmp-schema`), run state, name, the CPUs (`query-hotpluggable-cpus`, `query-cpus-fast`) and `quit`.
enum BuiltinCommands {
    static func register(in table: inout CommandTable) {
        let enable = QAPIArgument("enable", .array(.enumeration(["oob"])), optional: true)
        table.register(
            QMPCommand("qmp_capabilities", arguments: QAPIArguments([enable])) { _ throws(QMPError) in
                throw QMPError(.commandNotFound, "Capabilities negotiation is already complete, command ignored")
            }
        )
        table.register(
            QMPCommand("query-version") { call throws(QMPError) in
                .object(call.core.profile.version.versionInfo)
            }
        )
        table.register(
            QMPCommand("query-commands") { call throws(QMPError) in
                .array(call.core.commands.names.map { .object(JSONObject([("name", .string($0))])) })
            }
        )
        table.register(
            QMPCommand(
                "query-qmp-schema",
                rendered: { call throws(QMPError) in call.core.qmpSchema().renderedEntities }
            ) {
                call throws(QMPError) in
                .array(call.core.qmpSchema().entities)
            }
        )
        table.register(
            QMPCommand("query-status") { call throws(QMPError) in
                .object(call.machine.statusInfo())
            }
        )
        table.register(
            QMPCommand("query-name") { call throws(QMPError) in
                var info = JSONObject()
                if let name = call.machine.name { info.append("name", .string(name)) }
                return .object(info)
            }
        )
        table.register(
            QMPCommand("query-uuid") { call throws(QMPError) in
                .object(JSONObject([("UUID", .string(call.machine.uuid))]))
            }
        )
        // The possible CPUs from -smp, highest index first (acpi-hotplug.md §5.1).
        table.register(
            QMPCommand("query-hotpluggable-cpus") { call throws(QMPError) in
                call.machine.hotpluggableCPUs()
            }
        )
        // The present CPUs; thread-id is this process's pid plus the vCPU's serial (a plausible host TID).
        table.register(
            QMPCommand("query-cpus-fast") { call throws(QMPError) in
                call.machine.cpusFast(threadIDBase: Int64(getpid()))
            }
        )
        table.register(
            QMPCommand("query-acpi-ospm-status") { call throws(QMPError) in
                .array(call.machine.acpiOSPMStatus().map { .object($0.json) })
            }
        )
        table.register(
            QMPCommand("stop") { call throws(QMPError) in
                call.machine.stop()
                return .object(JSONObject())
            }
        )
        table.register(
            QMPCommand("cont") { call throws(QMPError) in
                try call.machine.cont()
                return .object(JSONObject())
            }
        )
        table.register(
            QMPCommand("quit") { call throws(QMPError) in
                call.core.emit(.shutdown(guest: false, reason: "host-qmp-quit"))
                call.core.requestShutdown(.quit)
                return .object(JSONObject())
            }
        )
    }
}
