import QMPWire
import SimulatedMachine

/// The commands of a management stack's capability probe (libvirt 9.0 sends each of them before it
/// starts a domain): answered from the profile's recording through ``ProbeAnswers``.
enum ProbeCommands {
    /// Registers the probe's commands with the arguments the profile's release takes (`query-machines`
    /// has `compat-props` from 9.1).
    static func register(in table: inout CommandTable, profile: QEMUProfile) {
        let none = QAPIArguments([])
        for name in [
            "query-target", "query-cpu-definitions", "query-tpm-models", "query-tpm-types",
            "query-sev-capabilities", "query-sgx-capabilities",
        ] {
            table.register(
                QMPCommand(name, arguments: none) { call throws(QMPError) in
                    try probe(call).recorded(name)
                }
            )
        }
        table.register(
            QMPCommand("query-migrate-capabilities", arguments: none) { call throws(QMPError) in
                try migration(call).json
            }
        )
        table.register(
            QMPCommand(
                "migrate-set-capabilities",
                arguments: QAPIArguments([QAPIArgument("capabilities", .array(.any))])
            ) { call throws(QMPError) in
                var capabilities = try migration(call)
                try capabilities.set(call.arguments["capabilities"]?.arrayValue ?? [])
                call.core.migrationCapabilities = capabilities
                return .object(JSONObject())
            }
        )
        table.register(
            QMPCommand("query-kvm") { call throws(QMPError) in
                // KVM is "present" as on a host with /dev/kvm; enabled when the machine runs with it.
                .object(
                    JSONObject([("enabled", .bool(call.machine.board.accel == .kvm)), ("present", .bool(true))])
                )
            }
        )
        table.register(
            QMPCommand(
                "qom-list-types",
                arguments: QAPIArguments([
                    QAPIArgument("implements", .string, optional: true),
                    QAPIArgument("abstract", .bool, optional: true),
                ])
            ) { call throws(QMPError) in
                try probe(call).listTypes(
                    implements: call.arguments["implements"]?.stringValue,
                    abstract: call.arguments["abstract"]?.boolValue ?? false
                )
            }
        )
        for name in ["device-list-properties", "qom-list-properties"] {
            table.register(
                QMPCommand(name, arguments: QAPIArguments([QAPIArgument("typename", .string)])) {
                    call throws(QMPError) in
                    try probe(call).properties(name, typename: call.arguments["typename"]?.stringValue ?? "")
                }
            )
        }
        table.register(
            QMPCommand(
                "query-machines",
                arguments: QAPIArguments(
                    profile.version.isAtLeast(9, 1) ? [QAPIArgument("compat-props", .bool, optional: true)] : []
                )
            ) { call throws(QMPError) in
                if call.arguments["compat-props"]?.boolValue == true {
                    return try probe(call).recorded("query-machines", call.arguments)
                }
                return try probe(call).machines()
            }
        )
        table.register(
            QMPCommand(
                "query-command-line-options",
                arguments: QAPIArguments([QAPIArgument("option", .string, optional: true)])
            ) { call throws(QMPError) in
                let all = try probe(call).recorded("query-command-line-options")
                guard let option = call.arguments["option"]?.stringValue else { return all }
                let matching = (all.arrayValue ?? []).filter { $0.objectValue?["option"]?.stringValue == option }
                if matching.isEmpty { throw .generic("Invalid parameter '\(option)'") }
                return .array(matching)
            }
        )
        table.register(
            QMPCommand(
                "query-cpu-model-expansion",
                arguments: QAPIArguments([
                    QAPIArgument("type", .enumeration(["static", "full"])), QAPIArgument("model", .object),
                ])
            ) { call throws(QMPError) in
                try probe(call).recorded("query-cpu-model-expansion", call.arguments)
            }
        )
    }

    /// The VM's migration capabilities, made from the recording on first use.
    private static func migration(_ call: QMPCall) throws(QMPError) -> MigrationCapabilities {
        if let capabilities = call.core.migrationCapabilities { return capabilities }
        let capabilities = MigrationCapabilities(recorded: try probe(call).recorded("query-migrate-capabilities"))
        call.core.migrationCapabilities = capabilities
        return capabilities
    }

    /// The core's probe answers, made on first use.
    private static func probe(_ call: QMPCall) throws(QMPError) -> ProbeAnswers {
        guard let answers = call.core.probeAnswers() else {
            throw .generic("qmp-mockd has no probe recording for QEMU \(call.core.profile.version)")
        }
        return answers
    }
}
