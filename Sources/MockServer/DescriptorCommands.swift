import QMPWire
import SimulatedMachine

/// The descriptor commands of QEMU's monitor: `getfd`/`closefd` (names per monitor) and
/// `add-fd`/`remove-fd`/`query-fdsets` (fd sets). The connection supplies the descriptor the client
/// passed with `SCM_RIGHTS`; the machine keeps it (``DescriptorTable``).
enum DescriptorCommands {
    static func register(in table: inout CommandTable) {
        table.register(
            QMPCommand("getfd", arguments: QAPIArguments([QAPIArgument("fdname", .string)])) { call throws(QMPError) in
                let fd = try passedDescriptor(call)
                try call.machine.getfd(
                    name: call.arguments["fdname"]?.stringValue ?? "",
                    fd: fd,
                    monitor: call.session.monitor
                )
                return .object(JSONObject())
            }
        )
        table.register(
            QMPCommand("closefd", arguments: QAPIArguments([QAPIArgument("fdname", .string)])) {
                call throws(QMPError) in
                try call.machine.closefd(
                    name: call.arguments["fdname"]?.stringValue ?? "",
                    monitor: call.session.monitor
                )
                return .object(JSONObject())
            }
        )
        let addArguments = QAPIArguments([
            QAPIArgument("fdset-id", .int, optional: true), QAPIArgument("opaque", .string, optional: true),
        ])
        table.register(
            QMPCommand("add-fd", arguments: addArguments) { call throws(QMPError) in
                let fd = try passedDescriptor(call)
                return .object(
                    try call.machine.addFD(
                        fd,
                        fdsetID: call.arguments["fdset-id"]?.int64Value,
                        opaque: call.arguments["opaque"]?.stringValue
                    )
                )
            }
        )
        let removeArguments = QAPIArguments([
            QAPIArgument("fdset-id", .int), QAPIArgument("fd", .int, optional: true),
        ])
        table.register(
            QMPCommand("remove-fd", arguments: removeArguments) { call throws(QMPError) in
                try call.machine.removeFD(
                    fdsetID: call.arguments["fdset-id"]?.int64Value ?? 0,
                    fd: call.arguments["fd"]?.int64Value
                )
                return .object(JSONObject())
            }
        )
        table.register(QMPCommand("query-fdsets") { call throws(QMPError) in call.machine.queryFDSets() })
    }

    /// The descriptor passed with (or before) this command, or QEMU's error.
    private static func passedDescriptor(_ call: QMPCall) throws(QMPError) -> Int32 {
        guard let fd = call.session.transport?.takePassedDescriptor() else {
            throw .generic("No file descriptor supplied via SCM_RIGHTS")
        }
        return fd
    }
}
