/// The accelerator QEMU runs the guest with (`-accel`). It changes one thing a client can see: under
/// TCG an ejected CPU is never finalised, so its own `DEVICE_DELETED` never comes (only its `lapic`
/// child's); under KVM both come (`acpi-hotplug.md` §5.4).
public enum Accelerator: String, Sendable, Equatable, CaseIterable {
    /// The KVM hypervisor: what management stacks run, and qmp-mock's default.
    case kvm
    /// The TCG emulator: QEMU's own default when `-accel` is not given.
    case tcg
}
