extension PCIeSlot {
    /// Bits of the Slot Status register (PCI Express capability + 0x1a, 16 bits) (Linux `pci_regs.h` names in
    /// the comments).
    public enum SlotStatus {
        /// ABP, Attention Button Pressed (`PCI_EXP_SLTSTA_ABP`): RW1C event.
        public static let attentionButtonPressed: UInt16 = 0x0001
        /// PFD, Power Fault Detected (`PCI_EXP_SLTSTA_PFD`): never set by QEMU.
        public static let powerFaultDetected: UInt16 = 0x0002
        /// MRLSC, MRL Sensor Changed (`PCI_EXP_SLTSTA_MRLSC`): never set by QEMU.
        public static let mrlSensorChanged: UInt16 = 0x0004
        /// PDC, Presence Detect Changed (`PCI_EXP_SLTSTA_PDC`): RW1C event.
        public static let presenceDetectChanged: UInt16 = 0x0008
        /// CC, Command Completed (`PCI_EXP_SLTSTA_CC`): RW1C event, raised after every Slot Control write.
        public static let commandCompleted: UInt16 = 0x0010
        /// MRLSS, MRL Sensor State (`PCI_EXP_SLTSTA_MRLSS`): never set by QEMU.
        public static let mrlSensorState: UInt16 = 0x0020
        /// PDS, Presence Detect State (`PCI_EXP_SLTSTA_PDS`): read-only, set while the slot is populated.
        public static let presenceDetectState: UInt16 = 0x0040
        /// EIS, Electromechanical Interlock Status (`PCI_EXP_SLTSTA_EIS`): read-only, toggled by Slot Control
        /// EIC, cleared by reset.
        public static let electromechanicalInterlockStatus: UInt16 = 0x0080
        /// DLLSC, Data Link Layer State Changed (`PCI_EXP_SLTSTA_DLLSC`): never set by QEMU.
        public static let dataLinkLayerStateChanged: UInt16 = 0x0100

        /// The events QEMU emulates and may interrupt for (`PCI_EXP_HP_EV_SUPPORTED`: ABP, PDC, CC); also the
        /// register's write-1-to-clear mask (`w1cmask`).
        public static let supportedEvents: UInt16 = 0x0019
        /// The event bits QEMU's restore quirk looks at (`PCIE_SLOT_EVENTS` in `pcie_cap_slot_write_config`:
        /// ABP, PFD, MRLSC, PDC, CC).
        public static let slotEvents: UInt16 = 0x001f
    }
}
