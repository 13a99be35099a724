public import QMPWire

/// One hot-plug slot as `watch` shows it: a PCIe port's slot, or one slot of an SHPC bridge, with
/// the device in it, power, both indicators, presence, the pending-unplug countdown and the guest
/// persona. Built from one entry of `machine-state`'s `slots` and the matching `devices` entry.
public struct SlotView: Sendable, Equatable {
    /// The hot-plug controller: the PCIe port or SHPC bridge id (or QOM path).
    public var controller: String
    /// The SHPC slot number; nil for a PCIe port (one slot).
    public var slot: Int?
    /// The device in the slot (its id, or its QOM path when it has none); nil when empty.
    public var device: String?
    /// Presence detect (PCIe); for SHPC, whether a device sits in the slot.
    public var present: Bool
    /// `on`/`off` (PCIe power controller), or the SHPC slot state (`enabled`, `disabled`, `power-only`).
    public var power: String
    public var powerLED: LedState
    public var attentionLED: LedState
    /// Virtual nanoseconds left of a pending unplug's guard (QEMU's 5 s after a PCIe `device_del`).
    public var pendingNanoseconds: Int64?
    /// The guest persona driving the slot, when the daemon runs a simulated guest.
    public var persona: String?

    public init(
        controller: String,
        slot: Int? = nil,
        device: String? = nil,
        present: Bool,
        power: String,
        powerLED: LedState,
        attentionLED: LedState,
        pendingNanoseconds: Int64? = nil,
        persona: String? = nil
    ) {
        self.controller = controller
        self.slot = slot
        self.device = device
        self.present = present
        self.power = power
        self.powerLED = powerLED
        self.attentionLED = attentionLED
        self.pendingNanoseconds = pendingNanoseconds
        self.persona = persona
    }

    /// `pci.1`, or `pci.7 slot 3` for an SHPC slot: how lines and rows name the slot.
    public var name: String { slot.map { "\(controller) slot \($0)" } ?? controller }

    /// Whether it is an SHPC slot (its power column holds a slot state).
    public var isSHPC: Bool { slot != nil }

    /// Reads one `machine-state` slot; `devices` supplies the pending-unplug time of its device.
    /// Nil when the entry has no controller.
    public init?(slot entry: JSONObject, devices: [JSONObject]) {
        guard let controller = entry["controller"]?.stringValue else { return nil }
        let number = entry["slot"]?.int64Value.map { Int($0) }
        let device = entry["device"]?.stringValue
        let power: String
        if number != nil {
            power = entry["slot-state"]?.stringValue ?? "reserved"
        } else {
            power = entry["power-on"]?.boolValue == true ? "on" : "off"
        }
        let record = device.flatMap { name in
            devices.first { $0["id"]?.stringValue == name || $0["path"]?.stringValue == name }
        }
        self.init(
            controller: controller,
            slot: number,
            device: device,
            present: entry["present"]?.boolValue ?? (device != nil),
            power: power,
            powerLED: LedState(text: entry["power-led"]?.stringValue),
            attentionLED: LedState(text: entry["attention-led"]?.stringValue),
            pendingNanoseconds: record?["pending-unplug-ns"]?.int64Value,
            persona: entry["persona"]?.stringValue
        )
    }
}
