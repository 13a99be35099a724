/// What watches the machine from the guest's side: the simulated guest OS takes hot-plug
/// interrupts here, and the control plane sees every guest register write.
public protocol MachineObserver: AnyObject {
    /// A hotplug controller (PCIe port or SHPC bridge) raised its interrupt (a 0-to-1 edge of its
    /// notification level). Called synchronously; a guest handles it from a timer, as a real
    /// guest's interrupt handler runs after the device model returns.
    func hotplugInterrupt(_ controller: Device)

    /// The ACPI SCI (GSI 9) changed level: `GPE0 status & enable` became non-zero (true) or zero
    /// (false). Called synchronously; a guest's GPE handler runs from a timer.
    func sciLevelChanged(_ level: Bool)

    /// A guest register write happened (for observers that log or report guest activity).
    func guestRegisterWrite(_ write: GuestRegisterWrite)
}

extension MachineObserver {
    public func hotplugInterrupt(_ controller: Device) {}
    public func sciLevelChanged(_ level: Bool) {}
    public func guestRegisterWrite(_ write: GuestRegisterWrite) {}
}
