public import QMPWire
public import SimulatedMachine

/// The simulated guest operating system: the hotplug drivers a guest runs for the machine's controllers —
/// Linux pciehp for every PCIe root or downstream port, Linux shpchp for every bridge with a standard hotplug
/// controller — each behaving as its ``GuestPersona`` says.
///
/// Real guests are what makes `X_DEVICE_ON` and `DEVICE_DELETED` happen: QEMU only raises events in the slot
/// registers and waits for the guest to power the slot on or off. This type plays that guest, acting only
/// through the machine's register interface (``Machine/writeSlotControl(port:value:)``,
/// ``Machine/shpcCommand(bridge:code:target:)``, ...) on the machine's virtual clock, so management stacks can
/// rehearse slow, booting, unresponsive and cancelling guests deterministically (`users.md` §4).
///
/// Life cycle:
/// - Creating it makes it the machine's ``Machine/observer``. It takes every controller the guest can see
///   (on the root bus, or behind a powered slot) and probes its driver from a zero-delay timer, i.e. as soon
///   as the VM runs (a VM started paused probes at `cont`), and after the creator has set
///   ``onRegisterWrite``. Probing enables the controller's hotplug notifications, as Linux's drivers do.
///   A port without hot-plug capability (`hotplug=off`) gets no driver, as pciehp does not bind to it.
/// - Controllers that appear later (a hot-plugged bridge or switch) are probed when the guest configures the
///   slot they sit in (the end of a hot-add), or at their first interrupt. Drivers of controllers that left
///   the machine are dropped.
/// - Interrupts are never handled inside the machine operation that raised them: the handler runs from a
///   timer (``GuestLatencies/interrupt``, 0 by default: right after the QMP reply, when the server runs the
///   due timers). While the VM is paused the guest does nothing; it resumes with the VM.
/// - After `system_reset` the slot registers are back at their reset values (notifications disabled): call
///   ``guestReset()`` to reboot the guest, whose drivers then probe again.
///
/// Confined to the machine's thread, like the machine.
public final class GuestOS: MachineObserver {
    /// The machine the guest runs in.
    public let machine: Machine
    /// Personas and latencies; change personas with ``setPersona(_:controller:slot:)``.
    public private(set) var configuration: GuestConfiguration
    /// Receives every guest register write the machine reports (the simulated guest's, and the control
    /// plane's `guest-write`), so that the control plane can still publish them.
    public var onRegisterWrite: ((GuestRegisterWrite) -> Void)?

    /// The drivers, in the order their controllers were found (topology order).
    private var drivers: [any ControllerDriver] = []
    /// The ACPI side (GPE handler, acpiphp, processor and memory hot-plug drivers), made at start.
    private var acpiDriver: ACPIGuestDriver?

    /// Starts the guest on `machine` and makes it the machine's observer.
    /// - Parameters:
    ///   - machine: the machine, with its cold-plugged devices in place.
    ///   - configuration: personas and latencies (default: Linux everywhere).
    public init(machine: Machine, configuration: GuestConfiguration = GuestConfiguration()) {
        self.machine = machine
        self.configuration = configuration
        machine.observer = self
        discoverControllers()
        let acpi = ACPIGuestDriver(os: self)
        acpiDriver = acpi
        acpi.attach()
    }

    /// The guest in exactly this state on `machine`, a copy of this guest's machine
    /// (``Machine/copy(hostClock:)``) made while nothing ran in between: every driver in the same
    /// state, driving the copies of its controllers. The copy becomes `machine`'s observer; its
    /// ``onRegisterWrite`` is nil (attach your own). What a test harness uses to start many runs from
    /// one booted guest; `Tests/GuestSimTests/CopiedMachineGuestTests.swift` checks that a copied guest
    /// does what the original does.
    ///
    /// - Precondition: no timer is armed on this guest's machine (the guest is idle: booted, or
    ///   before its first `runDueTimers`, no interrupt or job of a driver pending), and `machine` is
    ///   not this guest's machine.
    public func copy(onto machine: Machine) -> GuestOS {
        precondition(self.machine.armedTimerCount == 0, "GuestOS.copy: timers are armed")
        precondition(machine !== self.machine, "GuestOS.copy: the machine must be a copy")
        return GuestOS(copying: self, machine: machine)
    }

    private init(copying other: GuestOS, machine: Machine) {
        self.machine = machine
        configuration = other.configuration
        machine.observer = self
        var copies: [String: Device] = [:]
        for device in machine.controllers { copies[device.path] = device }
        func copy(_ device: Device) -> Device {
            guard let copy = copies[device.path] else {
                preconditionFailure("GuestOS.copy: \(device.path) is not in the copied machine")
            }
            return copy
        }
        drivers = other.drivers.map { $0.copy(device: copy($0.device), os: self) }
        acpiDriver = other.acpiDriver.map { ACPIGuestDriver(copying: $0, os: self) }
        lastDiscovery = other.lastDiscovery.map { ($0.generation, $0.drivers, $0.undriven.map(copy)) }
    }

    // MARK: Personas

    /// Sets a persona machine-wide (`controller` nil), for one controller, or for one slot of an SHPC bridge.
    /// A broader setting replaces the narrower ones beneath it (machine-wide drops every per-controller and
    /// per-slot choice, including the configuration's). A controller or slot whose persona changes abandons
    /// what its driver was doing (its timers are cancelled; the registers stay as they are) and starts with
    /// the new persona; one whose persona stays the same is left alone, except that setting a script persona
    /// re-arms it.
    /// - Parameters:
    ///   - persona: the persona.
    ///   - controller: a PCIe port or SHPC bridge, by id or QOM path; nil for the whole machine.
    ///   - slot: an SHPC slot (1...31); only with an SHPC bridge.
    /// - Throws: `DeviceNotFound` for an unknown controller, `GenericError` for a device that is no hotplug
    ///   controller, a slot on a PCIe port, or a slot outside 1...31.
    public func setPersona(_ persona: GuestPersona, controller: String? = nil, slot: Int? = nil) throws(QMPError) {
        guard let controller else {
            if slot != nil { throw .generic("'slot' needs 'controller' (an SHPC bridge)") }
            configuration.setPersona(persona, controller: [], slot: nil)
            for driver in drivers { driver.personasChanged(rearmScripts: persona.isScript) }
            acpiDriver?.personasChanged()
            return
        }
        if controller == ACPIGuestDriver.personaName {
            if slot != nil { throw .generic("'slot' applies only to SHPC bridges") }
            configuration.setPersona(persona, controller: [controller], slot: nil)
            acpiDriver?.personasChanged()
            return
        }
        let device = try machine.findController(controller)
        if let slot {
            guard device.shpc != nil else {
                throw .generic("'\(controller)' is a PCIe port: 'slot' applies only to SHPC bridges")
            }
            guard SHPCController.isValidSlot(slot) else {
                throw .generic("SHPC slot \(slot) does not exist (valid slots are 1 to 31)")
            }
        }
        configuration.setPersona(persona, controller: names(of: device), slot: slot)
        if let driver = driver(for: device) {
            driver.personasChanged(rearmScripts: persona.isScript)
        } else {
            discoverControllers()
        }
    }

    /// The persona in effect machine-wide (`controller` nil), for a controller, or for an SHPC slot.
    /// - Parameters:
    ///   - controller: a controller id or QOM path, or nil.
    ///   - slot: an SHPC slot, or nil.
    public func persona(controller: String? = nil, slot: Int? = nil) -> GuestPersona {
        guard let controller else { return configuration.persona }
        let names = (try? machine.findController(controller)).map { self.names(of: $0) } ?? [controller]
        return configuration.persona(names: names, slot: slot)
    }

    /// The driver state of a PCIe port or of one SHPC slot, for machine-state views: `off`, `blinking-on`,
    /// `powering-on`, `on`, `blinking-off`, `confirming-off`, `powering-off` (SHPC also `power-only`);
    /// `booting`, `never-ack`, `manual`; `script-waiting`, `script-step-N`, `script-done`; `not-probed`
    /// (driver not started yet, or the controller is not visible to the guest); for an SHPC bridge without
    /// slot `probed` or `not-probed`; `unknown` for a name that is no controller.
    public func state(controller: String, slot: Int? = nil) -> String {
        guard let device = try? machine.findController(controller) else { return "unknown" }
        return driver(for: device)?.stateName(slot: slot) ?? "not-probed"
    }

    /// The guest rebooted (call after `system_reset`, which resets the slot registers): every driver
    /// abandons what it was doing and probes again as at boot. A booting persona's boot time is absolute: set
    /// a new one to model a slow reboot.
    public func guestReset() {
        for driver in drivers { driver.reset() }
        discoverControllers()
        acpiDriver?.reset()
    }

    /// The state of the guest's ACPI side: `not-booted`, `booted`, `manual`, `never-ack`, or with a script
    /// given for `acpi` `script-waiting`, `script-step-N` (1-based), `script-done`.
    public var acpiState: String { acpiDriver?.stateName ?? "not-booted" }

    // MARK: MachineObserver

    /// A controller raised its interrupt: its driver handles it from a timer (never inside the machine
    /// operation). A controller the guest had not found yet gets its driver now.
    public func hotplugInterrupt(_ controller: Device) {
        if let driver = driver(for: controller) {
            driver.interruptRaised()
        } else if let driver = makeDriver(controller) {
            drivers.append(driver)
            driver.attach()
        }
    }

    /// The SCI changed level: the ACPI side's GPE handler takes it (from a timer).
    public func sciLevelChanged(_ level: Bool) {
        acpiDriver?.sciLevelChanged(level)
    }

    /// Forwards the write to ``onRegisterWrite``.
    public func guestRegisterWrite(_ write: GuestRegisterWrite) {
        onRegisterWrite?(write)
    }

    // MARK: For the drivers

    /// The persona of a controller, or of one of its SHPC slots.
    func persona(of device: Device, slot: Int?) -> GuestPersona {
        configuration.persona(names: names(of: device), slot: slot)
    }

    /// The latencies a persona runs with.
    func latencies(for persona: GuestPersona) -> GuestLatencies {
        let factor = persona.latencyFactor
        return factor == 1 ? configuration.latencies : configuration.latencies.scaled(by: factor)
    }

    /// Takes the controllers the guest can now see and drops the drivers of controllers that are gone
    /// (called at start and whenever a driver has configured or removed a card).
    func discoverControllers() {
        let generation = machine.controllerGeneration
        // While the topology and the set of drivers are what the last pass left (drivers only ever
        // go in a pass), only the controllers that pass left without a driver can change: try those,
        // in topology order. This runs at the end of every hot-plug job.
        if let last = lastDiscovery, last.generation == generation, last.drivers == drivers.count {
            guard !last.undriven.isEmpty else { return }
            lastDiscovery = nil
            let undriven = adoptControllers(last.undriven)
            lastDiscovery = (generation, drivers.count, undriven)
            return
        }
        lastDiscovery = nil
        let controllers = machine.controllers
        drivers.removeAll { driver in
            guard controllers.contains(where: { $0 === driver.device }) else {
                driver.detach()
                return true
            }
            return false
        }
        let undriven = adoptControllers(controllers)
        lastDiscovery = (generation, drivers.count, undriven)
    }

    /// Gives each of `controllers` without a driver one if the guest can see it; returns those left
    /// without a driver.
    private func adoptControllers(_ controllers: [Device]) -> [Device] {
        var undriven: [Device] = []
        for device in controllers where driver(for: device) == nil {
            guard isVisible(device), let driver = makeDriver(device) else {
                undriven.append(device)
                continue
            }
            drivers.append(driver)
            driver.attach()
        }
        return undriven
    }

    /// What the last discovery pass saw: the controller generation, the number of drivers it left, and
    /// the controllers it left without a driver (topology order).
    private var lastDiscovery: (generation: UInt64, drivers: Int, undriven: [Device])?

    // MARK: Helpers

    private func names(of device: Device) -> [String] {
        [device.id, device.path].compactMap { $0 }
    }

    private func driver(for device: Device) -> (any ControllerDriver)? {
        drivers.first { $0.device === device }
    }

    private func makeDriver(_ device: Device) -> (any ControllerDriver)? {
        // A bus ACPI hot-plug serves gets no native driver (the DSDT's _OSC keeps the OS from taking it).
        if let bus = device.secondaryBus, machine.acpiServes(bus) { return nil }
        if let slot = device.pcieSlot {
            // pciehp binds only to ports whose Slot Capabilities announce hot-plug (not `hotplug=off`).
            return slot.isHotplugCapable ? PCIeHotplugDriver(device: device, os: self) : nil
        }
        if device.shpc != nil { return SHPCHotplugDriver(device: device, os: self) }
        return nil
    }

    /// Whether the guest can reach the device's configuration space: every slot on its way from the root
    /// bus holds a card that is present and powered (PCIe), or enabled (SHPC).
    private func isVisible(_ device: Device) -> Bool {
        var current = device
        while let bus = current.parentBus, let owner = bus.owner {
            if let slot = owner.pcieSlot {
                guard slot.isPresent, slot.powerOn else { return false }
            } else if let shpc = owner.shpc {
                guard shpc.slotState(current.slot) == .enabled else { return false }
            }
            current = owner
        }
        return true
    }
}
