/// A vCPU that exists: the CPU device plugged into one possible-CPU slot, as `query-cpus-fast` lists
/// it (QEMU's `CPUState`: `cpu-index` = the slot's index, and a host thread of its own).
public struct PresentCPU {
    /// The possible-CPU index (`cpu-index`, the ACPI selector value).
    public let index: Int
    /// The CPU device (`/machine/unattached/device[N]`, `/machine/peripheral/ID`, ...).
    public let device: Device
    /// Which vCPU thread this is, counted from 0 over the machine's life: each plugged CPU gets a new
    /// host thread, so a re-plugged slot gets a new `thread-id` (the server adds its own pid).
    public let threadSerial: Int
}
