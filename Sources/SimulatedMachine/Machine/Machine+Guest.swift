public import QMPWire

/// The guest's register interface: what a simulated OS driver (or a test) reads and writes, like a
/// real driver does through config space and the SHPC BAR. Every event comes out of the register
/// semantics: `X_DEVICE_ON` on the not-on to on transition, `DEVICE_DELETED` when a slot is turned off.
extension Machine {
    /// The PCIe port (root or downstream) named by id or QOM path.
    public func pciePort(_ name: String) throws(QMPError) -> Device {
        let device = try findDevice(name)
        guard device.pcieSlot != nil else { throw .generic("'\(name)' is not a PCIe port with a hotplug slot") }
        return device
    }

    /// The bridge with a standard hotplug controller named by id or QOM path.
    public func shpcBridge(_ name: String) throws(QMPError) -> Device {
        let device = try findDevice(name)
        guard device.shpc != nil else { throw .generic("'\(name)' is not a bridge with a standard hotplug controller") }
        return device
    }

    /// The slot registers of a PCIe port.
    public func slotRegisters(port name: String) throws(QMPError) -> PCIeSlot {
        guard let slot = try pciePort(name).pcieSlot else { throw .generic("'\(name)' has no slot") }
        return slot
    }

    /// A guest write to a port's Slot Control register (`pcie_cap_slot_write_config`).
    public func writeSlotControl(port name: String, value: UInt16) throws(QMPError) {
        writeSlotControl(try pciePort(name), value: value)
    }

    /// A guest write to the Slot Control register of a port the caller already holds (the guest's
    /// driver); nothing happens for a device without slot registers or secondary bus.
    public func writeSlotControl(_ port: Device, value: UInt16) {
        guard var slot = port.pcieSlot, let bus = port.secondaryBus else { return }
        let child = bus.devices.first
        let old = slot.slotControl
        let outcome = slot.writeSlotControl(value)
        port.pcieSlot = slot
        reportGuestWrite(port, "slot-control", written: value, old: old, new: slot.slotControl)
        if outcome.turnedOn, let child { deviceTurnedOn(child) }
        if outcome.detach {
            for device in Array(bus.devices) { destroy(device) }
        }
    }

    /// A guest write to a port's Slot Status register (RW1C events).
    public func writeSlotStatus(port name: String, value: UInt16) throws(QMPError) {
        writeSlotStatus(try pciePort(name), value: value)
    }

    /// A guest write to the Slot Status register of a port the caller already holds.
    public func writeSlotStatus(_ port: Device, value: UInt16) {
        guard var slot = port.pcieSlot else { return }
        let old = slot.slotStatus
        slot.writeSlotStatus(value)
        port.pcieSlot = slot
        reportGuestWrite(port, "slot-status", written: value, old: old, new: slot.slotStatus)
    }

    /// Reports a 16-bit PCIe slot register write to the observer.
    private func reportGuestWrite(_ port: Device, _ register: String, written: UInt16, old: UInt16, new: UInt16) {
        reportGuestWrite(
            GuestRegisterWrite(
                controller: port.name,
                register: register,
                written: UInt32(written),
                old: UInt32(old),
                new: UInt32(new)
            )
        )
    }

    /// The SHPC register file of a bridge.
    public func shpcRegisters(bridge name: String) throws(QMPError) -> SHPCController {
        guard let shpc = try shpcBridge(name).shpc else { throw .generic("'\(name)' has no SHPC") }
        return shpc
    }

    /// A guest read of the SHPC register file.
    public func shpcRead(bridge name: String, offset: Int, size: Int) throws(QMPError) -> UInt32 {
        try shpcRegisters(bridge: name).read(offset: offset, size: size)
    }

    /// A guest write to the SHPC register file; writing the command register executes a command.
    public func shpcWrite(bridge name: String, offset: Int, size: Int, value: UInt32) throws(QMPError) {
        let bridge = try shpcBridge(name)
        try shpcAct(bridge, register: "shpc-register", target: offset, written: value) {
            $0.write(offset: offset, size: size, value: value)
        }
    }

    /// A guest SHPC command (code written to 0x14 with the target at 0x15).
    public func shpcCommand(bridge name: String, code: UInt8, target: UInt8) throws(QMPError) {
        let bridge = try shpcBridge(name)
        try shpcAct(bridge, register: "shpc-command", target: Int(target), written: UInt32(code)) {
            $0.executeCommand(code: code, target: target)
        }
    }

    private func shpcAct(
        _ bridge: Device,
        register: String,
        target: Int,
        written: UInt32,
        _ body: (inout SHPCController) -> SHPCController.SHPCCommandOutcome?
    ) throws(QMPError) {
        guard var shpc = bridge.shpc, let bus = bridge.secondaryBus else { return }
        // For a command, old/new are the target slot's status word; for a register write, the register.
        let slotTarget = register == "shpc-command" ? target : nil
        func observed(_ c: SHPCController) -> UInt32 {
            if let slot = slotTarget { return UInt32(c.slotStatus(slot) ?? 0) }
            return c.read(offset: target & ~3, size: 4)
        }
        let old = observed(shpc)
        defer {
            if let now = bridge.shpc {
                reportGuestWrite(
                    GuestRegisterWrite(
                        controller: bridge.name,
                        register: register,
                        target: target,
                        written: written,
                        old: old,
                        new: observed(now)
                    )
                )
            }
        }
        // Function 0 of each slot, looked up before the command (v8's X_DEVICE_ON target).
        var functionZero: [Int: Device] = [:]
        for device in bus.children where device.function == 0 { functionZero[device.slot] = device }
        let outcome = body(&shpc)
        bridge.shpc = shpc
        guard let outcome else { return }
        for slot in outcome.slotsToFree { freeSHPCSlot(slot, on: bus) }
        for slot in outcome.slotsTurnedOn {
            if let device = functionZero[slot], device.parentBus === bus { deviceTurnedOn(device) }
        }
    }

    /// `X_DEVICE_ON`, at most once per device lifetime.
    func deviceTurnedOn(_ device: Device) {
        guard !device.deviceOnSent else { return }
        device.deviceOnSent = true
        emit(MachineEvent(.deviceOn, data: device.deviceAndPath))
    }

    // MARK: Reset

    /// Brings every slot register to its reset value (`pcie_cap_slot_reset`, `shpc_reset`). Pending
    /// unplug requests stay pending (observed on 7.2 and 10.0 in native mode).
    public func resetDevices() {
        for device in allDevices {
            guard let bus = device.secondaryBus else { continue }
            if var slot = device.pcieSlot {
                slot.reset(functionZeroPresent: bus.devices[0] != nil, style: profile.pcieResetStyle)
                device.pcieSlot = slot
            }
            if var shpc = device.shpc {
                shpc.reset(populatedSlots: Set(bus.children.filter { $0.function == 0 }.map(\.slot)))
                device.shpc = shpc
            }
        }
    }

    /// `system_reset`: `RESET`, the device reset, and a VM that is not running back in `prelaunch`.
    public func systemReset() {
        completeACPIPCIRemovals()
        resetDevices()
        resetACPI()
        var data = JSONObject()
        data.append("guest", .bool(false))
        data.append("reason", .string("host-qmp-system-reset"))
        emit(MachineEvent(.reset, data: data))
        // QEMU's main loop after a reset: a VM that is not running (nor migrating) is in prelaunch
        // again, so `cont` starts it as if for the first time (seen on 7.2.22 and 10.0.2).
        if runState != .running && runState != .inmigrate && runState != .finishMigrate {
            runState = .prelaunch
        }
    }
}

extension Machine {
    /// A hotplug controller (PCIe port or SHPC bridge) named by id or QOM path.
    public func findController(_ name: String) throws(QMPError) -> Device {
        let device = try findDevice(name)
        guard device.pcieSlot != nil || device.shpc != nil else {
            throw .generic("'\(name)' is not a hotplug controller")
        }
        return device
    }

    /// Every hotplug controller, in topology order. Cached until ``controllerGeneration`` changes
    /// (the guest asks on every hot-plug interrupt).
    public var controllers: [Device] {
        if let cache = controllerCache, cache.generation == controllerGeneration { return cache.devices }
        let devices = allDevices.filter { $0.pcieSlot != nil || $0.shpc != nil }
        controllerCache = (controllerGeneration, devices)
        return devices
    }
}
