import SimulatedMachine

/// The SHPC register offsets, bits and command codes the simulated shpchp driver uses (SHPC 1.0 and QEMU's
/// hw/pci/shpc.c; Linux `shpchp_hpc.c` names in the comments).
enum SHPCRegisterMap {
    /// Command code (1 byte) and target (1 byte) (`CMD`).
    static let command = 0x14
    /// Command status (`CMD_STATUS`): BUSY 0x1, MRL_OPEN 0x2, INVALID_CMD 0x4, INVALID_MODE 0x8.
    static let commandStatus = 0x16
    /// The status bits that mean a command failed (`hpc_check_cmd_status`: MRL open, invalid command/mode).
    static let commandErrors: UInt32 = 0x0E
    /// Interrupt locator (`INTR_LOC`): bit 0 command completed, bit n slot n.
    static let interruptLocator = 0x18
    /// Bit 0 of the interrupt locator (`CMD_INTR_PENDING`).
    static let commandPending: UInt32 = 0x1
    /// Controller SERR-INT enable (`SERR_INTR_ENABLE`).
    static let serrIntEnable = 0x20
    /// `GLOBAL_INTR_MASK` | `GLOBAL_SERR_MASK` | `COMMAND_INTR_MASK` | `ARBITER_SERR_MASK`.
    static let allControllerMasks: UInt32 = 0xF
    /// `GLOBAL_INTR_MASK` | `COMMAND_INTR_MASK`: what shpchp unmasks to take interrupts.
    static let interruptMasks: UInt32 = 0x5
    /// The reserved bits shpchp never writes back (`SERR_INTR_RSVDZ_MASK`); below them sit the RW1C
    /// command-detected (0x10000) and arbiter-detected (0x20000) bits.
    static let serrReserved: UInt32 = 0xFFFC_0000
    /// The command-detected bit of the SERR-INT register (RW1C).
    static let commandDetected: UInt32 = 0x1_0000

    /// The 32-bit slot register of PCI slot `slot` (1...31): status word, event latch, event mask.
    static func slotRegister(_ slot: Int) -> Int { 0x24 + 4 * (slot - 1) }
    /// The event mask byte of PCI slot `slot`.
    static func slotMask(_ slot: Int) -> Int { slotRegister(slot) + 3 }

    /// Event latch bits.
    static let presenceEvent: UInt8 = 0x01
    static let buttonEvent: UInt8 = 0x04
    static let mrlEvent: UInt8 = 0x08
    /// Event mask byte as shpchp leaves it: interrupts of every event enabled, the MRL and connected-power-
    /// fault SERR masks set.
    static let serviceMask: UInt8 = 0x60
    /// Event mask byte with every event masked (the reset value).
    static let fullMask: UInt8 = 0x7F

    /// Linux's command codes (identical to QEMU's decoding).
    static let setSlotPower: UInt8 = 0x01
    static let setSlotEnable: UInt8 = 0x02
    static let setSlotDisable: UInt8 = 0x03
    static let setPowerOn: UInt8 = 0x04
    static let setPowerBlink: UInt8 = 0x08
    static let setPowerOff: UInt8 = 0x0C
    static let setAttentionOn: UInt8 = 0x10
    static let setAttentionBlink: UInt8 = 0x20
    static let setAttentionOff: UInt8 = 0x30

    /// PRSNT (bits 11:10 of the slot status word) is not "empty" (3).
    static func isPresent(_ shpc: SHPCController, slot: Int) -> Bool {
        guard let status = shpc.slotStatus(slot) else { return false }
        return (status >> 10) & 0x3 != 0x3
    }
}
