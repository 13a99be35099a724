import QMPWire

extension Machine {
    /// Creates the configured backends and devices in QEMU's order (objects, chardevs, blockdevs,
    /// netdevs, then devices as QEMU creates `-device` options: cold plug, no hotplug checks, no
    /// events), then resets the machine as QEMU does before the guest starts.
    /// - Throws: the first device QEMU would refuse, with QEMU's text and the configuration line.
    public func coldPlug(_ configuration: MachineConfiguration) throws(MachineConfigurationError) {
        do throws(QMPError) {
            _ = try PCIHotplugSettings(machineType: machineType, board: board)
            _ = try CPUTopology(smp: board.smp, machineType: machineType, profile: profile)
        } catch {
            throw MachineConfigurationError(message: error.desc)
        }
        if let refusal = MemoryMap.refusal(of: board.memory) { throw MachineConfigurationError(message: refusal) }
        addModels(configuration.catalogAdditions)
        try create(configuration.objects, option: "-object", name: { Self.optionName($0, type: "qom-type") }) {
            arguments throws(QMPError) in
            try objectAdd(arguments)
        }
        try create(configuration.chardevs, option: "-chardev", name: { Self.optionName($0, type: "backend") }) {
            arguments throws(QMPError) in
            try QAPIArguments([QAPIArgument("id", .string), QAPIArgument("backend", .object)]).validate(arguments)
            _ = try chardevAdd(id: arguments["id"]?.stringValue ?? "", backend: arguments["backend"])
        }
        try create(configuration.blockdevs, option: "-blockdev", name: { _ in nil }) { arguments throws(QMPError) in
            try blockdevAdd(arguments)
        }
        try create(configuration.netdevs, option: "-netdev", name: { Self.optionName($0, type: "type") }) {
            arguments throws(QMPError) in
            try netdevAdd(arguments, monitor: "")
        }
        for spec in configuration.devices {
            do throws(QMPError) {
                try addDevice(spec.arguments, hotplug: false)
            } catch {
                let name = spec.id.map { "\(spec.driver),id=\($0)" } ?? spec.driver
                throw MachineConfigurationError(line: spec.line, message: "-device \(name): \(error.desc)")
            }
        }
        resetDevices()
        assignACPIBusSelectors()
    }

    /// Creates each backend entry, naming the option and the line in the error of the first that
    /// QEMU would refuse (`line 3: -netdev user,id=1x: ...`).
    private func create(
        _ entries: [BackendEntry],
        option: String,
        name: (JSONObject) -> String?,
        _ body: (JSONObject) throws(QMPError) -> Void
    ) throws(MachineConfigurationError) {
        for entry in entries {
            do throws(QMPError) {
                try body(entry.arguments)
            } catch {
                let label = name(entry.arguments).map { "\(option) \($0)" } ?? option
                throw MachineConfigurationError(line: entry.line, message: "\(label): \(error.desc)")
            }
        }
    }

    /// `TYPE,id=ID` of an option's arguments, as QEMU's command-line errors name the option; the
    /// type is the member `key` (a chardev's is its backend's `type`).
    private static func optionName(_ arguments: JSONObject, type key: String) -> String {
        let member = arguments[key]
        let type = member?.stringValue ?? member?.objectValue?["type"]?.stringValue ?? ""
        return arguments["id"]?.stringValue.map { "\(type),id=\($0)" } ?? type
    }
}
