import QMPWire
import SimulatedMachine

/// Renders the machine for the control plane: raw and decoded registers, and `machine-state`.
enum MachineStateView {
    static func ledText(_ led: LedStatus?) -> JSONValue { led.map { .string($0.rawValue) } ?? .string("reserved") }

    /// A PCIe port's slot registers, raw and decoded.
    static func pcieRegisters(_ slot: PCIeSlot) -> JSONObject {
        var decoded = JSONObject()
        decoded.append("present", .bool(slot.isPresent))
        decoded.append("power-on", .bool(slot.powerOn))
        decoded.append("power-led", ledText(slot.powerLED))
        decoded.append("attention-led", ledText(slot.attentionLED))
        decoded.append("interlock", .bool(slot.isInterlockEngaged))
        decoded.append("hotplug-capable", .bool(slot.isHotplugCapable))
        decoded.append(
            "attention-button-pressed",
            .bool(slot.slotStatus & PCIeSlot.SlotStatus.attentionButtonPressed != 0)
        )
        decoded.append("presence-changed", .bool(slot.slotStatus & PCIeSlot.SlotStatus.presenceDetectChanged != 0))
        decoded.append("command-completed", .bool(slot.slotStatus & PCIeSlot.SlotStatus.commandCompleted != 0))
        decoded.append("link-active", .bool(slot.linkStatus & PCIeSlot.LinkStatus.dataLinkLayerLinkActive != 0))
        decoded.append("interrupt", .bool(slot.interruptAsserted))
        var info = JSONObject()
        info.append("type", "pcie-native")
        info.append("slot-capabilities", .int(Int64(slot.slotCapabilities)))
        info.append("slot-control", .int(Int64(slot.slotControl)))
        info.append("slot-status", .int(Int64(slot.slotStatus)))
        info.append("link-status", .int(Int64(slot.linkStatus)))
        info.append("notifications", .int(Int64(slot.notificationCount)))
        info.append("decoded", .object(decoded))
        return info
    }

    /// One SHPC slot, raw and decoded.
    static func shpcSlot(_ shpc: SHPCController, slot: Int) -> JSONObject {
        var info = JSONObject()
        info.append("slot", .int(Int64(slot)))
        info.append("slot-status", .int(Int64(shpc.slotStatus(slot) ?? 0)))
        info.append("event-latch", .int(Int64(shpc.eventLatch(slot) ?? 0)))
        info.append("event-mask", .int(Int64(shpc.eventMask(slot) ?? 0)))
        info.append("slot-state", shpc.slotState(slot).map { .string($0.rawValue) } ?? .string("reserved"))
        info.append("power-led", ledText(shpc.powerLED(slot)))
        info.append("attention-led", ledText(shpc.attentionLED(slot)))
        info.append("mrl-open", .bool(shpc.isMRLOpen(slot)))
        return info
    }

    /// A bridge's SHPC registers and its slots.
    static func shpcRegisters(_ shpc: SHPCController) -> JSONObject {
        var info = JSONObject()
        info.append("type", "shpc")
        info.append("command-status", .int(Int64(shpc.commandStatus)))
        info.append("interrupt-locator", .int(Int64(shpc.interruptLocator)))
        info.append("serr-int-enable", .int(Int64(shpc.serrIntEnable)))
        info.append("notifications", .int(Int64(shpc.notificationCount)))
        info.append("slots", .array(SHPCController.validSlots.map { .object(shpcSlot(shpc, slot: $0)) }))
        return info
    }

    /// `machine-state`: the VM name (when it has one), run state, time, devices with their hotplug status, and every slot.
    static func render(_ core: ServerCore) -> JSONValue {
        let machine = core.machine
        var devices: [JSONValue] = []
        var slots: [JSONValue] = []
        for device in machine.allDevices where device.path.hasPrefix("/machine/peripheral") {
            var d = JSONObject()
            if let id = device.id { d.append("id", .string(id)) }
            d.append("path", .string(device.path))
            d.append("driver", .string(device.model.name))
            d.append("bus", .string(device.parentBus?.name ?? ""))
            d.append("addr", .string(PCIAddress.text(device.devfn)))
            d.append("hotplugged", .bool(device.isHotplugged))
            d.append("device-on", .bool(device.deviceOnSent))
            if let deadline = device.pendingUnplugDeadline, deadline > machine.clock.now, deadline != Int64.max {
                d.append("pending-unplug-ns", .int(deadline - machine.clock.now))
            }
            devices.append(.object(d))
        }
        for controller in machine.controllers {
            let name = controller.name
            if let slot = controller.pcieSlot {
                var s = JSONObject()
                s.append("controller", .string(name))
                s.append("type", "pcie-native")
                // The slot's registers exist, but hot-plug on its bus goes through ACPI (the `acpi` section).
                if let bus = controller.secondaryBus, machine.acpiServes(bus) { s.append("hotplug", "acpi") }
                if let child = controller.secondaryBus?.devices.first {
                    s.append("device", .string(child.name))
                }
                s.append("present", .bool(slot.isPresent))
                s.append("power-on", .bool(slot.powerOn))
                s.append("power-led", ledText(slot.powerLED))
                s.append("attention-led", ledText(slot.attentionLED))
                if let persona = core.personaName?(name, nil) { s.append("persona", .string(persona)) }
                slots.append(.object(s))
            } else if let shpc = controller.shpc, let bus = controller.secondaryBus {
                for n in SHPCController.validSlots {
                    let device = bus.device(slot: n, function: 0)
                    guard device != nil || !shpc.isMRLOpen(n) else { continue }
                    var s = JSONObject()
                    s.append("controller", .string(name))
                    s.append("type", "shpc")
                    s.append("slot", .int(Int64(n)))
                    if let device { s.append("device", .string(device.name)) }
                    s.append("slot-state", shpc.slotState(n).map { .string($0.rawValue) } ?? .string("reserved"))
                    s.append("power-led", ledText(shpc.powerLED(n)))
                    s.append("attention-led", ledText(shpc.attentionLED(n)))
                    if let persona = core.personaName?(name, n) { s.append("persona", .string(persona)) }
                    slots.append(.object(s))
                }
            }
        }
        devices += dimmDevices(machine)
        slots += dimmSlots(machine)
        var state = JSONObject()
        if let name = machine.name { state.append("name", .string(name)) }
        state.append("run-state", .string(machine.runState.rawValue))
        state.append("now-ns", .int(machine.clock.now))
        state.append("clock", .string(core.clockMode.name))
        state.append("devices", .array(devices))
        state.append("slots", .array(slots))
        state.append("acpi", .object(acpi(core)))
        appendCPUs(of: machine, to: &state)
        return .object(state)
    }
}
