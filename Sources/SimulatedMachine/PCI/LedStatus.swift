/// The state of a slot indicator (power or attention LED), as the v8 hotplug series' `LedStatus` QAPI enum
/// names it; the raw values are the wire spelling used by `x-query-hotplug`.
///
/// Mirrors the LED decoding of `pcie_cap_slot_get_hotplug_state` (PCIe Slot Control PIC/AIC fields) and
/// `shpc_get_hotplug_state` (SHPC slot status LED fields) of that series. The reserved `00` encoding has no
/// case: decoders return nil for it (v8 would `abort()`).
public enum LedStatus: String, Sendable, CaseIterable {
    /// The indicator is lit (PCIe encoding `01`).
    case on
    /// The indicator blinks (PCIe encoding `10`).
    case blinking
    /// The indicator is dark (PCIe encoding `11`).
    case off
}
