extension PCIeSlot {
    /// Which release's `pcie_cap_slot_reset` to reproduce for the power indicator of a populated slot.
    public enum ResetStyle: Sendable, Equatable {
        /// QEMU before 8.0: a populated slot gets PIC = on (Slot Control `0x1c0`, observed on 7.2).
        case qemu7
        /// QEMU 8.0 and later: PIC is preset to off and the later OR of "on" leaves it off, so a populated slot
        /// reads `0x3c0` (observed on 10.0).
        case qemu8
    }
}
