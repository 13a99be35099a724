import QMPWire
import SimulatedMachine

/// The character device commands of QEMU's monitor: `chardev-add` (its `ChardevBackend` union
/// checked by the machine with QEMU's texts), `chardev-remove` and `query-chardev`. The OS side is
/// ``HostChardevs``, installed into the machine by the daemon.
enum ChardevCommands {
    static func register(in table: inout CommandTable) {
        let addArguments = QAPIArguments([QAPIArgument("id", .string), QAPIArgument("backend", .any)])
        table.register(
            QMPCommand("chardev-add", arguments: addArguments) { call throws(QMPError) in
                .object(
                    try call.machine.chardevAdd(
                        id: call.arguments["id"]?.stringValue ?? "",
                        backend: call.arguments["backend"]
                    )
                )
            }
        )
        table.register(
            QMPCommand("chardev-remove", arguments: QAPIArguments([QAPIArgument("id", .string)])) {
                call throws(QMPError) in
                try call.machine.chardevRemove(id: call.arguments["id"]?.stringValue ?? "")
                return .object(JSONObject())
            }
        )
        table.register(QMPCommand("query-chardev") { call throws(QMPError) in call.machine.queryChardev() })
    }
}
