public import QMPWire

extension Machine {
    /// `device_add`: QEMU's checks in QEMU's order, then the plug into the bus's hotplug controller.
    /// Returns `{}` to the client; the guest accepts the device later (`X_DEVICE_ON`).
    ///
    /// - Parameter textValues: the arguments come from text (HMP's `device_add driver,key=value`),
    ///   every value a string the property parses, in every profile; otherwise they are QMP's JSON.
    /// - Parameter monitor: the monitor whose `getfd` names a descriptor property (`vhostfd`) may use.
    public func deviceAdd(_ arguments: JSONObject, textValues: Bool = false, monitor: String? = nil) throws(QMPError) {
        _ = try addDevice(arguments, hotplug: true, textValues: textValues, monitor: monitor)
    }

    /// Creates a device from `device_add` arguments (hot plug) or a configuration entry (cold plug).
    ///
    /// Backend properties are attached as QEMU sets them, before realize; if anything fails later,
    /// they are let go again, as QEMU's finalize of the half-made device releases them.
    @discardableResult
    func addDevice(
        _ arguments: JSONObject,
        hotplug: Bool,
        textValues: Bool = false,
        monitor: String? = nil
    ) throws(QMPError) -> Device {
        var links: [BackendLink] = []
        do {
            let device = try addDevice(
                arguments,
                hotplug: hotplug,
                textValues: textValues,
                monitor: monitor,
                attaching: &links
            )
            device.links = links
            return device
        } catch {
            for link in links.reversed() { detachBackend(link) }
            throw error
        }
    }

    private func addDevice(
        _ arguments: JSONObject,
        hotplug: Bool,
        textValues: Bool,
        monitor: String?,
        attaching links: inout [BackendLink]
    ) throws(QMPError) -> Device {
        // QemuOpts (until 9.1): a string id must be an identifier; a non-string id is silently dropped.
        var id: String?
        if case .string(let text) = arguments["id"] {
            if profile.deviceAddUsesQemuOpts && !Self.isIdentifier(text) {
                throw .generic("Parameter 'id' expects an identifier")
            }
            id = text
        }
        guard let driver = optionString(arguments["driver"]) else { throw .missingParameter("driver") }
        if X86CPUModels.isCPUType(driver, profile: profile) {
            let strict = hotplug && !textValues && !profile.deviceAddUsesQemuOpts
            return try addCPU(arguments, driver: driver, id: id, hotplug: hotplug, strictTypes: strict)
        }
        guard let model = catalog.model(driver) else { throw .generic("'\(driver)' is not a valid device model name") }
        guard model.isUserCreatable else { throw .generic("Parameter 'driver' expects a pluggable device type") }

        let bus = try resolveBus(optionString(arguments["bus"]), for: model)
        if model.name == PCDIMM.driver {
            return try addDIMM(
                arguments,
                id: id,
                model: model,
                hotplug: hotplug,
                textValues: textValues,
                attaching: &links
            )
        }
        if hotplug && profile.checksDeviceHotpluggableFirst && !model.isHotpluggable {
            throw .generic("Device '\(model.name)' does not support hotplugging")
        }
        guard let bus else {
            // A non-PCI device: only the ISA bus, which never takes hot-plugged devices.
            if hotplug { throw .generic("Bus '\(Self.isaBusName)' does not support hotplugging") }
            throw .generic("Device '\(model.name)' is not supported by this machine model")
        }
        if hotplug && !isHotpluggable(bus) { throw .generic("Bus '\(bus.name)' does not support hotplugging") }
        if let id, peripheral[id] != nil { throw .generic("Duplicate device ID '\(id)'") }

        var properties: [String: JSONValue] = [:]
        // Since 9.2 QMP arguments keep their JSON types (the QAPI input visitor); configuration
        // entries are text, like -device options.
        let strict = hotplug && !textValues && !profile.deviceAddUsesQemuOpts
        for member in arguments.members where !["driver", "bus", "id"].contains(member.key) {
            if profile.deviceAddUsesQemuOpts && !member.value.isScalar { continue }
            guard let property = model.property(member.key) else {
                throw .generic("Property '\(model.name).\(member.key)' not found")
            }
            let value = try Self.parseProperty(member.value, property, model: model, strictTypes: strict)
            properties[member.key] = value
            if let kind = property.backend, let name = value.stringValue {
                let link = BackendLink(property: property.name, kind: kind, name: name)
                links.append(try attachBackend(link, owner: Self.backendPropertyOwner(of: model)))
            }
        }

        // Realize.
        if hotplug && !profile.checksDeviceHotpluggableFirst && !model.isHotpluggable {
            throw .generic("Device '\(model.name)' does not support hotplugging")
        }
        let controller = bus.owner
        let acpi = acpiServes(bus)
        if hotplug && !acpi, let slot = controller?.pcieSlot {
            let portName = controller?.idForErrors ?? "(null)"
            if !slot.isHotplugCapable {
                throw .generic("Hot-plug failed: unsupported by the port device '\(portName)'")
            }
            if slot.isInterlockEngaged { throw .generic("slot is electromechanically locked: Device or resource busy") }
        }
        try checkACPIIndex(properties["acpi-index"])
        let devfn: UInt8
        if bus.kind.isPCI {
            devfn = try assignAddress(
                properties["addr"],
                on: bus,
                model: model,
                hotplug: hotplug,
                multifunction: properties["multifunction"]?.boolValue ?? false
            )
        } else {
            devfn = 0
            try assignBusAddress(&properties, on: bus, model: model)
        }
        if model.kind == .pciBridge && (properties["chassis_nr"]?.int64Value ?? 0) == 0 {
            throw .generic(
                "Bridge chassis not specified. Each bridge is required to be assigned a unique chassis id > 0."
            )
        }
        for requirement in model.requiredProperties where properties[requirement.name] == nil {
            throw .generic(requirement.error)
        }
        let descriptors = try realizeBackendDevice(model, properties: properties, links: links, monitor: monitor)

        let anonymousIndex = id == nil ? freeAnonymousIndex() : nil
        let device = Device(
            model: model,
            id: id,
            anonymousIndex: anonymousIndex,
            devfn: devfn,
            properties: properties,
            hotplugged: hotplug
        )
        device.descriptors = descriptors
        do {
            try realizeBackends(links, of: device)
        } catch {
            releaseDescriptors(descriptors)
            throw error
        }
        // The SHPC checks the slot when plugging, after the device (and its virtio backend) was realized:
        // a failure unrealizes the backend, whose DEVICE_DELETED comes before the error.
        if !acpi && controller?.shpc != nil && !SHPCController.isValidSlot(device.slot) {
            releaseDescriptors(descriptors)
            for child in model.children { emit(.deviceDeleted(path: "\(device.path)/\(child.name)")) }
            throw .generic(
                "Unsupported PCI slot \(device.slot) for standard hotplug controller. Valid slots are between 1 and 31."
            )
        }

        device.parentBus = bus
        bus.insert(device)
        if let id { peripheral[id] = device } else if let anonymousIndex { anonymous[anonymousIndex] = device }
        createSecondaryBus(of: device)
        createChildBus(of: device)
        topologyChanged(by: device)

        if acpi {
            acpiPCIPlugged(device, on: bus, hotplug: hotplug)
        } else if let port = controller, var slot = port.pcieSlot {
            if bus.devices[0] != nil {
                if hotplug { slot.hotPlug() } else { slot.coldPlug() }
                if device.devfn == 0 { slot.setEndpointLink(express: model.isExpressOnPCIeBus) }
            }
            port.pcieSlot = slot
        } else if let bridge = controller, var shpc = bridge.shpc {
            if hotplug { shpc.hotPlug(slot: device.slot) } else { shpc.coldPlug(slot: device.slot) }
            bridge.shpc = shpc
        }
        return device
    }

    /// `bus` given: found by name; omitted: the first bus of the right type (the root bus for PCI
    /// devices, as QEMU's depth-first search finds it first). Nil means the ISA bus.
    private func resolveBus(_ name: String?, for model: DeviceModel) throws(QMPError) -> PCIBus? {
        let wanted = model.busType
        guard let name else {
            if wanted == .isa { return nil }
            if wanted.isPCI { return rootBus }
            guard let bus = firstBus(of: wanted, under: rootBus) else {
                throw .generic("No '\(wanted.rawValue)' bus found for device '\(model.name)'")
            }
            return bus
        }
        if name == Self.isaBusName {
            if wanted == .isa { return nil }
            throw .generic("Device '\(model.name)' can't go on ISA bus")
        }
        guard let bus = busesByName[name] else { throw .generic("Bus '\(name)' not found") }
        if !bus.kind.accepts(wanted) { throw .generic("Device '\(model.name)' can't go on \(bus.typeName) bus") }
        return bus
    }

    /// QEMU's `qbus_find_recursive`: depth-first from `bus`, a bus's devices newest first (QOM keeps
    /// a bus's children newest first), each device's own buses before its siblings'.
    private func firstBus(of kind: BusKind, under bus: PCIBus) -> PCIBus? {
        if bus.kind == kind { return bus }
        for device in bus.children.reversed() {
            for child in [device.childBus, device.secondaryBus] {
                if let child, let found = firstBus(of: kind, under: child) { return found }
            }
        }
        return nil
    }

    /// `do_pci_register_device` and `pci_init_multifunction`: the devfn, or QEMU's error.
    private func assignAddress(
        _ addr: JSONValue?,
        on bus: PCIBus,
        model: DeviceModel,
        hotplug: Bool,
        multifunction: Bool
    ) throws(QMPError) -> UInt8 {
        var devfn: UInt8
        var automatic = false
        if let addr, let requested = addr.int64Value.map({ UInt8(truncatingIfNeeded: $0) }) ?? PCIAddress.parse(addr),
            addr.int64Value != -1
        {
            devfn = requested
            if let occupant = bus.devices[devfn] {
                throw .generic(
                    "PCI: slot \(devfn >> 3) function \(devfn & 7) not available for \(model.name), in use by \(occupant.model.name),id=\(occupant.idForErrors)"
                )
            }
        } else {
            guard let free = (0..<32).map({ UInt8($0 << 3) }).first(where: { bus.devices[$0] == nil }) else {
                throw .generic("PCI: no slot/function available for \(model.name), all in use or reserved")
            }
            devfn = free
            automatic = true
        }
        // Function 0 of the slot (behind a port: device 0, the only one the guest sees).
        let functionZero = bus.isPortBus ? bus.devices[0] : bus.devices[devfn & ~7]
        if hotplug && (!automatic || profile.refusesHiddenFunctionOnAutoAddress), let f0 = functionZero {
            throw .generic(
                "PCI: slot \(f0.slot) function 0 already occupied by \(f0.model.name), new func \(model.name) cannot be exposed to guest."
            )
        }
        let slot = Int(devfn >> 3)
        if devfn & 7 != 0 {
            if let f0 = bus.devices[devfn & ~7], !f0.flag("multifunction") {
                throw .generic("PCI: single function device can't be populated in function \(PCIAddress.text(devfn))")
            }
        } else if !multifunction {
            for f in 1..<8 where bus.devices[UInt8(slot << 3 | f)] != nil {
                throw .generic(
                    "PCI: \(String(slot, radix: 16)).0 indicates single function, but \(String(slot, radix: 16)).\(f) is already populated."
                )
            }
        }
        return devfn
    }

    /// Gives a controller its non-PCI bus: `ID.0` (the virtio proxy names its backend's bus after
    /// itself), or the type's automatic name (`scsi.0`) without an id.
    func createChildBus(of device: Device) {
        guard let kind = device.model.providesBus else { return }
        let name = device.id.map { "\($0).0" } ?? nextAutomaticBusName(kind)
        let bus = PCIBus(name: name, kind: kind, owner: device)
        device.childBus = bus
        busesByName[name] = bus
    }

    /// Gives a port or bridge its secondary bus and hotplug controller.
    func createSecondaryBus(of device: Device) {
        let kind = device.model.kind
        guard kind.hasSecondaryBus else { return }
        let express = kind == .rootPort || kind == .downstreamPort || kind == .upstreamPort
        let name = device.id ?? nextAnonymousBusName(express: express)
        let bus = PCIBus(name: name, isExpress: express, owner: device)
        device.secondaryBus = bus
        device.interruptHandler = { [unowned self] in controllerInterrupted($0) }
        busesByName[name] = bus
        if kind.hasPCIeSlot {
            device.pcieSlot = PCIeSlot(
                hotplug: device.property("hotplug")?.boolValue ?? true,
                powerControllerPresent: device.property("power_controller_present")?.boolValue ?? true,
                physicalSlotNumber: UInt32(truncatingIfNeeded: device.integer("slot"))
            )
        } else if kind == .pciePCIBridge || (kind == .pciBridge && device.flag("shpc")) {
            device.shpc = SHPCController(style: profile.shpcStyle)
        }
    }

    // MARK: Argument parsing as QemuOpts and the property setters do

    /// `driver` and `bus` as `qdev_device_add` reads them: text from any scalar through QemuOpts
    /// (until 9.2), strings only since; anything else counts as absent.
    func optionString(_ value: JSONValue?) -> String? {
        guard let value else { return nil }
        if case .string(let text) = value { return text }
        guard profile.deviceAddUsesQemuOpts, value.isScalar else { return nil }
        return try? Self.optionText(value, name: "")
    }

    /// QemuOpts turns numbers and booleans into text; other JSON types are refused.
    static func optionText(_ value: JSONValue, name: String) throws(QMPError) -> String {
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .bool(let b): return b ? "on" : "off"
        case .double(let d): return String(d)
        default: throw .invalidParameterType(name, expected: "string")
        }
    }

    /// `qemu_strtosz`: a non-negative number (a fraction needs a suffix) and an optional unit suffix
    /// `B`, `K`, `M`, `G`, `T`, `P` or `E` (either case; powers of 1024). Nil when invalid or too large.
    public static func parseSize(_ text: String) -> Int64? {
        var digits = Substring(text)
        var shift: Int64 = 0
        if let last = digits.last, let index = "BKMGTPE".firstIndex(of: Character(last.uppercased())) {
            shift = Int64("BKMGTPE".distance(from: "BKMGTPE".startIndex, to: index)) * 10
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) else { return nil }
        if digits.contains(".") {
            guard shift > 0, let fraction = Double(digits) else { return nil }
            let value = fraction * Double(Int64(1) << shift)
            return value < 9.2e18 ? Int64(value) : nil
        }
        guard let whole = Int64(digits), whole <= Int64.max >> shift else { return nil }
        return whole << shift
    }

    /// A size as `-m` reads one: ``parseSize(_:)``, except that a number without a suffix counts
    /// `bareUnit` bytes (MiB for `-m`'s size, as `qemu_strtosz_MiB`; bytes for `maxmem`). Nil when invalid
    /// or too large.
    public static func parseSize(_ text: String, bareUnit: UInt64) -> UInt64? {
        guard let last = text.last else { return nil }
        if last.isNumber {
            guard let number = UInt64(text) else { return nil }
            let (product, overflow) = number.multipliedReportingOverflow(by: bareUnit)
            return overflow ? nil : product
        }
        guard let bytes = parseSize(text), bytes >= 0 else { return nil }
        return UInt64(bytes)
    }

    /// QEMU's MAC property syntax: six pairs of hex digits separated by `:` or `-`.
    public static func isMACAddress(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 17 else { return false }
        for (i, b) in bytes.enumerated() {
            if i % 3 == 2 {
                guard b == UInt8(ascii: ":") || b == UInt8(ascii: "-") else { return false }
            } else {
                guard Unicode.Scalar(b).properties.isASCIIHexDigit else { return false }
            }
        }
        return true
    }

    /// QEMU's `id_wellformed`: a letter, then letters, digits, `-`, `.` and `_`.
    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.isASCIILetter else { return false }
        return text.unicodeScalars.dropFirst().allSatisfy {
            $0.isASCIILetter || ("0"..."9").contains($0) || "-._".unicodeScalars.contains($0)
        }
    }

    static func parseProperty(
        _ value: JSONValue,
        _ property: DeviceModel.Property,
        model: DeviceModel,
        strictTypes: Bool = false
    ) throws(QMPError) -> JSONValue {
        if property.name == "addr" {
            // A number is a devfn for the visitor; QemuOpts makes it text first ("56" is slot 0x56).
            if case .int = value, strictTypes { return value }
            if case .int(let n) = value { return try parseProperty(.string(String(n)), property, model: model) }
            guard value.isScalar else { throw .generic("Invalid parameter type for 'addr', expected int or str") }
            guard PCIAddress.parse(value) != nil else {
                let shown = (try? optionText(value, name: "addr")) ?? value.jsonText
                throw .generic("Property '\(model.name).addr' doesn't take value '\(shown)'")
            }
            return value
        }
        // With `strictTypes` the QAPI input visitor wants the JSON type of the property; otherwise
        // QemuOpts text is parsed as the property setter does.
        switch property.type {
        case "bool":
            if case .bool = value { return value }
            if strictTypes { throw .invalidParameterType(property.name, expected: "boolean") }
            switch try optionText(value, name: property.name) {
            case "on", "yes", "true", "y": return .bool(true)
            case "off", "no", "false", "n": return .bool(false)
            default: throw .generic("Parameter '\(property.name)' expects 'on' or 'off'")
            }
        case "size" where strictTypes:
            guard let i = value.int64Value, i >= 0 else { throw .parameterExpects(property.name, "uint64") }
            return .int(i)
        case "size":
            // QemuOpts text through qemu_strtosz: a number with an optional B/K/M/G/T/P/E suffix.
            let text = try optionText(value, name: property.name)
            guard let size = Self.parseSize(text) else { throw .parameterExpects(property.name, "size") }
            return .int(size)
        case "uint8", "uint16", "uint32", "uint64", "int32":
            if let i = value.int64Value { return try checkRange(i, property) }
            if strictTypes {
                throw .parameterExpects(property.name, property.type == "int32" ? "int64" : "uint64")
            }
            let text = try optionText(value, name: property.name)
            let parsed = text.hasPrefix("0x") ? Int64(text.dropFirst(2), radix: 16) : Int64(text)
            guard let parsed else { throw .generic("Parameter '\(property.name)' expects integer") }
            return try checkRange(parsed, property)
        default:
            if strictTypes && value.stringValue == nil {
                throw .invalidParameterType(property.name, expected: "string")
            }
            let text = try optionText(value, name: property.name)
            if property.name == "mac" && !isMACAddress(text) {
                // A virtio proxy forwards `mac` to its backend, which is the one that refuses it.
                let owner = model.children.first?.type ?? model.name
                throw .generic("Property '\(owner).mac' doesn't take value '\(text)'")
            }
            return .string(text)
        }
    }

    private static func checkRange(_ value: Int64, _ property: DeviceModel.Property) throws(QMPError) -> JSONValue {
        let bits: Int64? =
            switch property.type {
            case "uint8": 8
            case "uint16": 16
            case "uint32": 32
            default: nil
            }
        if let bits, value < 0 || value >= (1 << bits) {
            throw .parameterExpects(property.name, "\(property.type)_t")
        }
        return .int(value)
    }
}

extension Unicode.Scalar {
    var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}

extension MachineEvent {
    /// `DEVICE_DELETED` for a QOM child without an id.
    static func deviceDeleted(path: String) -> MachineEvent {
        MachineEvent(.deviceDeleted, data: JSONObject([("path", .string(path))]))
    }

    /// `DEVICE_DELETED` of a device.
    static func deviceDeleted(_ device: Device) -> MachineEvent {
        MachineEvent(.deviceDeleted, data: device.deviceAndPath)
    }
}
