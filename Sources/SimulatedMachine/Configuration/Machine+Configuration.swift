import QMPWire

extension Machine {
    /// Creates the configured devices as QEMU creates `-device` options (cold plug: no hotplug
    /// checks, no events), then resets the machine as QEMU does before the guest starts.
    /// - Throws: the first device QEMU would refuse, with QEMU's text and the configuration line.
    public func coldPlug(_ configuration: MachineConfiguration) throws(MachineConfigurationError) {
        addModels(configuration.catalogAdditions)
        for (index, arguments) in configuration.blockdevs.enumerated() {
            do throws(QMPError) {
                try blockdevAdd(arguments)
            } catch {
                let line = index < configuration.blockdevLines.count ? configuration.blockdevLines[index] : nil
                throw MachineConfigurationError(line: line, message: "-blockdev: \(error.desc)")
            }
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
    }
}

extension MachineConfiguration {
    /// Reads a YAML configuration file's text:
    ///
    /// ```yaml
    /// machine: q35                 # or pc
    /// controllers:                 # created first, in order (like -device options)
    ///   - {driver: pcie-root-port, id: rp1, chassis: 1, slot: 1}
    /// devices:                     # cold-plugged devices, created after the controllers
    ///   - {driver: virtio-net-pci, id: net0, bus: rp1}
    /// blockdevs:                   # block nodes, created first (blockdev-add arguments, like -blockdev)
    ///   - {driver: null-co, node-name: disk0}
    /// catalog:                     # device models to add
    ///   - {name: my-nic, based-on: e1000e, device-id: 0x1234}
    /// ```
    ///
    /// Every key other than `driver`, `id` and `bus` of a controller or device is a device property.
    /// Errors name the line and the key.
    public static func load(yaml text: String) throws(MachineConfigurationError) -> MachineConfiguration {
        do throws(YAMLError) {
            let root = try YAMLParser.parse(text)
            var configuration = MachineConfiguration()
            if root.isNull { return configuration }
            var top = try root.mapping()
            if let type = top.optional("machine") {
                let name = try type.string()
                guard let machineType = MachineType(rawValue: name) else {
                    throw type.error("unknown machine type '\(name)' (expected q35 or pc)")
                }
                configuration.machineType = machineType
            }
            for key in ["controllers", "devices"] {
                guard let list = top.optional(key), !list.isNull else { continue }
                for item in try list.sequence() { configuration.devices.append(try deviceSpec(item)) }
            }
            if let list = top.optional("blockdevs"), !list.isNull {
                for item in try list.sequence() {
                    guard case .object(let arguments) = try blockdevValue(item) else {
                        throw item.error("expected a mapping")
                    }
                    configuration.blockdevs.append(arguments)
                    configuration.blockdevLines.append(item.line)
                }
            }
            if let list = top.optional("catalog"), !list.isNull {
                for item in try list.sequence() { configuration.catalogAdditions.append(try catalogEntry(item)) }
            }
            configuration.guestSection = top.optional("guest")  // read by the guest layer
            try top.finish()
            return configuration
        } catch {
            throw MachineConfigurationError(error)
        }
    }

    private static func deviceSpec(_ node: YAMLNode) throws(YAMLError) -> DeviceSpec {
        let mapping = try node.mapping()
        var spec = DeviceSpec(driver: "", line: node.line)
        var sawDriver = false
        for entry in mapping.entries {
            switch entry.key.text {
            case "driver":
                spec.driver = try entry.value.string()
                sawDriver = true
            case "id": spec.id = try entry.value.string()
            case "bus": spec.bus = try entry.value.string()
            default: spec.properties.append(entry.key.text, try jsonValue(entry.value))
            }
        }
        guard sawDriver else { throw node.error("missing required key 'driver'") }
        return spec
    }

    /// A scalar as device_add would receive it: unquoted integers and booleans typed, the rest strings.
    private static func jsonValue(_ node: YAMLNode) throws(YAMLError) -> JSONValue {
        let scalar = try node.scalar()
        if scalar.style == .plain {
            if let i = scalar.intValue { return .int(Int64(i)) }
            if let b = scalar.boolValue { return .bool(b) }
        }
        return .string(scalar.text)
    }

    /// A `blockdevs` entry as JSON: mappings (inline children, `cache`) nest, scalars as device_add's.
    private static func blockdevValue(_ node: YAMLNode) throws(YAMLError) -> JSONValue {
        guard case .mapping(let entries) = node.kind else { return try jsonValue(node) }
        var object = JSONObject()
        for entry in entries { object.append(entry.key.text, try blockdevValue(entry.value)) }
        return .object(object)
    }

    private static func catalogEntry(_ node: YAMLNode) throws(YAMLError) -> DeviceModel {
        var m = try node.mapping()
        let name = try m.required("name").string()
        var model: DeviceModel
        if let base = m.optional("based-on") {
            let baseName = try base.string()
            guard let found = DeviceCatalog.builtinModel(baseName) else {
                throw base.error("unknown model '\(baseName)'")
            }
            model = found
            model.name = name
        } else {
            model = DeviceModel(
                name: name,
                properties: DeviceCatalog.pciCommon,
                vendorID: 0x1B36,
                deviceID: 0x0100,
                classCode: 0x00FF
            )
        }
        if let v = m.optional("kind") {
            let text = try v.string()
            guard let kind = DeviceKind(rawValue: text) else { throw v.error("unknown kind '\(text)'") }
            model.kind = kind
        }
        if let v = m.optional("express") { model.isExpress = try v.bool() }
        if let v = m.optional("hotpluggable") { model.isHotpluggable = try v.bool() }
        if let v = m.optional("user-creatable") { model.isUserCreatable = try v.bool() }
        if let v = m.optional("vendor-id") { model.vendorID = try uint16(v) }
        if let v = m.optional("device-id") { model.deviceID = try uint16(v) }
        if let v = m.optional("class") { model.classCode = try uint16(v) }
        if let v = m.optional("description") { model.classDescription = try v.string() }
        if let v = m.optional("properties") {
            for p in try v.sequence() where model.property(try p.string()) == nil {
                model.properties.append(.init(try p.string(), "str"))
            }
        }
        if let v = m.optional("children") {
            model.children = []
            for c in try v.sequence() {
                var child = try c.mapping()
                model.children.append(
                    .init(name: try child.required("name").string(), type: try child.required("type").string())
                )
                try child.finish()
            }
        }
        try m.finish()
        return model
    }

    private static func uint16(_ node: YAMLNode) throws(YAMLError) -> UInt16 {
        let value = try node.int()
        guard (0...0xFFFF).contains(value) else { throw node.error("expected a 16-bit value") }
        return UInt16(value)
    }
}
