import QMPWire
import SimulatedMachine

/// The user-creatable object commands: `object-add` (QEMU's boxed `ObjectOptions` union, whose
/// members depend on `qom-type`: the table lets every member through and the machine checks them as
/// QEMU's visitor does), `object-del`, `query-memdev`, `query-iothreads`, `query-memory-devices` and `query-memory-size-summary`. The OS side (a memory
/// backend's file, an RNG device, a secret's file) is ``PosixObjectHost``, installed by the daemon.
enum ObjectCommands {
    static func register(in table: inout CommandTable) {
        table.register(
            QMPCommand("object-add", arguments: QAPIArguments([], allowsExtraMembers: true)) { call throws(QMPError) in
                try call.machine.objectAdd(call.arguments)
                return .object(JSONObject())
            }
        )
        table.register(
            QMPCommand("object-del", arguments: QAPIArguments([QAPIArgument("id", .string)])) { call throws(QMPError) in
                try call.machine.objectDel(id: call.arguments["id"]?.stringValue ?? "")
                return .object(JSONObject())
            }
        )
        table.register(QMPCommand("query-memdev") { call throws(QMPError) in call.machine.queryMemdev() })
        table.register(QMPCommand("query-iothreads") { call throws(QMPError) in call.machine.queryIOThreads() })
        // The DIMMs of memory hot-plug (`Memory/Machine+PCDIMM.swift`).
        table.register(
            QMPCommand("query-memory-devices") { call throws(QMPError) in call.machine.queryMemoryDevices() }
        )
        table.register(
            QMPCommand("query-memory-size-summary") { call throws(QMPError) in call.machine.memorySizeSummary() }
        )
    }
}
