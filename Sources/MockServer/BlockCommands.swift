import QMPWire
import SimulatedMachine

/// The block layer's commands: `blockdev-add`, `blockdev-del`, `query-named-block-nodes`,
/// `query-block`, `query-blockstats`, `block_resize`. Thin: the machine's block layer (``BlockLayer``) holds the rules and texts.
enum BlockCommands {
    static func register(in table: inout CommandTable) {
        // blockdev-add is a boxed QAPI union: the machine checks its members against the driver.
        table.register(
            QMPCommand("blockdev-add", arguments: QAPIArguments(allowsExtraMembers: true)) { call throws(QMPError) in
                try call.machine.blockdevAdd(call.arguments)
                return .object(JSONObject())
            }
        )
        table.register(
            QMPCommand("blockdev-del", arguments: QAPIArguments([QAPIArgument("node-name", .string)])) {
                call throws(QMPError) in
                try call.machine.blockdevDel(nodeName: call.arguments["node-name"]?.stringValue ?? "")
                return .object(JSONObject())
            }
        )
        table.register(
            QMPCommand(
                "query-named-block-nodes",
                arguments: QAPIArguments([QAPIArgument("flat", .bool, optional: true)])
            ) { call throws(QMPError) in
                call.machine.queryNamedBlockNodes(flat: call.arguments["flat"]?.boolValue ?? false)
            }
        )
        table.register(QMPCommand("query-block") { call throws(QMPError) in call.machine.queryBlock() })
        table.register(
            QMPCommand(
                "query-blockstats",
                arguments: QAPIArguments([QAPIArgument("query-nodes", .bool, optional: true)])
            ) { call throws(QMPError) in
                call.machine.queryBlockstats(queryNodes: call.arguments["query-nodes"]?.boolValue ?? false)
            }
        )
        table.register(
            QMPCommand(
                "block_resize",
                arguments: QAPIArguments([
                    QAPIArgument("device", .string, optional: true),
                    QAPIArgument("node-name", .string, optional: true),
                    QAPIArgument("size", .int),
                ])
            ) { call throws(QMPError) in
                try call.machine.blockResize(
                    device: call.arguments["device"]?.stringValue,
                    nodeName: call.arguments["node-name"]?.stringValue,
                    size: call.arguments["size"]?.int64Value ?? 0
                )
                return .object(JSONObject())
            }
        )
    }
}
