public import QMPWire

/// Read-only views of the machine for QMP: `x-query-hotplug`, `query-pci`, `qom-list`, `qom-get`.
extension Machine {
    // MARK: x-query-hotplug

    /// `x-query-hotplug {id}`: the v8 `HotplugInfo` of a device, derived from its controller's registers.
    /// Where v8 would assert or abort (no state hook, reserved LED encodings) we answer an error or
    /// leave the optional member out.
    public func queryHotplug(_ id: String) throws(QMPError) -> JSONObject {
        let device = try findDevice(id)
        guard let bus = device.parentBus, isHotpluggable(bus) else {
            throw .generic("Bus '\(device.parentBus?.name ?? rootBus.name)' does not support hotplugging")
        }
        guard device.model.isHotpluggable else {
            throw .generic("Device '\(device.model.name)' does not support hotplugging")
        }
        // ACPI hot-plug has no state hook in v8 (and no X_DEVICE_ON).
        guard !acpiServes(bus), let controller = bus.owner else {
            throw .generic("Hotplug state is not available for '\(id)'")
        }
        var info = JSONObject()
        if let slot = controller.pcieSlot {
            info.append("type", "pcie-native")
            info.append("bus", .object(controller.deviceAndPath))
            info.append("child", .object(device.deviceAndPath))
            info.append("device-on", .bool(device.deviceOnSent))
            if let led = slot.powerLED { info.append("power-led", .string(led.rawValue)) }
            if let led = slot.attentionLED { info.append("attention-led", .string(led.rawValue)) }
            info.append("power-on", .bool(slot.powerOn))
        } else if let shpc = controller.shpc {
            guard SHPCController.isValidSlot(device.slot) else {
                throw .generic(
                    "Unsupported PCI slot \(device.slot) for standard hotplug controller. Valid slots are between 1 and 31."
                )
            }
            info.append("type", "shpc")
            info.append("bus", .object(controller.deviceAndPath))
            info.append("addr", .string(String(device.slot)))
            info.append("child", .object(device.deviceAndPath))
            info.append("device-on", .bool(device.deviceOnSent))
            if let led = shpc.powerLED(device.slot) { info.append("power-led", .string(led.rawValue)) }
            if let led = shpc.attentionLED(device.slot) { info.append("attention-led", .string(led.rawValue)) }
            if let state = shpc.slotState(device.slot) { info.append("slot-state", .string(state.rawValue)) }
        } else {
            throw .generic("Hotplug state is not available for '\(id)'")
        }
        return info
    }

    // MARK: query-pci

    /// Bus numbers as a firmware would assign them at boot: depth-first from 0 (SeaBIOS style).
    /// QEMU started with `-S` and no firmware leaves them 0 and lists nothing behind bridges; a booted
    /// guest's numbering is what management software sees, so that is what we report.
    func busNumbers() -> [ObjectIdentifier: (number: Int, subordinate: Int)] {
        var numbers: [ObjectIdentifier: (number: Int, subordinate: Int)] = [:]
        var next = 0
        func number(_ bus: PCIBus) -> Int {
            let mine = next
            next += 1
            var subordinate = mine
            for device in bus.devices {
                if let sub = device.secondaryBus { subordinate = max(subordinate, number(sub)) }
            }
            numbers[ObjectIdentifier(bus)] = (mine, subordinate)
            return subordinate
        }
        _ = number(rootBus)
        return numbers
    }

    /// `query-pci`: every bus reachable from the root, with bridges and devices as they are now
    /// (devices with a pending unplug included).
    public func queryPCI() -> JSONValue {
        let numbers = busNumbers()
        func range(_ base: Int64, _ limit: Int64) -> JSONValue {
            .object(JSONObject([("base", .int(base)), ("limit", .int(limit))]))
        }
        func deviceInfo(_ device: Device, busNumber: Int) -> JSONValue {
            let model = device.model
            var info = JSONObject()
            info.append("bus", .int(Int64(busNumber)))
            info.append("slot", .int(Int64(device.slot)))
            info.append("function", .int(Int64(device.function)))
            var classInfo = JSONObject()
            if let desc = model.classDescription { classInfo.append("desc", .string(desc)) }
            classInfo.append("class", .int(Int64(model.classCode)))
            info.append("class_info", .object(classInfo))
            var ids = JSONObject()
            let identity = model.identity(onExpressBus: device.parentBus?.isExpress ?? false)
            ids.append("device", .int(Int64(identity.deviceID)))
            ids.append("vendor", .int(Int64(model.vendorID)))
            if let s = identity.subsystemID { ids.append("subsystem", .int(Int64(s))) }
            if let s = model.subsystemVendorID { ids.append("subsystem-vendor", .int(Int64(s))) }
            info.append("id", .object(ids))
            // QEMU reports the IRQ line of every function with an interrupt pin; the line itself is what
            // firmware routes (10 here; QEMU at -S, before any firmware, reports 0).
            if model.interruptPin != 0 && model.kind != .nonPCI {
                info.append("irq", .int(10))
            }
            info.append("irq_pin", .int(Int64(model.interruptPin)))
            info.append("qdev_id", .string(device.id ?? ""))
            if let sub = device.secondaryBus, let n = numbers[ObjectIdentifier(sub)] {
                var busInfo = JSONObject()
                busInfo.append("number", .int(Int64(busNumber)))
                busInfo.append("secondary", .int(Int64(n.number)))
                busInfo.append("subordinate", .int(Int64(n.subordinate)))
                busInfo.append("io_range", range(61440, 4095))
                busInfo.append("memory_range", range(4_293_918_720, 1_048_575))
                busInfo.append("prefetchable_range", range(4_293_918_720, 1_048_575))
                var bridge = JSONObject()
                bridge.append("bus", .object(busInfo))
                bridge.append("devices", .array(sub.devices.map { deviceInfo($0, busNumber: n.number) }))
                info.append("pci_bridge", .object(bridge))
            }
            info.append("regions", .array([]))
            return .object(info)
        }
        var result: [JSONValue] = []
        func walk(_ bus: PCIBus) {
            let n = numbers[ObjectIdentifier(bus)]?.number ?? 0
            var info = JSONObject()
            info.append("bus", .int(Int64(n)))
            info.append("devices", .array(bus.devices.map { deviceInfo($0, busNumber: n) }))
            result.append(.object(info))
        }
        walk(rootBus)
        return .array(result)
    }

    // MARK: QOM

    /// Whether a QOM object (container or device) exists at `path`.
    func qomObjectExists(_ path: String) -> Bool {
        ["/", "/machine", "/machine/peripheral", "/machine/peripheral-anon", "/machine/unattached", "/objects"]
            .contains(path)
            || deviceAt(path: path) != nil || qomChild(path) != nil
            || (path.hasPrefix("/objects/") && objects[String(path.dropFirst("/objects/".count))] != nil)
    }

    /// A device's QOM child object (`.../virtio-backend`) as (owner, child model).
    private func qomChild(_ path: String) -> (Device, DeviceModel.Child)? {
        guard let slash = path.lastIndex(of: "/") else { return nil }
        let parent = String(path[..<slash])
        let name = path[path.index(after: slash)...]
        guard let device = deviceAt(path: parent), let child = device.model.children.first(where: { $0.name == name })
        else {
            return nil
        }
        return (device, child)
    }

    private func property(_ name: String, _ type: String) -> JSONValue {
        .object(JSONObject([("name", .string(name)), ("type", .string(type))]))
    }

    /// `qom-list {path}`: the properties of the object at `path`. Members come in creation order;
    /// QEMU lists them in GLib hash-table order.
    public func qomList(_ path: String) throws(QMPError) -> JSONValue {
        let type = property("type", "string")
        switch path {
        case "/":
            return .array([
                type, property("objects", "child<container>"),
                property("machine", "child<\(machineType.qomType(profile))>"), property("chardevs", "child<container>"),
            ])
        case "/machine":
            return .array([
                type, property("peripheral", "child<container>"), property("peripheral-anon", "child<container>"),
                property("unattached", "child<container>"),
            ])
        case "/machine/peripheral":
            let devices = peripheral.values.sorted { $0.path < $1.path }
            return .array([type] + devices.map { property($0.id ?? "", "child<\($0.model.name)>") })
        case "/machine/peripheral-anon":
            let devices = anonymous.keys.sorted().compactMap { anonymous[$0] }
            return .array(
                [type] + devices.map { property("device[\($0.anonymousIndex ?? 0)]", "child<\($0.model.name)>") }
            )
        case "/machine/unattached":
            return .array([type])
        default:
            if let list = qomListObjects(path) { return list }
            if let device = deviceAt(path: path) {
                var list: [JSONValue] = [
                    type, property("parent_bus", "link<bus>"), property("realized", "bool"),
                    property("hotplugged", "bool"), property("hotpluggable", "bool"),
                ]
                list += device.model.properties.map { property($0.name, $0.type) }
                list += device.model.children.map { property($0.name, "child<\($0.type)>") }
                if let bus = device.secondaryBus { list.append(property(bus.name, "child<\(bus.typeName)>")) }
                return .array(list)
            }
            if let (owner, _) = qomChild(path) {
                var list = [type, property("realized", "bool"), property("parent_bus", "link<bus>")]
                // A controller's SCSI or virtio-serial bus is a child of its virtio backend.
                if let bus = owner.childBus { list.append(property(bus.name, "child<\(bus.typeName)>")) }
                return .array(list)
            }
            throw QMPError(.deviceNotFound, "Device '\(path)' not found")
        }
    }

    /// A device's `link<TYPE>` property to an object, as `qom-get` reads it: the object's path, `""`
    /// once it is deleted or when unset, and virtio-rng's own default backend (nil: not such a property).
    private func linkValue(of device: Device, property name: String) -> JSONValue? {
        guard let property = device.model.property(name), property.type.hasPrefix("link<") else { return nil }
        if let link = device.links.first(where: { $0.property == name }) { return .string(objectLinkPath(link)) }
        if name == "rng" { return .string("\(device.path)/virtio-backend/default-backend") }
        return .string("")
    }

    /// `qom-get {path, property}`.
    public func qomGet(_ path: String, property name: String) throws(QMPError) -> JSONValue {
        if let value = try qomGetObject(path, property: name) { return value }
        if let value = try qomGetACPI(path, property: name) { return value }
        let typeName: String
        var value: JSONValue?
        switch path {
        case "/machine":
            typeName = machineType.qomType(profile)
        case "/", "/machine/peripheral", "/machine/peripheral-anon", "/machine/unattached":
            typeName = "container"
        default:
            if let device = deviceAt(path: path) {
                typeName = device.model.name
                switch name {
                case "realized": value = .bool(true)
                case "hotplugged": value = .bool(device.isHotplugged)
                case "hotpluggable": value = .bool(device.model.isHotpluggable)
                case "addr" where device.model.kind != .nonPCI: value = .int(Int64(device.devfn))
                case "parent_bus":
                    // A DIMM has no bus: QEMU reads its link as "".
                    value = .string(device.parentBus?.qomPath ?? (dimmSlot(of: device) != nil ? "" : "/machine/"))
                default: value = linkValue(of: device, property: name) ?? device.property(name)
                }
            } else if let (device, child) = qomChild(path) {
                typeName = child.type
                if name == "realized" { value = .bool(true) }
                if child.name == "virtio-backend" { value = value ?? linkValue(of: device, property: name) }
            } else {
                throw QMPError(.deviceNotFound, "Device '\(path)' not found")
            }
        }
        if name == "type" { return .string(typeName) }
        guard let value else { throw .generic("Property '\(typeName).\(name)' not found") }
        return value
    }
}
