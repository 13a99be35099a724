public import SimulatedMachine

/// A register state a ``GuestPersona/script(_:)`` guest waits for (``GuestScriptStep/waitFor(_:)``), read
/// from the controller exactly as a driver polling its slot would: PCIe Slot Status / Slot Control, or the SHPC
/// slot's status word and event latch.
///
/// Lets a test script a guest that acts only once something happened, e.g. "power the slot on only when a
/// card is present" or "power off only after the attention button was pressed" (guests that defer an action
/// until a condition or a second request, P8 in `users.md`).
public enum GuestCondition: Sendable, Equatable {
    /// A card is present (PCIe Presence Detect State; SHPC PRSNT not "empty").
    case presence
    /// No card is present.
    case absence
    /// The attention button was pressed and the event is still latched (PCIe ABP; SHPC latch bit 0x04).
    case attentionButton
    /// A presence change is latched (PCIe PDC; SHPC latch bit 0x01).
    case presenceChanged
    /// The slot is powered (PCIe Power Controller Control on; SHPC slot state power-only or enabled).
    case powerOn
    /// The slot is not powered (PCIe PCC off; SHPC slot state disabled).
    case powerOff
    /// The v8 "slot is on" predicate holds (PCIe: power on, power indicator on, attention indicator off;
    /// SHPC: enabled, power LED on, attention LED off).
    case slotOn
    /// The "slot is off" predicate holds (PCIe: power off and power indicator off; SHPC: disabled and power
    /// LED off).
    case slotOff
    /// The power indicator shows this state.
    case powerLED(LedStatus)
    /// The attention indicator shows this state.
    case attentionLED(LedStatus)

    /// Every spelling ``init(name:)`` accepts, for error messages.
    public static let names: [String] =
        ["presence", "absence", "attention-button", "presence-changed", "power-on", "power-off", "slot-on", "slot-off"]
        + LedStatus.allCases.map { "power-led-\($0.rawValue)" }
        + LedStatus.allCases.map { "attention-led-\($0.rawValue)" }

    /// The configuration spelling: `presence`, `attention-button`, `power-led-blinking`, ...
    public var name: String {
        switch self {
        case .presence: "presence"
        case .absence: "absence"
        case .attentionButton: "attention-button"
        case .presenceChanged: "presence-changed"
        case .powerOn: "power-on"
        case .powerOff: "power-off"
        case .slotOn: "slot-on"
        case .slotOff: "slot-off"
        case .powerLED(let led): "power-led-\(led.rawValue)"
        case .attentionLED(let led): "attention-led-\(led.rawValue)"
        }
    }

    /// The condition a configuration spelling names, or nil.
    public init?(name: String) {
        switch name {
        case "presence": self = .presence
        case "absence": self = .absence
        case "attention-button": self = .attentionButton
        case "presence-changed": self = .presenceChanged
        case "power-on": self = .powerOn
        case "power-off": self = .powerOff
        case "slot-on": self = .slotOn
        case "slot-off": self = .slotOff
        default:
            if name.hasPrefix("power-led-"), let led = LedStatus(rawValue: String(name.dropFirst("power-led-".count))) {
                self = .powerLED(led)
            } else if name.hasPrefix("attention-led-"),
                let led = LedStatus(rawValue: String(name.dropFirst("attention-led-".count)))
            {
                self = .attentionLED(led)
            } else {
                return nil
            }
        }
    }

    /// Whether the condition holds for a PCIe port's slot registers.
    public func holds(in slot: PCIeSlot) -> Bool {
        switch self {
        case .presence: slot.isPresent
        case .absence: !slot.isPresent
        case .attentionButton: slot.slotStatus & PCIeSlot.SlotStatus.attentionButtonPressed != 0
        case .presenceChanged: slot.slotStatus & PCIeSlot.SlotStatus.presenceDetectChanged != 0
        case .powerOn: slot.powerOn
        case .powerOff: !slot.powerOn
        case .slotOn: slot.isOn
        case .slotOff: slot.isPoweredOff
        case .powerLED(let led): slot.powerLED == led
        case .attentionLED(let led): slot.attentionLED == led
        }
    }

    /// Whether the condition holds for one slot (1...31) of an SHPC register file.
    public func holds(in shpc: SHPCController, slot: Int) -> Bool {
        let latch = shpc.eventLatch(slot) ?? 0
        switch self {
        case .presence: return SHPCRegisterMap.isPresent(shpc, slot: slot)
        case .absence: return !SHPCRegisterMap.isPresent(shpc, slot: slot)
        case .attentionButton: return latch & SHPCRegisterMap.buttonEvent != 0
        case .presenceChanged: return latch & SHPCRegisterMap.presenceEvent != 0
        case .powerOn: return shpc.slotState(slot).map { $0 != .disabled } ?? false
        case .powerOff: return shpc.slotState(slot) == .disabled
        case .slotOn:
            return shpc.slotState(slot) == .enabled && shpc.powerLED(slot) == .on && shpc.attentionLED(slot) == .off
        case .slotOff: return shpc.slotState(slot) == .disabled && shpc.powerLED(slot) == .off
        case .powerLED(let led): return shpc.powerLED(slot) == led
        case .attentionLED(let led): return shpc.attentionLED(slot) == led
        }
    }
}
