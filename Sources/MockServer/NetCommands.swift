import QMPWire
import SimulatedMachine

/// The network backend commands: `netdev_add` and `netdev_del` (``Machine/netdevAdd(_:monitor:)``).
/// `netdev_add`'s arguments are QEMU's boxed `Netdev` union, whose members depend on `type`: the
/// table lets every member through and the machine checks them as QEMU's visitor does. There is no
/// `query-netdev`: neither QEMU 7.2 nor 10.0 has one.
enum NetCommands {
    static func register(in table: inout CommandTable) {
        table.register(
            QMPCommand("netdev_add", arguments: QAPIArguments([], allowsExtraMembers: true)) { call throws(QMPError) in
                try call.machine.netdevAdd(call.arguments, monitor: call.session.monitor)
                return .object(JSONObject())
            }
        )
        table.register(
            QMPCommand("netdev_del", arguments: QAPIArguments([QAPIArgument("id", .string)])) { call throws(QMPError) in
                try call.machine.netdevDel(id: call.arguments["id"]?.stringValue ?? "")
                return .object(JSONObject())
            }
        )
    }
}
