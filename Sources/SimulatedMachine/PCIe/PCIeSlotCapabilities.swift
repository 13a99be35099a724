extension PCIeSlot {
    /// Bits of the read-only Slot Capabilities register (PCI Express capability + 0x14, 32 bits), as
    /// `pcie_cap_slot_init` fills them (Linux `pci_regs.h` names in the comments).
    public enum SlotCapabilities {
        /// ABP, Attention Button Present (`PCI_EXP_SLTCAP_ABP`): always set by QEMU.
        public static let attentionButtonPresent: UInt32 = 0x0000_0001
        /// PCP, Power Controller Present (`PCI_EXP_SLTCAP_PCP`): set if the port's power controller is present.
        public static let powerControllerPresent: UInt32 = 0x0000_0002
        /// MRLSP, MRL Sensor Present (`PCI_EXP_SLTCAP_MRLSP`): never set by QEMU.
        public static let mrlSensorPresent: UInt32 = 0x0000_0004
        /// AIP, Attention Indicator Present (`PCI_EXP_SLTCAP_AIP`): always set by QEMU.
        public static let attentionIndicatorPresent: UInt32 = 0x0000_0008
        /// PIP, Power Indicator Present (`PCI_EXP_SLTCAP_PIP`): always set by QEMU.
        public static let powerIndicatorPresent: UInt32 = 0x0000_0010
        /// HPS, Hot-Plug Surprise (`PCI_EXP_SLTCAP_HPS`): set when the port has `hotplug=on`.
        public static let hotPlugSurprise: UInt32 = 0x0000_0020
        /// HPC, Hot-Plug Capable (`PCI_EXP_SLTCAP_HPC`): set when the port has `hotplug=on`.
        public static let hotPlugCapable: UInt32 = 0x0000_0040
        /// EIP, Electromechanical Interlock Present (`PCI_EXP_SLTCAP_EIP`): always set by QEMU.
        public static let electromechanicalInterlockPresent: UInt32 = 0x0002_0000
        /// NCCS, No Command Completed Support (`PCI_EXP_SLTCAP_NCCS`): never set (guests wait for CC).
        public static let noCommandCompletedSupport: UInt32 = 0x0004_0000
        /// PSN, Physical Slot Number field (`PCI_EXP_SLTCAP_PSN`, bits 19-31): the port's `slot` property.
        public static let physicalSlotNumberMask: UInt32 = 0xfff8_0000
        /// Bit position of the Physical Slot Number field (`PCI_EXP_SLTCAP_PSN_SHIFT`).
        public static let physicalSlotNumberShift: UInt32 = 19
    }
}
