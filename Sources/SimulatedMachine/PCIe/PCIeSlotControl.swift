extension PCIeSlot {
    /// Bits, fields and field values of the Slot Control register (PCI Express capability + 0x18, 16 bits),
    /// plus the two "slot state" predicates QEMU derives from it (Linux `pci_regs.h` names in the comments).
    public enum SlotControl {
        /// ABPE, Attention Button Pressed Enable (`PCI_EXP_SLTCTL_ABPE`): writable.
        public static let attentionButtonPressedEnable: UInt16 = 0x0001
        /// PFDE, Power Fault Detected Enable (`PCI_EXP_SLTCTL_PFDE`): not writable in QEMU.
        public static let powerFaultDetectedEnable: UInt16 = 0x0002
        /// MRLSCE, MRL Sensor Changed Enable (`PCI_EXP_SLTCTL_MRLSCE`): not writable in QEMU.
        public static let mrlSensorChangedEnable: UInt16 = 0x0004
        /// PDCE, Presence Detect Changed Enable (`PCI_EXP_SLTCTL_PDCE`): writable.
        public static let presenceDetectChangedEnable: UInt16 = 0x0008
        /// CCIE, Command Completed Interrupt Enable (`PCI_EXP_SLTCTL_CCIE`): writable.
        public static let commandCompletedInterruptEnable: UInt16 = 0x0010
        /// HPIE, Hot-Plug Interrupt Enable (`PCI_EXP_SLTCTL_HPIE`): writable; gates every slot interrupt.
        public static let hotPlugInterruptEnable: UInt16 = 0x0020
        /// AIC, Attention Indicator Control field (`PCI_EXP_SLTCTL_AIC`, bits 6-7): writable.
        public static let attentionIndicatorMask: UInt16 = 0x00c0
        /// AIC value "on" (`PCI_EXP_SLTCTL_ATTN_IND_ON`).
        public static let attentionIndicatorOn: UInt16 = 0x0040
        /// AIC value "blink" (`PCI_EXP_SLTCTL_ATTN_IND_BLINK`).
        public static let attentionIndicatorBlinking: UInt16 = 0x0080
        /// AIC value "off" (`PCI_EXP_SLTCTL_ATTN_IND_OFF`).
        public static let attentionIndicatorOff: UInt16 = 0x00c0
        /// PIC, Power Indicator Control field (`PCI_EXP_SLTCTL_PIC`, bits 8-9): writable.
        public static let powerIndicatorMask: UInt16 = 0x0300
        /// PIC value "on" (`PCI_EXP_SLTCTL_PWR_IND_ON`).
        public static let powerIndicatorOn: UInt16 = 0x0100
        /// PIC value "blink" (`PCI_EXP_SLTCTL_PWR_IND_BLINK`).
        public static let powerIndicatorBlinking: UInt16 = 0x0200
        /// PIC value "off" (`PCI_EXP_SLTCTL_PWR_IND_OFF`).
        public static let powerIndicatorOff: UInt16 = 0x0300
        /// PCC, Power Controller Control (`PCI_EXP_SLTCTL_PCC`): set = power **off** (`PCI_EXP_SLTCTL_PWR_OFF`),
        /// clear = power on. Writable only when the port has a power controller.
        public static let powerControllerOff: UInt16 = 0x0400
        /// EIC, Electromechanical Interlock Control (`PCI_EXP_SLTCTL_EIC`): writing 1 toggles Slot Status EIS;
        /// always reads 0.
        public static let electromechanicalInterlockControl: UInt16 = 0x0800
        /// DLLSCE, Data Link Layer State Changed Enable (`PCI_EXP_SLTCTL_DLLSCE`): not writable in QEMU.
        public static let dataLinkLayerStateChangedEnable: UInt16 = 0x1000

        /// The enable bits of the events QEMU supports (`PCI_EXP_HP_EV_SUPPORTED`: ABPE, PDCE, CCIE); they sit
        /// at the same positions as the matching Slot Status event bits.
        public static let supportedEventEnables: UInt16 = 0x0019

        /// The bits a guest write can change (the `wmask` that `pcie_cap_slot_init` builds): indicators,
        /// interrupt enables, EIC, and PCC if a power controller is present.
        /// - Parameter powerControllerPresent: whether Slot Capabilities has PCP.
        public static func writableMask(powerControllerPresent: Bool) -> UInt16 {
            let common =
                attentionButtonPressedEnable | presenceDetectChangedEnable
                | commandCompletedInterruptEnable | hotPlugInterruptEnable
                | attentionIndicatorMask | powerIndicatorMask | electromechanicalInterlockControl
            return powerControllerPresent ? common | powerControllerOff : common
        }

        /// QEMU's `pcie_sltctl_powered_off` (mainline since 8.0): power controller off and power indicator off.
        /// - Parameter value: a Slot Control value.
        public static func isPoweredOff(_ value: UInt16) -> Bool {
            value & powerControllerOff == powerControllerOff && value & powerIndicatorMask == powerIndicatorOff
        }

        /// The v8 series' `pcie_sltctl_powered_on`: power controller on, power indicator on and attention
        /// indicator off.
        /// - Parameter value: a Slot Control value.
        public static func isPoweredOn(_ value: UInt16) -> Bool {
            value & powerControllerOff == 0
                && value & powerIndicatorMask == powerIndicatorOn
                && value & attentionIndicatorMask == attentionIndicatorOff
        }

        /// Decodes the Power Indicator Control field the way v8 `pcie_cap_slot_get_hotplug_state` does.
        /// - Parameter value: a Slot Control value.
        /// - Returns: the LED state, or nil for the reserved `00` encoding.
        public static func powerIndicator(_ value: UInt16) -> LedStatus? {
            switch value & powerIndicatorMask {
            case powerIndicatorOn: .on
            case powerIndicatorBlinking: .blinking
            case powerIndicatorOff: .off
            default: nil
            }
        }

        /// Decodes the Attention Indicator Control field the way v8 `pcie_cap_slot_get_hotplug_state` does.
        /// - Parameter value: a Slot Control value.
        /// - Returns: the LED state, or nil for the reserved `00` encoding.
        public static func attentionIndicator(_ value: UInt16) -> LedStatus? {
            switch value & attentionIndicatorMask {
            case attentionIndicatorOn: .on
            case attentionIndicatorBlinking: .blinking
            case attentionIndicatorOff: .off
            default: nil
            }
        }
    }
}
