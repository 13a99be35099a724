public import SimulatedMachine
public import YAMLConfig

extension GuestConfiguration {
    /// The latency keys of `guest.latencies`, in milliseconds of virtual time.
    static let latencyKeys = [
        "interrupt-ms", "button-ms", "link-ms", "power-off-ms", "shpc-enable-ms", "second-press-ms", "poll-ms",
        "acpi-eject-ms",
        "cpu-attach-ms", "cpu-offline-ms",
        "memory-add-ms", "memory-offline-ms", "shutdown-ms",
    ]

    /// Sets the latency a `guest.latencies` key names.
    private static func set(_ key: String, _ nanoseconds: Int64, in latencies: inout GuestLatencies) {
        switch key {
        case "interrupt-ms": latencies.interrupt = nanoseconds
        case "button-ms": latencies.buttonWindow = nanoseconds
        case "link-ms": latencies.linkUp = nanoseconds
        case "power-off-ms": latencies.powerOffSettle = nanoseconds
        case "shpc-enable-ms": latencies.shpcEnableSettle = nanoseconds
        case "second-press-ms": latencies.secondPressWindow = nanoseconds
        case "acpi-eject-ms": latencies.acpiEject = nanoseconds
        case "cpu-attach-ms": latencies.cpuAttach = nanoseconds
        case "cpu-offline-ms": latencies.cpuOffline = nanoseconds
        case "memory-add-ms": latencies.memoryAdd = nanoseconds
        case "memory-offline-ms": latencies.memoryOffline = nanoseconds
        case "shutdown-ms": latencies.shutdown = nanoseconds
        default: latencies.scriptPoll = nanoseconds
        }
    }

    /// Reads the `guest:` section of a YAML configuration (``YAMLConfig/ConfigurationFile/guestSection``):
    ///
    /// ```yaml
    /// guest:
    ///   persona: linux                      # machine-wide; its options (factor, boot-ms, ...) sit beside it
    ///   latencies: {button-ms: 5000, link-ms: 100, power-off-ms: 1000, shpc-enable-ms: 1000}
    ///   memory-removal: refuse              # the memory driver cannot offline DIMMs (default: offline)
    ///   slots:
    ///     - {controller: pci.2, persona: never-ack}
    ///     - {controller: pci.3, persona: slow, factor: 4}
    ///     - {controller: pci.7, slot: 3, persona: booting, boot-ms: 30000, boot-scan-removes: true}
    ///     - controller: pci.4
    ///       persona: script
    ///       steps: [{wait-ms: 200}, {write-slot-control: 0x2c0}, {wait-for: presence}, {write-slot-control: 0x1c0}]
    /// ```
    ///
    /// Latency keys: `interrupt-ms`, `button-ms`, `link-ms`, `power-off-ms`, `shpc-enable-ms`,
    /// `second-press-ms`, `poll-ms`, `acpi-eject-ms`, `cpu-attach-ms`, `cpu-offline-ms`, `memory-add-ms`,
    /// `memory-offline-ms`, `shutdown-ms` (see ``GuestLatencies``); `memory-removal`: `offline` or `refuse` (``GuestMemoryRemoval``);
    /// `refuse-cpu-offline: true` makes every CPU removal fail with `_OST(3, 0x82)`. Persona names and options as in
    /// ``GuestPersona/parse(name:options:)``; script steps: `wait-ms`, `write-slot-control`,
    /// `write-slot-status`, `shpc-command`, `wait-for` (a ``GuestCondition`` name), `ack-events`; for the
    /// controller `acpi` instead `wait-ms`, `io-write`, `io-read`, `config-write`, `wait-for: sci` and
    /// `wait-for-io` (``GuestScriptStep``; a step of the other side is an error).
    /// Controllers are not checked against the machine here (a bridge may be hot-plugged later).
    /// - Parameter node: the section's value; a null node (or an empty section) gives the default.
    /// - Throws: the first problem, with the line and column of the key or value at fault.
    public static func load(from node: YAMLNode) throws(MachineConfigurationError) -> GuestConfiguration {
        var configuration = GuestConfiguration()
        let root = OptionNode(yaml: node)
        if root.isNull { return configuration }
        var map = try root.mapping("the 'guest' section")
        let nameNode = map.optional("persona")
        let name = try nameNode?.text("'persona'") ?? "linux"
        configuration.persona = try GuestPersona.read(name: name, nameNode: nameNode, from: &map)
        if let latencies = map.optional("latencies"), !latencies.isNull {
            configuration.latencies = try readLatencies(latencies)
        }
        if let refuse = map.optional("refuse-cpu-offline") {
            configuration.refusesCPUOffline = try refuse.boolean("'refuse-cpu-offline'")
        }
        if let removal = map.optional("memory-removal"), !removal.isNull {
            let text = try removal.text("'memory-removal'")
            guard let value = GuestMemoryRemoval(rawValue: text) else {
                let names = GuestMemoryRemoval.names.joined(separator: ", ")
                throw removal.error("'memory-removal' must be one of \(names) (got '\(text)')")
            }
            configuration.memoryRemoval = value
        }
        if let slots = map.optional("slots"), !slots.isNull {
            for item in try slots.items("'slots'") {
                configuration.assignments.append(try readAssignment(item))
            }
        }
        try map.finish(context: "in the 'guest' section")
        return configuration
    }

    private static func readLatencies(_ node: OptionNode) throws(MachineConfigurationError) -> GuestLatencies {
        var latencies = GuestLatencies()
        var map = try node.mapping("'latencies'")
        for key in latencyKeys {
            guard let value = map.optional(key) else { continue }
            let ms = try value.number("'\(key)'")
            guard ms >= 0, ms < 9e12 else { throw value.error("'\(key)' must be between 0 and 9e12 (got \(ms))") }
            if key == "poll-ms", ms <= 0 { throw value.error("'poll-ms' must be greater than 0") }
            set(key, Int64((ms * 1e6).rounded()), in: &latencies)
        }
        try map.finish(context: "in 'latencies'")
        return latencies
    }

    private static func readAssignment(_ node: OptionNode) throws(MachineConfigurationError) -> GuestPersonaAssignment {
        var map = try node.mapping("a 'slots' entry")
        let controller = try map.required("controller", context: "in a 'slots' entry").text("'controller'")
        var slot: Int?
        if let value = map.optional("slot") {
            slot = Int(try value.integer("'slot'", in: 1...31))
        }
        let nameNode = try map.required("persona", context: "in a 'slots' entry")
        let side: GuestScriptStep.Side = controller == ACPIGuestDriver.personaName ? .acpi : .native
        let persona = try GuestPersona.read(
            name: try nameNode.text("'persona'"),
            nameNode: nameNode,
            from: &map,
            side: side
        )
        try map.finish(context: "in a 'slots' entry")
        return GuestPersonaAssignment(controller: controller, slot: slot, persona: persona)
    }
}
