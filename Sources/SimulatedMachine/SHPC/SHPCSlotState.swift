/// The slot state field (bits 1:0) of an SHPC slot status word, as the v8 hotplug series'
/// `HotplugSHPCSlotState` QAPI enum names it; the raw values are the wire spelling of `x-query-hotplug`.
///
/// Mirrors `shpc_slot_state_to_qapi` of that series. The encoding `00` ("no change" in commands) has no case:
/// decoders return nil for it (v8 would `abort()`).
public enum SHPCSlotState: String, Sendable, CaseIterable {
    /// Powered, but neither clock nor bus connected (encoding `01`, `SHPC_STATE_PWRONLY`).
    case powerOnly = "power-only"
    /// Powered, clock and bus connected: the card is fully functional (encoding `10`, `SHPC_STATE_ENABLED`).
    case enabled
    /// The card is safe to remove (encoding `11`, `SHPC_STATE_DISABLED`).
    case disabled
}
