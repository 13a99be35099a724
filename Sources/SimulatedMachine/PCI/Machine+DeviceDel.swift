public import QMPWire

extension Machine {
    /// How long a PCIe unplug request stays pending (`pending_deleted_expires_ms`): 5 s of virtual time.
    public static let pendingUnplugNanoseconds: Int64 = 5_000_000_000

    /// Resolves a `device_del`/`x-query-hotplug` argument as QEMU's `find_device_state` does: an id,
    /// or a QOM path (absolute, or relative to `/machine/peripheral`).
    func findDevice(_ text: String) throws(QMPError) -> Device {
        let isPath = text.utf8.first == UInt8(ascii: "/")
        // An id is `/machine/peripheral/ID`: look it up without building the path (the usual case).
        if !isPath, !text.isEmpty, let device = peripheral[text] { return device }
        let path = isPath ? text : (text.isEmpty ? "/machine/peripheral" : "/machine/peripheral/\(text)")
        if let device = deviceAt(path: path) { return device }
        if qomObjectExists(path) { throw .generic("\(text) \(profile.notADeviceSuffix)") }
        throw QMPError(.deviceNotFound, "Device '\(text)' not found")
    }

    /// The device whose canonical path is `path`.
    func deviceAt(path: String) -> Device? {
        // The prefixes are ASCII: dropping their UTF-8 bytes is dropping their characters.
        let peripheralPrefix = "/machine/peripheral/"
        if path.hasPrefix(peripheralPrefix) {
            return peripheral[String(Substring(path.utf8.dropFirst(peripheralPrefix.utf8.count)))]
        }
        let anonymousPrefix = "/machine/peripheral-anon/device["
        if path.hasPrefix(anonymousPrefix), path.hasSuffix("]") {
            let number = Substring(path.utf8.dropFirst(anonymousPrefix.utf8.count).dropLast())
            return Int(number).flatMap { anonymous[$0] }
        }
        return builtinDevices.first { $0.path == path }
    }

    /// `device_del`: QEMU's checks, then the unplug request to the bus's hotplug controller. A slot
    /// that is powered off (PCIe) or disabled with its LED off (SHPC) is emptied at once; its
    /// `DEVICE_DELETED` events follow the reply (``flushDeferredEvents()``). Otherwise the attention
    /// button is pressed and the guest decides.
    public func deviceDel(_ id: String) throws(QMPError) {
        let device = try findDevice(id)
        if let index = cpuIndex(of: device) { return try requestCPUUnplug(device, index: index) }
        if let slot = dimmSlot(of: device) { return requestDIMMUnplug(slot: slot) }
        if let deadline = device.pendingUnplugDeadline, deadline > clock.now {
            throw .generic("Device \(id) is already in the process of unplug")
        }
        guard let bus = device.parentBus, isHotpluggable(bus) else {
            throw .generic("Bus '\(device.parentBus?.name ?? rootBus.name)' does not support hotplugging")
        }
        guard device.model.isHotpluggable else {
            throw .generic("Device '\(device.model.name)' does not support hotplugging")
        }
        // ACPI hot-plug: the guest is notified and QEMU waits for its eject.
        if acpiServes(bus) { return try acpiPCIUnplugRequest(device, on: bus) }
        guard let controller = bus.owner else { return }
        // A SCSI or virtio-serial bus unplugs at once, without the guest; the events follow the reply.
        if !bus.kind.isPCI {
            deferringEvents { destroy(device) }
            return
        }

        if var slot = controller.pcieSlot {
            if !slot.isHotplugCapable {
                throw .generic("Hot-unplug failed: unsupported by the port device '\(controller.idForErrors)'")
            }
            if slot.isInterlockEngaged { throw .generic("slot is electromechanically locked: Device or resource busy") }
            if slot.isPowerIndicatorBlinking {
                throw .generic("Hot-unplug failed: guest is busy (power indicator blinking)")
            }
            device.pendingUnplugDeadline = clock.now + Self.pendingUnplugNanoseconds
            if device.devfn != 0 && bus.devices[0] == nil {
                // A function the guest never saw (no function 0): removed without the guest.
                deferringEvents { destroy(device) }
                return
            }
            if slot.isPoweredOff {
                deferringEvents { for d in Array(bus.devices) { destroy(d) } }
                slot.detachNow()
            } else {
                slot.pressAttentionButton()
            }
            controller.pcieSlot = slot
        } else if var shpc = controller.shpc {
            guard SHPCController.isValidSlot(device.slot) else {
                throw .generic(
                    "Unsupported PCI slot \(device.slot) for standard hotplug controller. Valid slots are between 1 and 31."
                )
            }
            switch shpc.unplugRequest(slot: device.slot) {
            case .busy:
                throw .generic("Hot-unplug failed: guest is busy (power indicator blinking)")
            case .freeNow:
                deferringEvents { freeSHPCSlot(device.slot, on: bus) }
                shpc.slotFreed(slot: device.slot)
            case .buttonPressed:
                break
            }
            controller.shpc = shpc
        }
    }

    /// Frees every function of an SHPC slot, in ascending order (`shpc_free_devices_in_slot`).
    func freeSHPCSlot(_ slot: Int, on bus: PCIBus) {
        for function in 0..<8 {
            if let device = bus.device(slot: slot, function: function) { destroy(device) }
        }
    }

    /// Unrealizes and removes a device: the devices on its secondary bus first (newest first, as QOM
    /// destroys a bus's children), then its own QOM children (`virtio-backend`), then itself; each
    /// with its `DEVICE_DELETED`.
    func destroy(_ device: Device) {
        if let bus = device.secondaryBus {
            for child in bus.children.reversed() { destroy(child) }
            busesByName[bus.name] = nil
            bus.owner = nil
        }
        if let bus = device.childBus {
            for child in bus.children.reversed() { destroy(child) }
            busesByName[bus.name] = nil
            bus.owner = nil
        }
        for child in device.model.children { emit(.deviceDeleted(path: "\(device.path)/\(child.name)")) }
        // Backends are free again when DEVICE_DELETED is sent (blockdev-del then succeeds, as on QEMU).
        releaseBackends(of: device)
        device.parentBus?.remove(device)
        topologyChanged(by: device)
        if let id = device.id, peripheral[id] === device { peripheral[id] = nil }
        if let index = device.anonymousIndex, anonymous[index] === device { anonymous[index] = nil }
        emit(.deviceDeleted(device))
    }
}
