public import QMPWire
public import SimulatedMachine

extension GuestPersona {
    /// The persona a control-plane command names: `guest-set-persona {"persona": "slow", "factor": 2}`.
    ///
    /// Options: `factor` (slow, a number > 0), `boot-ms` (booting, virtual milliseconds since the machine
    /// started) and `boot-scan-removes` (booting, boolean), `steps` (script, a list as in the configuration
    /// file). The keys `persona`, `controller` and `slot` are accepted, so the command's whole argument
    /// object can be passed; `controller` says which steps a script may have: I/O-port and
    /// configuration-space steps with `"controller": "acpi"`, slot-register steps otherwise
    /// (``GuestScriptStep/side``).
    /// - Parameters:
    ///   - name: a persona name (``names``).
    ///   - options: the persona's options.
    /// - Throws: an error without line for an unknown name, a missing or malformed option, or an option that
    ///   belongs to another persona; its ``MachineConfigurationError/message`` is ready for a QMP
    ///   `GenericError`.
    public static func parse(
        name: String,
        options: JSONObject = JSONObject()
    ) throws(MachineConfigurationError)
        -> GuestPersona
    {
        var map = try OptionNode(json: options).mapping("the options")
        map.ignoredKeys = ["persona", "controller", "slot"]
        let side: GuestScriptStep.Side =
            options["controller"]?.stringValue == ACPIGuestDriver.personaName ? .acpi : .native
        let persona = try read(name: name, nameNode: nil, from: &map, side: side)
        try map.finish(context: "for persona '\(name)'")
        return persona
    }

    /// Option keys and the persona they belong to.
    static let optionOwners: [(key: String, persona: String)] = [
        ("factor", "slow"), ("boot-ms", "booting"), ("boot-scan-removes", "booting"), ("steps", "script"),
    ]

    /// Reads a persona named `name` whose options sit in `map` (asking for them there); rejects options of
    /// other personas. The caller rejects unknown keys. A script's steps must belong to `side` (``GuestScriptStep/Side/acpi``
    /// for the controller named `acpi`, ``GuestScriptStep/Side/native`` for any other and for the whole machine).
    static func read(
        name: String,
        nameNode: OptionNode?,
        from map: inout OptionMap,
        side: GuestScriptStep.Side = .native
    ) throws(MachineConfigurationError)
        -> GuestPersona
    {
        let persona: GuestPersona
        switch name {
        case "linux": persona = .linux
        case "never-ack": persona = .neverAck
        case "manual": persona = .manual
        case "cancel-on-second-press": persona = .cancelOnSecondPress
        case "slow":
            let node = try map.required("factor", context: "for persona 'slow' (a number greater than 0)")
            let factor = try node.number("'factor'")
            guard factor > 0 else { throw node.error("'factor' must be greater than 0 (got \(factor))") }
            persona = .slow(factor: factor)
        case "booting":
            let node = try map.required("boot-ms", context: "for persona 'booting' (virtual milliseconds)")
            let ms = try node.number("'boot-ms'")
            guard ms >= 0, ms < 9e12 else { throw node.error("'boot-ms' must be between 0 and 9e12 (got \(ms))") }
            var removes = false
            if let flag = map.optional("boot-scan-removes") { removes = try flag.boolean("'boot-scan-removes'") }
            persona = .booting(untilNanoseconds: Int64((ms * 1e6).rounded()), scanTreatsNewDeviceAsRemoval: removes)
        case "script":
            let node = try map.required("steps", context: "for persona 'script'")
            let items = try node.items("'steps'")
            guard !items.isEmpty else { throw node.error("persona 'script' needs at least one step") }
            var steps: [GuestScriptStep] = []
            for item in items { steps.append(try GuestScriptStep.parse(item, for: side)) }
            persona = .script(steps)
        default:
            let message = "unknown persona '\(name)' (expected one of: \(names.joined(separator: ", ")))"
            throw nameNode?.error(message) ?? MachineConfigurationError(message: message)
        }
        for (key, owner) in optionOwners where owner != name {
            guard let entry = map.entries.first(where: { $0.key == key }) else { continue }
            throw MachineConfigurationError(
                line: entry.line,
                column: entry.column,
                message: "option '\(key)' applies only to persona '\(owner)', not '\(name)'"
            )
        }
        return persona
    }
}
