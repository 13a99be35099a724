import GuestSim
import QMPWire
import SimulatedMachine
import YAMLConfig

/// The standard machine (pci.1–pci.8, the SHPC bridge pci.7 behind pci.6, virtio-disk0 in pci.8; native
/// PCI hot-plug, as ``MachineConfiguration/standard`` says), or another configuration, with a
/// manual host clock, an event recorder and a simulated guest. Time moves only through ``advance(ms:)``;
/// machine operations run the due timers afterwards, as the server does after each command.
final class GuestHarness: MachineEventSink {
    struct Stamped {
        var time: Int64
        var event: MachineEvent
    }

    let clock = ManualHostClock()
    let machine: Machine
    let guest: GuestOS
    private(set) var stamped: [Stamped] = []
    private(set) var writes: [GuestRegisterWrite] = []

    init(
        version: String = "8.2.0",
        configuration: GuestConfiguration = GuestConfiguration(),
        paused: Bool = false,
        machine machineConfiguration: MachineConfiguration = .standard,
        copying prototype: Machine? = nil
    ) throws {
        let profile = try QEMUProfile(version, package: "test").unwrap()
        let clock = clock
        if let prototype {
            // A copy of an already built machine (Machine.copy), as the fuzz targets start from.
            machine = prototype.copy { clock.nanoseconds }
        } else {
            machine = Machine(
                profile: profile,
                startPaused: paused,
                machineType: machineConfiguration.machineType,
                board: machineConfiguration.board
            ) { clock.nanoseconds }
            try machine.coldPlug(machineConfiguration)
        }
        guest = GuestOS(machine: machine, configuration: configuration)
        machine.sink = self
        guest.onRegisterWrite = { [weak self] in self?.writes.append($0) }
        machine.runDueTimers()  // the daemon runs due timers once it is up: the drivers probe
    }

    /// A harness around copies of `other`'s machine and guest (``Machine/copy(hostClock:)``,
    /// ``GuestOS/copy(onto:)``; `other`'s guest must be idle), with a clock and recorders of its own.
    init(copying other: GuestHarness) {
        clock.nanoseconds = other.clock.nanoseconds
        let clock = clock
        machine = other.machine.copy { clock.nanoseconds }
        guest = other.guest.copy(onto: machine)
        machine.sink = self
        guest.onRegisterWrite = { [weak self] in self?.writes.append($0) }
    }

    /// YAML text of a `guest:` section (with the key) read as the daemon reads it.
    static func configuration(yaml: String) throws -> GuestConfiguration {
        let file = try ConfigurationFile.load(yaml: yaml)
        return try GuestConfiguration.load(from: file.guestSection.unwrap())
    }

    func emit(_ event: MachineEvent) { stamped.append(Stamped(time: machine.clock.now, event: event)) }

    /// Virtual milliseconds since the start.
    var nowMilliseconds: Double { Double(machine.clock.now) / 1e6 }

    /// Moves the host clock on; guest timers run at their instants while the VM runs.
    func advance(ms: Double) { machine.advance(host: clock, by: Int64((ms * 1e6).rounded())) }

    /// Runs a machine operation as a QMP command: its error text or nil; then deferred events and due timers.
    func command(_ body: () throws(QMPError) -> Void) -> String? {
        var result: String?
        do throws(QMPError) {
            try body()
        } catch {
            result = error.desc
        }
        machine.flushDeferredEvents()
        machine.runDueTimers()
        return result
    }

    func add(_ arguments: JSONObject) -> String? { command { () throws(QMPError) in try machine.deviceAdd(arguments) } }

    func del(_ id: String) -> String? { command { () throws(QMPError) in try machine.deviceDel(id) } }

    func setPersona(_ persona: GuestPersona, controller: String? = nil, slot: Int? = nil) -> String? {
        command { () throws(QMPError) in try guest.setPersona(persona, controller: controller, slot: slot) }
    }

    /// Events since the last call: `NAME id-or-path@ms`.
    func takeEvents() -> [String] {
        defer { stamped.removeAll() }
        return stamped.map { entry in
            let data = entry.event.data
            // ACPI_DEVICE_OST names its device inside `info`.
            let info = data?["info"]?.objectValue
            let who = data?["device"]?.stringValue ?? info?["device"]?.stringValue ?? data?["path"]?.stringValue ?? ""
            let ms = Double(entry.time) / 1e6
            let time = ms == ms.rounded() ? String(Int64(ms)) : String(ms)
            return "\(entry.event.name) \(who)@\(time)"
        }
    }

    func slotControl(_ port: String) throws -> UInt16 { try machine.slotRegisters(port: port).slotControl }

    func slotStatus(_ port: String) throws -> UInt16 { try machine.slotRegisters(port: port).slotStatus }

    func shpc(_ bridge: String = "pci.7") throws -> SHPCController { try machine.shpcRegisters(bridge: bridge) }

    func deviceOn(_ id: String) throws -> Bool { try machine.queryHotplug(id)["device-on"]?.boolValue ?? false }

    func takeWrites() -> [GuestRegisterWrite] {
        defer { writes.removeAll() }
        return writes
    }
}

/// A `virtio-rng-pci` (two `DEVICE_DELETED`: backend, then device) on a bus, optionally at an address.
func rng(_ id: String, bus: String, addr: String? = nil) -> JSONObject {
    var arguments: JSONObject = ["driver": "virtio-rng-pci", "id": .string(id), "bus": .string(bus)]
    if let addr { arguments.append("addr", .string(addr)) }
    return arguments
}

/// The two `DEVICE_DELETED` events of a `virtio-rng-pci` removed at `ms`.
func deleted(_ id: String, at ms: String) -> [String] {
    ["DEVICE_DELETED /machine/peripheral/\(id)/virtio-backend@\(ms)", "DEVICE_DELETED \(id)@\(ms)"]
}
