import FuzzSupport
import GuestSim
import SimulatedMachine
import QMPWire

// libFuzzer target: the machine and the Linux guest driven by a decoded stream of operations
// (device_add/device_del with fuzzed arguments, register writes, SHPC commands, clock steps, resets,
// persona switches). Invariants: no crash; every removed device got exactly one DEVICE_DELETED and
// no event names an unknown device; X_DEVICE_ON at most once per device.

@_cdecl("fuzz_machine_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzOne)
}

final class Events: MachineEventSink {  // one per input, used on the fuzzing thread only
    var live: Set<String> = []
    var on: Set<String> = []
    func emit(_ event: MachineEvent) {
        let path = event.data?["path"]?.stringValue ?? ""
        switch event.name {
        case "DEVICE_DELETED" where !path.hasSuffix("/virtio-backend"):
            precondition(live.remove(path) != nil, "DEVICE_DELETED for unknown \(path)")
            on.remove(path)
        case "X_DEVICE_ON":
            precondition(live.contains(path), "X_DEVICE_ON for unknown \(path)")
            precondition(on.insert(path).inserted, "second X_DEVICE_ON for \(path)")
        default: break
        }
    }
}

let drivers = [
    "virtio-net-pci", "e1000e", "virtio-rng-pci", "pci-testdev", "e1000", "pcie-pci-bridge", "pci-bridge", "nope",
]
let buses = ["pci.1", "pci.2", "pci.3", "pci.4", "pci.5", "pci.7", "pci.8", "pcie.0", "zz"]
let personas = ["linux", "never-ack", "manual", "cancel-on-second-press"]

func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let profile = QEMUProfile(["7.2.0", "8.2.0", "10.0.0"][size % 3], package: "fuzz") else { return 0 }
    let host = ManualHostClock()
    let machine = Machine(profile: profile, startPaused: false) { host.nanoseconds }
    let events = Events()
    machine.sink = events
    try? machine.coldPlug(.standard)
    for device in machine.allDevices where device.path.hasPrefix("/machine/peripheral") {
        events.live.insert(device.path)
    }
    let guest = GuestOS(machine: machine)
    var i = 0
    func byte() -> Int {
        defer { i += 1 }
        return i < size ? Int(data[i]) : 0
    }
    var counter = 0
    while i < size {
        switch byte() % 8 {
        case 0, 1:
            counter += 1
            let id = "f\(counter)"
            var args: JSONObject = ["driver": .string(drivers[byte() % drivers.count]), "id": .string(id)]
            if byte() % 4 != 0 { args["bus"] = .string(buses[byte() % buses.count]) }
            if byte() % 2 == 0 { args["addr"] = .string(String(byte() % 40, radix: 16)) }
            if byte() % 5 == 0 { args["chassis_nr"] = .int(Int64(byte())) }
            let path = "/machine/peripheral/\(id)"
            events.live.insert(path)
            do { try machine.deviceAdd(args) } catch { events.live.remove(path) }
            machine.flushDeferredEvents()
        case 2:
            let all = events.live.sorted()
            if !all.isEmpty {
                let id = String(all[byte() % all.count].split(separator: "/").last ?? "")
                try? machine.deviceDel(id)
                machine.flushDeferredEvents()
            }
        case 3:
            let value = UInt16(byte() << 8 | byte())
            try? machine.writeSlotControl(port: buses[byte() % 7], value: value)
        case 4:
            try? machine.shpcCommand(bridge: "pci.7", code: UInt8(byte()), target: UInt8(byte() % 33))
        case 5:
            machine.advance(host: host, by: Int64(byte()) * 50_000_000)
        case 6:
            if byte() % 8 == 0 {
                machine.systemReset()
                guest.guestReset()
            } else if byte() % 2 == 0 {
                machine.stop()
            } else {
                try? machine.cont()
            }
        default:
            try? guest.setPersona(
                (try? GuestPersona.parse(name: personas[byte() % personas.count])) ?? .linux,
                controller: byte() % 2 == 0 ? nil : buses[byte() % 5]
            )
        }
        machine.runDueTimers()
    }
    let actual = Set(machine.allDevices.map(\.path).filter { $0.hasPrefix("/machine/peripheral") })
    precondition(actual == events.live, "devices and events disagree: \(actual.symmetricDifference(events.live))")
    return 0
}

/// libFuzzer's runtime references this symbol even when the driver is started through LLVMFuzzerRunDriver.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt { fuzzOne(data, size) }
