/// What a guest write to the ACPI CPU hot-plug block asks of the machine beyond the block's own
/// registers: QEMU unplugs the CPU (`_EJ0`) or sends `ACPI_DEVICE_OST` (`_OST`) from inside the write.
public enum ACPICPUHotplugEffect: Sendable, Equatable {
    /// Nothing beyond the registers.
    case none
    /// The legacy bitmap's byte 0 was written with 0: the block is modern now.
    case switchedToModern
    /// Eject the CPU of slot `index` (present and not the boot CPU).
    case eject(index: Int)
    /// The guest reported `_OST` for slot `index` (the slot holds the event and status).
    case ost(index: Int)
}
