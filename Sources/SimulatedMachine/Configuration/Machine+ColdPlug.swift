import QMPWire

extension Machine {
    /// Creates the configured backends and devices in QEMU's order (objects, chardevs, blockdevs,
    /// legacy drives, netdevs, then devices as QEMU creates `-device` options: cold plug, no hotplug checks, no
    /// events), then resets the machine as QEMU does before the guest starts.
    /// - Throws: the first device QEMU would refuse, with QEMU's text and the configuration line; a
    ///   configuration for another board (machine type, `-accel`/`-smp`/`-m`/`-global`) than the one the
    ///   machine was made with, which would otherwise cold-plug onto hardware the file does not describe.
    public func coldPlug(_ configuration: MachineConfiguration) throws(MachineConfigurationError) {
        guard configuration.machineType == machineType, configuration.board == board else {
            throw MachineConfigurationError(
                message:
                    "the configuration describes another board than the machine was made with: make the machine with the configuration's machineType and board"
            )
        }
        do throws(QMPError) {
            _ = try PCIHotplugSettings(machineType: machineType, board: board)
            _ = try CPUTopology(smp: board.smp, machineType: machineType, profile: profile)
        } catch {
            throw MachineConfigurationError(message: error.desc)
        }
        if let refusal = MemoryMap.refusal(of: board.memory) { throw MachineConfigurationError(message: refusal) }
        addModels(configuration.catalogAdditions)
        if configuration.memoryBackend != nil { objects.objects.removeAll { $0.isBuiltin } }
        try create(configuration.objects, option: "-object", name: { Self.optionName($0, type: "qom-type") }) {
            entry throws(QMPError) in
            try objectAdd(entry.arguments, textValues: entry.textOptions != nil)
        }
        if let id = configuration.memoryBackend, let index = objects.objects.firstIndex(where: { $0.id == id }) {
            objects.objects[index].users += 1
        }
        try create(configuration.chardevs, option: "-chardev", name: { Self.optionName($0, type: "backend") }) {
            entry throws(QMPError) in
            let arguments = entry.arguments
            try QAPIArguments([QAPIArgument("id", .string), QAPIArgument("backend", .object)]).validate(arguments)
            _ = try chardevAdd(id: arguments["id"]?.stringValue ?? "", backend: arguments["backend"])
        }
        try create(configuration.blockdevs, option: "-blockdev", name: { _ in nil }) { entry throws(QMPError) in
            try blockdevAdd(entry.arguments)
        }
        try create(configuration.drives, option: "-drive", name: { _ in nil }) { entry throws(QMPError) in
            var options: [String: String] = [:]
            for option in entry.textOptions ?? [] { options[option.key] = option.value }
            try driveAdd(options)
        }
        try create(configuration.netdevs, option: "-netdev", name: { Self.optionName($0, type: "type") }) {
            entry throws(QMPError) in
            let arguments = entry.textOptions.map { netdevArguments(fromText: $0) } ?? entry.arguments
            try netdevAdd(arguments, monitor: "")
        }
        for spec in configuration.devices {
            do throws(QMPError) {
                try addDevice(spec.arguments, hotplug: false)
            } catch {
                let name = spec.option ?? spec.id.map { "\(spec.driver),id=\($0)" } ?? spec.driver
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
        _ body: (BackendEntry) throws(QMPError) -> Void
    ) throws(MachineConfigurationError) {
        for entry in entries {
            do throws(QMPError) {
                try body(entry)
            } catch {
                let label = (entry.option ?? name(entry.arguments)).map { "\(option) \($0)" } ?? option
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
