import QMPWire

/// `human-monitor-command`: runs one HMP command line (``HumanMonitor``) and returns its text.
enum HMPQMPCommand {
    static func register(in table: inout CommandTable) {
        let arguments = QAPIArguments([
            QAPIArgument("command-line", .string), QAPIArgument("cpu-index", .int, optional: true),
        ])
        table.register(
            QMPCommand("human-monitor-command", arguments: arguments) { call throws(QMPError) in
                // One vCPU (index 0), as `-smp 1`.
                if let index = call.arguments["cpu-index"]?.int64Value, index != 0 {
                    throw .generic("Parameter 'cpu-index' expects a CPU number")
                }
                return .string(
                    HumanMonitor.shared.execute(call.arguments["command-line"]?.stringValue ?? "", call: call)
                )
            }
        )
    }
}
