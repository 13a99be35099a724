import HotplugMachine

/// Connects the simulated guest to the machine and the control plane (persona commands,
/// machine-state personas, guest register writes reported as control events).
enum GuestWiring {
    /// Attaches the guest described by the configuration's `guest:` section.
    static func attach(core: ServerCore, configuration: MachineConfiguration) throws(MachineConfigurationError) {
        // The guest drivers arrive with the GuestSim module.
    }
}
