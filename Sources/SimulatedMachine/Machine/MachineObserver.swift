/// What watches the machine from the guest's side: the simulated guest OS takes hot-plug
/// interrupts here, and the control plane sees every guest register write.
public protocol MachineObserver: AnyObject {
    /// A hotplug controller (PCIe port or SHPC bridge) raised its interrupt (a 0-to-1 edge of its
    /// notification level). Called synchronously; a guest handles it from a timer, as a real
    /// guest's interrupt handler runs after the device model returns.
    func hotplugInterrupt(_ controller: Device)

    /// A guest register write happened (for observers that log or report guest activity).
    func guestRegisterWrite(_ write: GuestRegisterWrite)
}

extension MachineObserver {
    public func hotplugInterrupt(_ controller: Device) {}
    public func guestRegisterWrite(_ write: GuestRegisterWrite) {}
}
