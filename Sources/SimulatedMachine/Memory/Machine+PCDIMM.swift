public import QMPWire

/// `pc-dimm`: `device_add` with QEMU's checks in QEMU's order (`qdev_device_add`, `pc_dimm_pre_plug`,
/// `memory_device_pre_plug`, `pc_dimm_realize`, `acpi_memory_plug_cb`), `device_del` as an ACPI
/// unplug request, the guest's eject, and `query-memory-devices` (`acpi-hotplug.md` §6).
///
/// A DIMM is a user device on no bus (its hot-plug handler is the machine): it has a QOM path and an
/// id like any device, and its memory lives in a slot of ``ACPIMemoryHotplug``.
extension Machine {
    /// The machine's memory layout, from its `-m` options.
    public var memoryMap: MemoryMap { MemoryMap(machineType: machineType, memory: board.memory) }

    /// Creates a `pc-dimm` (`device_add` or a configuration entry), after the generic checks of
    /// `device_add` (driver, id syntax, bus) passed. Links it takes are appended to `links`, which the
    /// caller lets go again if anything fails.
    func addDIMM(
        _ arguments: JSONObject,
        id: String?,
        model: DeviceModel,
        hotplug: Bool,
        textValues: Bool,
        attaching links: inout [BackendLink]
    ) throws(QMPError) -> Device {
        if let id, peripheral[id] != nil { throw .generic("Duplicate device ID '\(id)'") }

        // Properties, in the order given (QEMU sets them before realize).
        let strict = hotplug && !textValues && !profile.deviceAddUsesQemuOpts
        var requestedSlot: Int64 = -1
        var hint: UInt64 = 0
        var node: Int64 = 0
        var backend: Int?
        for member in arguments.members where !["driver", "bus", "id"].contains(member.key) {
            if profile.deviceAddUsesQemuOpts && !member.value.isScalar { continue }
            guard let property = model.property(member.key) else {
                throw .generic("Property '\(model.name).\(member.key)' not found")
            }
            switch property.name {
            case "memdev":
                if strict && member.value.stringValue == nil {
                    throw .invalidParameterType("memdev", expected: "string")
                }
                let name = try Self.optionText(member.value, name: "memdev")
                backend = try resolveObjectLink(name, type: "memory-backend", property: "memdev")
            case "addr":
                hint = try Self.parseDIMMAddress(member.value, strict: strict)
            case "size":
                throw .generic("Property 'pc-dimm.size' is not writable")
            default:
                let value = try Self.parseProperty(member.value, property, model: model, strictTypes: strict)
                if property.name == "slot" { requestedSlot = value.int64Value ?? -1 }
                if property.name == "node" { node = value.int64Value ?? 0 }
            }
        }

        // Pre-plug: the slot, then the backend's place in device memory.
        let slot = try assignDIMMSlot(requestedSlot)
        guard let backend else { throw .generic("'memdev' property must be set") }
        let object = objects.objects[backend]
        let size = object.size("size")
        let address = try placeDIMM(size: size, alignment: Self.dimmAlignment(of: object), hint: hint)

        // Realize.
        if node >= 1 {
            throw .generic("'DIMM property node has value \(node)' which exceeds the number of numa nodes: 1")
        }
        let link = BackendLink(property: "memdev", kind: .object(type: "memory-backend"), name: object.id)
        links.append(try attachObject(link, type: "memory-backend"))

        let properties: [String: JSONValue] = [
            "slot": .int(Int64(slot)), "addr": .uint(address), "node": .int(node), "size": .uint(size),
        ]
        let device = registerBuslessDevice(model: model, id: id, properties: properties, hotplugged: hotplug)
        let dimm = PCDIMM(
            id: id,
            path: device.path,
            address: address,
            size: size,
            node: UInt32(node),
            slot: slot,
            memdev: object.path,
            isHotplugged: hotplug
        )
        memoryHotplug.plug(dimm)
        if hotplug { raiseGPE(GPE0Block.memoryHotplug) }
        return device
    }

    /// `pc_dimm_pre_plug` and `pc_dimm_get_free_slot`: the requested slot (-1: none) checked, or the
    /// first free one.
    private func assignDIMMSlot(_ requested: Int64) throws(QMPError) -> Int {
        let count = memoryHotplug.slots.count
        if requested != -1 && (requested < 0 || requested >= Int64(count)) {
            // QEMU prints `ram_slots - 1` unsigned: [0-18446744073709551615] without slots.
            let last = UInt64(bitPattern: Int64(count) - 1)
            throw .generic("invalid slot number \(requested), valid range is [0-\(last)]")
        }
        if count == 0 { throw .generic("no slots where allocated, please specify the 'slots' option") }
        if requested != -1 {
            let slot = Int(requested)
            if memoryHotplug.slots[slot].dimm != nil { throw .generic("slot \(slot) is busy") }
            return slot
        }
        guard let free = memoryHotplug.slots.firstIndex(where: { $0.dimm == nil }) else {
            throw .generic("no free slots available")
        }
        return free
    }

    /// `memory_device_pre_plug` and `memory_device_get_free_addr`: the address of a DIMM of `size`
    /// bytes, at `hint` (0: none) or first-fit from the start of device memory.
    private func placeDIMM(size: UInt64, alignment: UInt64, hint: UInt64) throws(QMPError) -> UInt64 {
        let map = memoryMap
        let hex = { (n: UInt64) in "0x" + String(n, radix: 16) }
        guard let base = map.deviceMemoryBase else {
            throw .generic("memory devices (e.g. for memory hotplug) are not supported by the machine")
        }
        let placed = memoryHotplug.dimms
        let used = placed.reduce(UInt64(0)) { $0 &+ $1.size }
        let (total, overflow) = used.addingReportingOverflow(size)
        if overflow || total > map.hotpluggableSize {
            throw .generic(
                "not enough space, currently \(hex(used)) in use of total space for memory devices \(hex(map.hotpluggableSize))"
            )
        }
        let sizeError = "backend memory size must be multiple of \(hex(alignment))"
        if profile.dimmChecksSizeBeforeAddress && size % alignment != 0 { throw .generic(sizeError) }
        if hint != 0 && hint % alignment != 0 {
            throw .generic("address must be aligned to \(hex(alignment)) bytes")
        }
        if size % alignment != 0 { throw .generic(sizeError) }
        let end = MemoryMap.saturatingSum(base, map.deviceMemoryRegionSize)  // one past the region
        var start: UInt64
        if hint != 0 {
            let (last, wraps) = hint.addingReportingOverflow(size)
            if size == 0 || wraps || hint < base || last > end {
                throw .generic(
                    "can't add memory device [\(hex(hint)):\(hex(size))], usable range for memory devices [\(hex(base)):\(hex(map.deviceMemoryRegionSize))]"
                )
            }
            start = hint
        } else {
            start = MemoryMap.alignUp(base, alignment)
            if size == 0 || start.addingReportingOverflow(size).overflow {
                throw .generic("can't add memory device, device too big")
            }
        }
        for dimm in placed {
            let (sum, wraps) = start.addingReportingOverflow(size)
            if wraps { break }  // refused below
            let upper = sum - 1
            if dimm.range.overlaps(start...upper) {
                if hint != 0 {
                    throw .generic("address range conflicts with memory device id='\(dimm.id ?? "(unnamed)")'")
                }
                start = MemoryMap.alignUp(MemoryMap.saturatingSum(dimm.range.upperBound, 1), alignment)
            } else if dimm.address > upper {
                break
            }
        }
        let (last, wraps) = start.addingReportingOverflow(size)
        if wraps || last > end {
            throw .generic(
                "could not find position in guest address space for memory device - memory fragmented due to alignments"
            )
        }
        return start
    }

    /// The alignment of a backend's memory region: 2 MiB for anonymous RAM (`QEMU_VMALLOC_ALIGN`), the
    /// `align` option or the page size (4 KiB) for a file, the huge page size or 4 KiB for a memfd.
    static func dimmAlignment(of object: UserObject) -> UInt64 {
        switch object.kind {
        case .memoryBackendFile:
            let align = object.size("align")
            return align > 0 ? align : 4096
        case .memoryBackendMemfd:
            guard object.bool("hugetlb", default: false) else { return 4096 }
            let huge = object.size("hugetlbsize")
            return huge > 0 ? huge : 2 << 20
        default:
            return 2 << 20
        }
    }

    /// The `addr` property (uint64): a number, or (QemuOpts, configuration text) its decimal or `0x` text.
    private static func parseDIMMAddress(_ value: JSONValue, strict: Bool) throws(QMPError) -> UInt64 {
        switch value {
        case .int(let n) where n >= 0: return UInt64(n)
        case .uint(let n): return n
        default:
            if strict { throw .parameterExpects("addr", "uint64") }
            let text = try optionText(value, name: "addr")
            let parsed = text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
            guard let parsed else { throw .generic("Parameter 'addr' expects integer") }
            return parsed
        }
    }

    // MARK: Unplug

    /// The slot of a DIMM device (nil for any other device).
    func dimmSlot(of device: Device) -> Int? {
        device.model.name == PCDIMM.driver ? memoryHotplug.slot(ofDIMMAt: device.path) : nil
    }

    /// `device_del` of a DIMM: REMOVING set and the memory GPE raised, every time (never refused as
    /// pending); the guest decides.
    func requestDIMMUnplug(slot: Int) {
        memoryHotplug.requestUnplug(slot: slot)
        raiseGPE(GPE0Block.memoryHotplug)
    }

    /// The guest's `_EJ0`: the DIMM is unplugged and unparented at once, one `DEVICE_DELETED` (no
    /// children); its backend is free again.
    func ejectDIMM(slot: Int) {
        guard let dimm = memoryHotplug.slots[slot].dimm else { return }
        memoryHotplug.unplug(slot: slot)
        if let device = deviceAt(path: dimm.path) { destroy(device) }
    }

    // MARK: Queries

    /// `query-memory-size-summary`: the boot RAM and what DIMMs add (both always present, as 7.2.22 and
    /// 10.0.2 answer with or without slots).
    public func memorySizeSummary() -> JSONValue {
        let plugged = memoryHotplug.dimms.reduce(UInt64(0)) { $0 &+ $1.size }
        return .object(JSONObject([("base-memory", .uint(memoryMap.ramSize)), ("plugged-memory", .uint(plugged))]))
    }

    /// `query-memory-devices`: every DIMM by address, `MemoryDeviceInfo` members in QEMU's order.
    public func queryMemoryDevices() -> JSONValue {
        .array(
            memoryHotplug.dimms.map { dimm in
                var data = JSONObject(capacity: 8)
                data.append("memdev", .string(dimm.memdev))
                data.append("hotplugged", .bool(dimm.isHotplugged))
                data.append("addr", .uint(dimm.address))
                data.append("hotpluggable", .bool(true))
                data.append("size", .uint(dimm.size))
                data.append("slot", .int(Int64(dimm.slot)))
                data.append("node", .int(Int64(dimm.node)))
                if let id = dimm.id { data.append("id", .string(id)) }
                return .object(JSONObject([("type", .string("dimm")), ("data", .object(data))]))
            }
        )
    }
}
