import SimulatedMachine

/// A hotplug driver instance of the simulated guest: one per PCIe port (pciehp) or SHPC bridge (shpchp).
protocol ControllerDriver: AnyObject {
    /// The port or bridge it drives.
    var device: Device { get }
    /// Takes the controller over with its configured persona (the driver's probe runs from a zero-delay timer).
    func attach()
    /// The controller raised its interrupt (called inside the machine operation: only schedules work).
    func interruptRaised()
    /// The configured personas changed: re-read them; a slot whose persona changed abandons what it was doing
    /// and starts over (a script persona set again is re-armed when `rearmScripts`).
    func personasChanged(rearmScripts: Bool)
    /// The guest rebooted (after `system_reset`): everything is abandoned and the drivers probe again.
    func reset()
    /// The controller left the machine: cancel everything.
    func detach()
    /// The driver in the same state, driving `device` (the controller's copy in a copied machine)
    /// for `os` (see ``GuestOS/copy(onto:)``).
    func copy(device: Device, os: GuestOS) -> any ControllerDriver
    /// The state name of the controller (PCIe) or of one SHPC slot.
    func stateName(slot: Int?) -> String
}
