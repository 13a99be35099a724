extension PCIeSlot {
    /// What a guest write to Slot Control asks of the machine beyond the registers
    /// (`pcie_cap_slot_write_config`).
    public struct SlotControlOutcome: Sendable, Equatable {
        /// The v8 X_DEVICE_ON condition held: PDS set, the written value is "powered on"
        /// (`pcie_sltctl_powered_on`) and the previous Slot Control was not. The caller emits X_DEVICE_ON for
        /// the function-0 device if it has not done so for that device yet.
        public var turnedOn: Bool
        /// The detach rule fired: PDS was set, the written value is "powered off" (`pcie_sltctl_powered_off`)
        /// and the previous Slot Control was not. PDS and DLLLA are now clear and PDC set; the caller unplugs
        /// every device on the port's secondary bus (`pcie_cap_slot_do_unplug`).
        public var detach: Bool

        /// Makes an outcome.
        /// - Parameters:
        ///   - turnedOn: see ``turnedOn``.
        ///   - detach: see ``detach``.
        public init(turnedOn: Bool, detach: Bool) {
            self.turnedOn = turnedOn
            self.detach = detach
        }
    }
}
