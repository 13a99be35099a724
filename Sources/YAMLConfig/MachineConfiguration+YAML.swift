import QMPWire
public import SimulatedMachine

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
    /// netdevs:                     # network backends, created before the devices (netdev_add arguments)
    ///   - {type: user, id: hostnet0}
    /// objects:                     # user-creatable objects, created first (object-add arguments, like -object)
    ///   - {qom-type: iothread, id: io0}
    /// chardevs:                    # character devices, after the objects (chardev-add arguments, like -chardev)
    ///   - {id: c0, backend: {type: "null", data: {}}}
    /// accel: kvm                   # or tcg (-accel; default kvm)
    /// smp: {cpus: 1, maxcpus: 4}   # -smp: cpus, maxcpus, sockets, dies, cores, threads
    /// memory: {size: 512M, slots: 4, maxmem: 4G}   # -m (a bare size number is MiB, as -m's is)
    /// globals:                     # -global options, in order
    ///   - ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off
    /// catalog:                     # device models to add
    ///   - {name: my-nic, based-on: e1000e, device-id: 0x1234}
    /// ```
    ///
    /// Every key other than `driver`, `id` and `bus` of a controller or device is a device property.
    /// Errors name the line and the key. The `guest:` section is accepted and left to the guest layer
    /// (``ConfigurationFile/load(yaml:)`` returns it).
    public static func load(yaml text: String) throws(MachineConfigurationError) -> MachineConfiguration {
        try ConfigurationFile.load(yaml: text).machine
    }

    /// Reads the machine's keys of a configuration file's root mapping; the caller reads the rest
    /// (`guest`) and calls `finish()`.
    static func read(from top: inout YAMLMapping) throws(YAMLError) -> MachineConfiguration {
        var configuration = MachineConfiguration()
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
        configuration.board = try board(from: &top)
        configuration.blockdevs = try argumentList(top.optional("blockdevs"))
        configuration.netdevs = try argumentList(top.optional("netdevs"))
        configuration.objects = try argumentList(top.optional("objects"))
        configuration.chardevs = try argumentList(top.optional("chardevs"))
        if let list = top.optional("catalog"), !list.isNull {
            for item in try list.sequence() { configuration.catalogAdditions.append(try catalogEntry(item)) }
        }
        return configuration
    }

    /// `accel:`, `smp:`, `memory:` and `globals:`.
    private static func board(from top: inout YAMLMapping) throws(YAMLError) -> BoardOptions {
        var board = BoardOptions()
        if let node = top.optional("accel") {
            let name = try node.string()
            guard let accel = Accelerator(rawValue: name) else {
                throw node.error("unknown accelerator '\(name)' (expected kvm or tcg)")
            }
            board.accel = accel
        }
        if let node = top.optional("smp"), !node.isNull {
            var m = try node.mapping()
            func count(_ key: String) throws(YAMLError) -> Int? {
                guard let value = m.optional(key) else { return nil }
                let n = try value.int()
                guard n > 0 else { throw value.error("'\(key)' must be a positive number") }
                return n
            }
            board.smp = SMPOptions(
                cpus: try count("cpus"),
                maxcpus: try count("maxcpus"),
                sockets: try count("sockets"),
                dies: try count("dies"),
                cores: try count("cores"),
                threads: try count("threads")
            )
            try m.finish()
        }
        if let node = top.optional("memory"), !node.isNull {
            var m = try node.mapping()
            if let size = m.optional("size") { board.memory.size = try byteSize(size, bareUnit: 1 << 20) }
            if let slots = m.optional("slots") {
                let n = try slots.int()
                guard n >= 0 else { throw slots.error("'slots' must not be negative") }
                board.memory.slots = n
            }
            if let maxmem = m.optional("maxmem") { board.memory.maxmem = try byteSize(maxmem, bareUnit: 1) }
            try m.finish()
        }
        if let list = top.optional("globals"), !list.isNull {
            for item in try list.sequence() {
                let text = try item.string()
                guard let global = GlobalProperty(text) else {
                    throw item.error("a global is DRIVER.PROPERTY=VALUE, not '\(text)'")
                }
                board.globals.append(global)
            }
        }
        return board
    }

    /// A size as QEMU's `-m` reads one (``Machine/parseSize(_:bareUnit:)``): a number with an optional
    /// binary suffix (`K`, `M`, `G`, `T`, any case; `1.5G` allowed); a bare number counts in `bareUnit`
    /// (MiB for `size`, bytes for `maxmem`).
    private static func byteSize(_ node: YAMLNode, bareUnit: UInt64) throws(YAMLError) -> UInt64 {
        let text = try node.scalar().text
        guard let size = Machine.parseSize(text, bareUnit: bareUnit) else {
            throw node.error("'\(text)' is not a size (a number with K, M, G or T)")
        }
        return size
    }

    /// A list of command arguments (`blockdevs:`, `netdevs:`, `objects:`, `chardevs:`), each a mapping, with its line.
    private static func argumentList(_ list: YAMLNode?) throws(YAMLError) -> [BackendEntry] {
        guard let list, !list.isNull else { return [] }
        var result: [BackendEntry] = []
        for item in try list.sequence() {
            guard case .object(let arguments) = try jsonTree(item) else { throw item.error("expected a mapping") }
            result.append(BackendEntry(arguments, line: item.line))
        }
        return result
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

    /// A scalar as device_add would receive it: unquoted (or `!!int`/`!!bool`) integers and booleans
    /// typed, the rest strings.
    private static func jsonValue(_ node: YAMLNode) throws(YAMLError) -> JSONValue {
        let scalar = try node.scalar()
        if let i = scalar.intValue { return .int(Int64(i)) }
        if let b = scalar.boolValue { return .bool(b) }
        return .string(scalar.text)
    }

    /// A node as a JSON value, mappings and sequences included (`blockdevs:` entries with inline
    /// children and `cache`; `netdevs:` entries, whose `hostfwd` is a list of `{str: ...}`).
    private static func jsonTree(_ node: YAMLNode) throws(YAMLError) -> JSONValue {
        switch node.kind {
        case .scalar: return try jsonValue(node)
        case .sequence(let items):
            var values: [JSONValue] = []
            for item in items { values.append(try jsonTree(item)) }
            return .array(values)
        case .mapping(let entries):
            var object = JSONObject()
            for entry in entries { object.append(entry.key.text, try jsonTree(entry.value)) }
            return .object(object)
        }
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
