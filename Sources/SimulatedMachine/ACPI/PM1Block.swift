/// The ACPI fixed-hardware registers of the PM I/O block (QEMU's `acpi_pm1_evt`, `acpi_pm1_cnt` and
/// `acpi_pm_tmr`, the same on q35's ICH9 and pc's PIIX4): PM1 status and enable at PMBASE+0 and +2,
/// PM1 control at +4, the PM timer at +8. They carry the power button (`system_powerdown`) to the
/// guest and the guest's soft-off (SLP_EN with SLP_TYP 0) back to QEMU, which then shuts down.
///
/// Access semantics are QEMU 7.2's, measured through qtest: the event and control registers are
/// 16 bits wide (an access larger than two bytes is split; a byte access at an odd offset of the
/// event block reads 0 and writes nothing, as QEMU's handler sees an address it does not decode;
/// the control register ignores the address, so a byte written at PMBASE+5 lands in its low byte);
/// the timer takes aligned 4-byte reads only (anything else reads 0). Status bits are write-1-to-clear.
/// The timer status (TMR_STS) is derived from the virtual clock as QEMU derives it: set from the
/// start, and again every 2^23 ticks of the 3.579545 MHz timer after the guest clears it.
public struct PM1Block: Sendable, Equatable {
    /// PM1 status/enable: the timer overflowed (TMR_STS / TMR_EN).
    public static let timer: UInt16 = 0x0001
    /// The global lock was released (GBL_STS / GBL_EN).
    public static let globalLock: UInt16 = 0x0020
    /// The power button was pressed (PWRBTN_STS / PWRBTN_EN).
    public static let powerButton: UInt16 = 0x0100
    /// The RTC alarm fired (RTC_STS / RTC_EN).
    public static let rtc: UInt16 = 0x0400
    /// The events QEMU's `acpi_update_sci` lets raise the SCI.
    public static let sciEvents: UInt16 = timer | globalLock | powerButton | rtc
    /// PM1 control: SCI_EN.
    public static let sciEnable: UInt16 = 0x0001
    /// PM1 control: SLP_EN, which carries out the sleep state in SLP_TYP (bits 12:10); never stored.
    public static let sleepEnable: UInt16 = 0x2000
    /// The PM timer's frequency (`PM_TIMER_FREQUENCY`).
    public static let timerFrequency: Int64 = 3_579_545

    /// PM1 status, without TMR_STS (derived from the clock: ``timerOverflowTicks``).
    public var status: UInt16 = 0
    /// PM1 enable.
    public var enable: UInt16 = 0
    /// PM1 control (SCI_EN, SLP_TYP, ...), never with SLP_EN.
    public var control: UInt16 = 0
    /// The timer tick from which TMR_STS reads set (QEMU's `overflow_time`): 0 at reset, so it is set
    /// from the start.
    public var timerOverflowTicks: Int64 = 0

    /// The registers at reset.
    public init() {}

    /// PM timer ticks at virtual time `nanoseconds` (`muldiv64(ns, PM_TIMER_FREQUENCY, 10^9)`).
    public static func ticks(atNanoseconds nanoseconds: Int64) -> Int64 {
        let product = nanoseconds.multipliedFullWidth(by: timerFrequency)
        return (1_000_000_000 as Int64).dividingFullWidth(product).quotient
    }

    /// PM1 status as the guest reads it at `ticks`: TMR_STS set once the timer reached its overflow.
    public func status(atTicks ticks: Int64) -> UInt16 {
        ticks >= timerOverflowTicks ? status | Self.timer : status
    }

    /// Whether the PM1 events raise the SCI at `ticks`.
    public func raisesSCI(atTicks ticks: Int64) -> Bool {
        status(atTicks: ticks) & enable & Self.sciEvents != 0
    }

    /// A write to PM1 status: the bits written as 1 are cleared; clearing TMR_STS while it is set
    /// moves the next overflow 2^23 ticks on (`acpi_pm_tmr_calc_overflow_time`).
    public mutating func writeStatus(_ value: UInt16, atTicks ticks: Int64) {
        if status(atTicks: ticks) & value & Self.timer != 0 {
            timerOverflowTicks = (ticks + 0x80_0000) & ~0x7F_FFFF
        }
        status &= ~value
    }

    /// A write to PM1 control: stored without SLP_EN; returns the sleep type when SLP_EN was set.
    public mutating func writeControl(_ value: UInt16) -> Int? {
        control = value & ~Self.sleepEnable
        guard value & Self.sleepEnable != 0 else { return nil }
        return Int(value >> 10) & 7
    }
}
