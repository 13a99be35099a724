/// The slot state machine of Linux's hotplug drivers (pciehp `OFF_STATE`, `BLINKINGON_STATE`, ...; shpchp
/// `STATIC_STATE` and the same transient states), plus the window of ``GuestPersona/cancelOnSecondPress``.
enum HotplugSlotState: Equatable {
    /// Nothing under way; the slot is off (pciehp `OFF_STATE`; shpchp `STATIC_STATE`, slot disabled).
    case off
    /// Button pressed on an off slot: power indicator blinking, the abort window running.
    case blinkingOn
    /// Powering on: waiting for the link (pciehp) or the enable settle time (shpchp).
    case poweringOn
    /// Nothing under way; the slot is on (pciehp `ON_STATE`; shpchp `STATIC_STATE`, slot powered).
    case on
    /// Button pressed on an on slot: power indicator blinking, the abort window running.
    case blinkingOff
    /// ``GuestPersona/cancelOnSecondPress``: removal requested, attention indicator blinking, waiting for a
    /// second press.
    case confirmingOff
    /// Powering off: waiting for the power-off settle time (pciehp) or issuing the disable command (shpchp).
    case poweringOff

    /// The name reported by ``GuestOS/state(controller:slot:)``.
    var name: String {
        switch self {
        case .off: "off"
        case .blinkingOn: "blinking-on"
        case .poweringOn: "powering-on"
        case .on: "on"
        case .blinkingOff: "blinking-off"
        case .confirmingOff: "confirming-off"
        case .poweringOff: "powering-off"
        }
    }

    /// In the abort window of a button press.
    var isWaitingForWindow: Bool { self == .blinkingOn || self == .blinkingOff || self == .confirmingOff }
}
