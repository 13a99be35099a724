public import QMPWire

/// The machine's vCPUs: the `-smp` ones made at start, `device_add`/`device_del` of x86 CPU devices with
/// QEMU's checks and texts (`pc_cpu_pre_plug`, `pc_cpu_unplug_request_cb`), the guest's eject, and the
/// two QMP views (`query-hotpluggable-cpus`, `query-cpus-fast`); `acpi-hotplug.md` §5.
extension Machine {
    /// Whether NUMA is on implicitly (QEMU enables it with memory hot-plug: `slots` or `maxmem`), which
    /// gives every CPU's properties `node-id: 0`.
    var cpusHaveNUMANode: Bool {
        board.memory.slots > 0 || (board.memory.maxmem.map { $0 > board.memory.size } ?? false)
    }

    /// The CPU device model of this machine: its `lapic` child is `kvm-apic` under KVM, `apic` under TCG.
    func cpuModel(_ name: String) -> DeviceModel {
        DeviceModel(
            name: name,
            kind: .nonPCI,
            properties: [
                .init("socket-id", "int32"), .init("die-id", "int32"), .init("core-id", "int32"),
                .init("thread-id", "int32"), .init("node-id", "int32"), .init("apic-id", "uint32"),
            ],
            children: [.init(name: "lapic", type: board.accel == .kvm ? "kvm-apic" : "apic")],
            vendorID: 0,
            deviceID: 0,
            classCode: 0
        )
    }

    /// The `-smp` CPUs: the boot CPU (`/machine/unattached/device[0]`) and `cpus` - 1 more
    /// (`device[2]`, `device[3]`, ...: QEMU's `kvmvapic` takes `device[1]` after the boot CPU).
    func plugColdCPUs() {
        for index in 0..<cpuTopology.cpus {
            let device = Device(
                model: cpuModel(X86CPUModels.machineType),
                id: nil,
                anonymousIndex: nil,
                path: "/machine/unattached/device[\(index == 0 ? 0 : index + 1)]",
                devfn: 0,
                properties: [:],
                hotplugged: false
            )
            builtinDevices.append(device)
            plugCPU(device, index: index, hotplug: false)
        }
    }

    /// The CPU device at a QOM path (`/machine/unattached/device[0]`, `/machine/peripheral/cpu2`), if
    /// one is there.
    public func cpuDevice(atPath path: String) -> Device? {
        guard let device = deviceAt(path: path), cpuIndex(of: device) != nil else { return nil }
        return device
    }

    /// The possible-CPU index of a CPU device, nil for other devices.
    func cpuIndex(of device: Device) -> Int? {
        presentCPUs.first { $0.device === device }?.index
    }

    private func plugCPU(_ device: Device, index: Int, hotplug: Bool) {
        presentCPUs.append(PresentCPU(index: index, device: device, threadSerial: cpuThreadCount))
        cpuThreadCount += 1
        if cpuHotplug.plug(index: index, hotplugged: hotplug) { raiseGPE(GPE0Block.cpuHotplug) }
    }

    // MARK: device_add

    /// `device_add` (or `-device`) of an x86 CPU type: id, properties, then `pc_cpu_pre_plug`'s checks
    /// in its order, then the plug (present, and when hot-plugged INSERTING and the CPU GPE).
    func addCPU(
        _ arguments: JSONObject,
        driver: String,
        id: String?,
        hotplug: Bool,
        strictTypes: Bool
    )
        throws(QMPError) -> Device
    {
        // A CPU goes on no bus (QEMU's `qdev_device_add` checks `bus` before the id).
        if let name = optionString(arguments["bus"]) {
            if name == Self.isaBusName { throw .generic("Device '\(driver)' can't go on ISA bus") }
            guard let bus = busesByName[name] else { throw .generic("Bus '\(name)' not found") }
            throw .generic("Device '\(driver)' can't go on \(bus.typeName) bus")
        }
        if let id, peripheral[id] != nil { throw .generic("Duplicate device ID '\(id)'") }
        let model = cpuModel(driver)
        var values: [String: Int64] = [:]
        // Properties are set in QDict order (QEMU walks the arguments' dictionary); the QAPI input
        // visitor (from 9.2) wants JSON numbers.
        for key in QDictOrder.orderedKeys(of: arguments) where !["driver", "bus", "id"].contains(key) {
            guard let property = model.property(key), let member = arguments[key] else {
                throw .generic("Property '\(driver).\(key)' not found")
            }
            // int32 ids: the visitor's type error; uint32 apic-id: parseProperty's `expects uint64`.
            if strictTypes, property.type == "int32", member.int64Value == nil {
                throw .invalidParameterType(key, expected: "integer")
            }
            let value = try Self.parseProperty(member, property, model: model, strictTypes: strictTypes)
            values[key] = value.int64Value ?? -1
        }
        guard driver == X86CPUModels.machineType else {
            throw .generic("Invalid CPU type, expected cpu type: '\(X86CPUModels.machineType)'")
        }
        let topology = cpuTopology
        let apicID: UInt32
        if let given = values["apic-id"] {
            apicID = UInt32(truncatingIfNeeded: given)
        } else {
            let maxSocket = (topology.maxcpus - 1) / topology.threads / topology.cores / topology.dies
            let die = values["die-id"] ?? (topology.dies == 1 ? 0 : -1)
            func check(_ name: String, _ value: Int64?, _ limit: Int) throws(QMPError) -> Int {
                guard let value, value >= 0 else { throw .generic("CPU \(name) is not set") }
                guard value <= limit else {
                    throw .generic("Invalid CPU \(name): \(value) must be in range 0:\(limit)")
                }
                return Int(value)
            }
            let ids = CPUTopologyIDs(
                socket: try check("socket-id", values["socket-id"], maxSocket),
                die: try check("die-id", die, topology.dies - 1),
                core: try check("core-id", values["core-id"], topology.cores - 1),
                thread: try check("thread-id", values["thread-id"], topology.threads - 1)
            )
            apicID = topology.apicID(of: ids)
        }
        guard let index = cpuHotplug.slots.firstIndex(where: { $0.apicID == apicID }) else {
            let ids = topology.ids(ofAPICID: apicID)
            let module = profile.cpuTopologyHasModules ? " module: 0," : ""
            throw .generic(
                "Invalid CPU [socket: \(ids.socket), die: \(ids.die),\(module) core: \(ids.core), thread: \(ids.thread)] with APIC ID \(apicID), valid index range 0:\(topology.maxcpus - 1)"
            )
        }
        if cpuHotplug.slots[index].isPresent { throw .generic("CPU[\(index)] with APIC ID \(apicID) exists") }
        let ids = topology.ids(ofAPICID: apicID)
        for (name, actual) in [("socket-id", ids.socket), ("die-id", ids.die), ("core-id", ids.core)] {
            if let given = values[name], given != -1, given != Int64(actual) {
                throw .generic(
                    "property \(name): \(given) doesn't match set apic-id: 0x\(String(apicID, radix: 16)) (\(name): \(actual))"
                )
            }
        }
        if let given = values["thread-id"], given != -1, given != Int64(ids.thread) {
            throw .generic(
                "property thread-id: \(given) doesn't match set apic-id: 0x\(String(apicID, radix: 16)) (thread-id: \(ids.thread))"
            )
        }
        // `numa_cpu_pre_plug`: a given node-id must be the slot's (always node 0 here).
        if let node = values["node-id"], node != -1, node != 0 { throw .generic("invalid node-id, must be 0") }
        var properties: [String: JSONValue] = [:]
        for (key, value) in values { properties[key] = .int(value) }
        let device = registerBuslessDevice(model: model, id: id, properties: properties, hotplugged: hotplug)
        plugCPU(device, index: index, hotplug: hotplug)
        return device
    }

    // MARK: device_del and eject

    /// `device_del` of the CPU at `index`: QEMU refuses the boot CPU and (legacy interface) every CPU;
    /// otherwise REMOVING is set and the GPE raised, every time (CPUs have no pending-unplug guard).
    func requestCPUUnplug(_ device: Device, index: Int) throws(QMPError) {
        if index == 0 { throw .generic("Boot CPU is unpluggable") }
        guard cpuHotplug.isModern else {
            throw .generic("acpi: device unplug request for not supported device type: \(device.model.name)")
        }
        cpuHotplug.requestUnplug(index: index)
        raiseGPE(GPE0Block.cpuHotplug)
    }

    /// The guest's `_EJ0` for the CPU at `index`: unplugged at once, `DEVICE_DELETED` of its `lapic`,
    /// then of the CPU itself — except under TCG, where QEMU never finalises the CPU and only the
    /// `lapic` event comes (`acpi-hotplug.md` §5.4).
    func ejectCPU(index: Int) {
        guard let position = presentCPUs.firstIndex(where: { $0.index == index }) else { return }
        let device = presentCPUs.remove(at: position).device
        cpuHotplug.unplugged(index: index)
        if let id = device.id, peripheral[id] === device { peripheral[id] = nil }
        if let n = device.anonymousIndex, anonymous[n] === device { anonymous[n] = nil }
        builtinDevices.removeAll { $0 === device }
        for child in device.model.children { emit(.deviceDeleted(path: "\(device.path)/\(child.name)")) }
        if board.accel == .kvm { emit(.deviceDeleted(device)) }
    }

    // MARK: QMP views

    /// `query-hotpluggable-cpus`: every possible CPU, highest index first; `qom-path` on present ones.
    public func hotpluggableCPUs() -> JSONValue {
        let numa = cpusHaveNUMANode
        var paths = [String?](repeating: nil, count: cpuTopology.maxcpus)
        for cpu in presentCPUs where cpu.index < paths.count { paths[cpu.index] = cpu.device.path }
        return .array(
            (0..<cpuTopology.maxcpus).reversed().map { index in
                var cpu = JSONObject(capacity: 4)
                cpu.append("type", .string(X86CPUModels.machineType))
                cpu.append("vcpus-count", .int(1))
                cpu.append("props", .object(cpuTopology.properties(ofIndex: index, numa: numa)))
                if let path = paths[index] { cpu.append("qom-path", .string(path)) }
                return .object(cpu)
            }
        )
    }

    /// `query-cpus-fast`: the present CPUs in the order they were plugged; `thread-id` is
    /// `threadIDBase` + the CPU's thread serial (the server passes its pid: a plausible host TID).
    public func cpusFast(threadIDBase: Int64) -> JSONValue {
        let numa = cpusHaveNUMANode
        return .array(
            presentCPUs.map { cpu in
                var info = JSONObject(capacity: 5)
                info.append("cpu-index", .int(Int64(cpu.index)))
                info.append("qom-path", .string(cpu.device.path))
                info.append("thread-id", .int(threadIDBase + Int64(cpu.threadSerial)))
                info.append("props", .object(cpuTopology.properties(ofIndex: cpu.index, numa: numa)))
                info.append("target", .string("x86_64"))
                return .object(info)
            }
        )
    }
}
