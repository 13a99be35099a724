import QMPWire
import SimulatedMachine

/// A machine built like the oracle's QEMU (rp1–rp4, cold1 in rp4, ppb1 in rp2, pb1 with SHPC),
/// with a manual host clock and an event recorder.
final class MachineHarness: MachineEventSink {
    var events: [MachineEvent] = []
    let machine: Machine

    init(
        version: String = "8.2.0",
        paused: Bool = true,
        configuration: MachineConfiguration = MachineHarness.oracle
    ) throws {
        let profile = try QEMUProfile(version, package: "test").unwrap()
        let box = ClockBox()
        machine = Machine(
            profile: profile,
            startPaused: paused,
            machineType: configuration.machineType,
            board: configuration.board
        ) { box.now }
        clockBox = box
        machine.sink = self
        try machine.coldPlug(configuration)
    }

    /// A harness around a copy of `other`'s machine (``Machine/copy(hostClock:)``), with a clock
    /// and a recorder of its own.
    init(copying other: MachineHarness) {
        let box = ClockBox()
        box.now = other.clockBox.now
        machine = other.machine.copy { box.now }
        clockBox = box
        machine.sink = self
    }

    private let clockBox: ClockBox
    final class ClockBox { var now: Int64 = 0 }

    /// Moves the host clock on (virtual time moves only while the VM runs).
    func advance(seconds: Double) { clockBox.now += Int64(seconds * 1e9) }

    func emit(_ event: MachineEvent) { events.append(event) }

    /// Events since the last call, as compact text.
    func takeEvents() -> [String] {
        defer { events.removeAll() }
        return events.map { e in e.name + (e.data.map { " " + JSONValue.object($0).jsonText } ?? "") }
    }

    /// Runs a machine operation and returns its error text, or nil.
    func error(_ body: () throws(QMPError) -> Void) -> String? {
        do throws(QMPError) {
            try body()
            return nil
        } catch {
            return error.desc
        }
    }

    /// The oracle's machine in native PCI hot-plug mode (`ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off`,
    /// as the oracle's QEMU ran).
    static let oracle: MachineConfiguration = {
        var configuration = oracleTopology
        configuration.board = .nativePCIHotplug(.q35)
        return configuration
    }()

    /// The oracle's topology with QEMU's default board (ACPI PCI hot-plug).
    static let oracleTopology = MachineConfiguration(
        machineType: .q35,
        devices: [
            DeviceSpec(
                driver: "pcie-root-port",
                id: "rp1",
                bus: "pcie.0",
                properties: ["chassis": 1, "slot": 1, "addr": "04.0"]
            ),
            DeviceSpec(
                driver: "pcie-root-port",
                id: "rp2",
                bus: "pcie.0",
                properties: ["chassis": 2, "slot": 2, "addr": "05.0"]
            ),
            DeviceSpec(
                driver: "pcie-root-port",
                id: "rp3",
                bus: "pcie.0",
                properties: ["chassis": 3, "slot": 3, "addr": "06.0", "hotplug": false]
            ),
            DeviceSpec(
                driver: "pcie-root-port",
                id: "rp4",
                bus: "pcie.0",
                properties: ["chassis": 4, "slot": 4, "addr": "08.0"]
            ),
            DeviceSpec(driver: "virtio-rng-pci", id: "cold1", bus: "rp4"),
            DeviceSpec(driver: "pcie-pci-bridge", id: "ppb1", bus: "rp2"),
            DeviceSpec(
                driver: "pci-bridge",
                id: "pb1",
                bus: "pcie.0",
                properties: ["chassis_nr": 9, "addr": "07.0", "shpc": true]
            ),
        ]
    )
}

struct MissingValue: Error {}

extension Optional {
    func unwrap() throws -> Wrapped {
        guard let self else { throw MissingValue() }
        return self
    }
}
