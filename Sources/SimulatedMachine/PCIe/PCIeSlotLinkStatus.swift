extension PCIeSlot {
    /// Fields and the two observed values of the port's Link Status register (PCI Express capability + 0x12,
    /// 16 bits).
    public enum LinkStatus {
        /// CLS, Current Link Speed field (`PCI_EXP_LNKSTA_CLS`, bits 0-3).
        public static let currentLinkSpeedMask: UInt16 = 0x000f
        /// NLW, Negotiated Link Width field (`PCI_EXP_LNKSTA_NLW`, bits 4-9).
        public static let negotiatedLinkWidthMask: UInt16 = 0x03f0
        /// DLLLA, Data Link Layer Link Active (`PCI_EXP_LNKSTA_DLLLA`): set while the slot is populated.
        public static let dataLinkLayerLinkActive: UInt16 = 0x2000
        /// Link down (empty slot): QEMU mirrors the port's own Link Capabilities (`pcie_sync_bridge_lnk` with no
        /// target): 16 GT/s, x32, the pcie-root-port `x-speed`/`x-width` defaults. Observed `0x204` on QEMU 7.2.
        public static let linkDown: UInt16 = 0x0204
        /// Link up (populated slot): the endpoint's 2.5 GT/s x1 link plus DLLLA. Observed `0x2011` on QEMU 7.2.
        public static let linkUp: UInt16 = 0x2011
    }
}
