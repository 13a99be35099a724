import GuestSim
import Logging
import QMPWire
import SimulatedMachine
import Testing

@testable import MockServer

#if canImport(Glibc)
    import Glibc
#endif

/// Seeded, reproducible chaos: random device_add/device_del, guest register writes, persona
/// switches, system_reset, stop/cont, clock advances and client reconnects on PCIe and SHPC, and
/// the devices with backends (block nodes and drives, netdevs, chardevs with virtio-serial ports and
/// consoles, vhost-vsock with `getfd` descriptors, vhost-user-blk and -fs), with the machine's
/// invariants checked after every step (devices and their events agree, nothing leaks, no link
/// points at a deleted object). A second world plays the same game on an ACPI machine (q35 without the
/// native hot-plug global, CPUs and DIMMs hot-pluggable): PCI devices in ACPI-served root ports, CPUs,
/// memory backends and DIMMs, and register accesses of every size through the control plane to the
/// ACPI blocks, around them and anywhere. A failure prints its seed; run one seed with
/// `CHAOS_SEED=<n> swift test --filter Chaos` (`CHAOS_STEPS=<m>` for longer runs), and add a failing
/// seed to `regressionSeeds` (or `acpiRegressionSeeds`).
@Suite struct ChaosTests {
    /// Seeds that once failed (kept as regression tests).
    static let regressionSeeds: [UInt64] = []
    static let seeds: [UInt64] = {
        if let text = getenvString("CHAOS_SEED"), let seed = UInt64(text) { return [seed] }
        return regressionSeeds + [1, 2, 3, 4]
    }()
    /// Steps per seed (`CHAOS_STEPS` for longer runs).
    static let steps = getenvString("CHAOS_STEPS").flatMap { Int($0) } ?? 600

    /// ACPI seeds that once failed (kept as regression tests).
    static let acpiRegressionSeeds: [UInt64] = []
    static let acpiSeeds: [UInt64] = {
        if let text = getenvString("CHAOS_SEED"), let seed = UInt64(text) { return [seed] }
        return acpiRegressionSeeds + [1, 2, 3, 4]
    }()

    @Test(arguments: seeds)
    func invariantsHold(seed: UInt64) throws {
        var world = try ChaosWorld(seed: seed)
        // The standard configuration's board: native PCIe and SHPC hot-plug, no ACPI PCI block.
        if case .acpiPCI = world.core.machine.ioRegion(0xCC0) {
            Issue.record("the native world runs ACPI PCI hot-plug")
        }
        for step in 0..<Self.steps {
            let operation = world.randomStep()
            if let problem = world.checkInvariants() {
                Issue.record("seed \(seed), step \(step) (\(operation)): \(problem)")
                return
            }
        }
        #expect(
            world.stats.deleted > 0 && world.stats.added > 0 && world.stats.ports > 0 && world.stats.vhost > 0,
            "seed \(seed): the run exercised too little: \(world.stats)"
        )
    }

    /// The ACPI machine: odd seeds run under TCG (an ejected CPU sends only its `lapic`'s event).
    @Test(arguments: acpiSeeds)
    func acpiInvariantsHold(seed: UInt64) throws {
        var world = try ChaosWorld(seed: seed, acpi: true)
        guard case .acpiPCI = world.core.machine.ioRegion(0xCC0) else {
            Issue.record("the ACPI world has no ACPI PCI block")
            return
        }
        for step in 0..<Self.steps {
            let operation = world.randomStep()
            if let problem = world.checkInvariants() {
                Issue.record("ACPI seed \(seed) (\(world.accel)), step \(step) (\(operation)): \(problem)")
                return
            }
        }
        let stats = world.stats
        if getenvString("CHAOS_SEED") != nil { print("ACPI seed \(seed) (\(world.accel)): \(stats)") }
        #expect(
            stats.deleted > 0 && stats.added > 0 && stats.cpus > 0 && stats.dimms > 0 && stats.io > 0
                && stats.cpusDeleted > 0 && stats.dimmsDeleted > 0,
            "ACPI seed \(seed): the run exercised too little: \(stats)"
        )
    }
}

func getenvString(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}

/// SplitMix64: a tiny, reproducible generator.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The daemon's engine without sockets: core, machine, Linux guest, a QMP monitor session, a
/// control session, and what the test has learned from the events.
struct ChaosWorld {
    /// The sessions' transport: hands `getfd` fake descriptors and checks the machine's releases.
    final class Sink: SessionTransport {
        var next: Int32 = 1000
        var handedOut = 0
        var released: Set<Int32> = []
        var problem: String?
        func sessionHasOutput(_ session: QMPSession) {}
        func takePassedDescriptor() -> Int32? {
            next += 1
            handedOut += 1
            return next
        }
        func release(_ fd: Int32) {
            if fd <= 1000 || fd > next { problem = "released descriptor \(fd) was never handed out" }
            if !released.insert(fd).inserted { problem = "descriptor \(fd) released twice" }
        }
    }

    struct Stats: CustomStringConvertible {
        var added = 0
        var deleted = 0
        var deviceOn = 0
        var errors = 0
        /// Successful adds of virtio-serial ports and consoles, and of vhost devices.
        var ports = 0
        var vhost = 0
        /// ACPI: CPUs and DIMMs added and deleted, I/O-port and configuration accesses, `ACPI_DEVICE_OST`s.
        var cpus = 0
        var dimms = 0
        var cpusDeleted = 0
        var dimmsDeleted = 0
        var io = 0
        var ost = 0
        var description: String {
            "added \(added) (ports \(ports), vhost \(vhost), CPUs \(cpus), DIMMs \(dimms)), deleted \(deleted) "
                + "(CPUs \(cpusDeleted), DIMMs \(dimmsDeleted)), X_DEVICE_ON \(deviceOn), I/O \(io), "
                + "ACPI_DEVICE_OST \(ost), errors \(errors)"
        }
    }

    var rng: SplitMix64
    let core: ServerCore
    let host = ManualHostClock()
    let sink = Sink()
    var monitor: QMPSession
    let control: QMPSession
    /// Devices the client believes exist (cold-plugged and successfully added, not yet deleted), by path.
    var live: Set<String> = []
    /// Incarnations that already got X_DEVICE_ON.
    var turnedOn: Set<String> = []
    var idCounter = 0
    var stats = Stats()
    var lastProblem: String?
    /// The ACPI world (CPUs `cpuN`, DIMMs `dimmN`, backends `mN`); else the native one (PCIe and SHPC).
    let acpi: Bool
    let accel: Accelerator
    /// The root ports devices go into.
    let ports: [String]
    /// ACPI: memory backends the client believes exist, and the backend of every DIMM it added.
    var memoryBackends: Set<String> = []
    var dimmBackend: [String: String] = [:]

    static let nativePorts = ["pci.1", "pci.2", "pci.3", "pci.4", "pci.5", "pci.8"]
    /// The ACPI machine's root ports: rp5 has `hotplug=off`.
    static let acpiPorts = ["rp1", "rp2", "rp3", "rp4", "rp5"]
    static let drivers = ["virtio-net-pci", "e1000e", "virtio-rng-pci", "pci-testdev", "e1000", "nvme"]

    /// q35 with ACPI PCI hot-plug (no global), `-smp 1,maxcpus=4`, `-m 512M,slots=4,maxmem=4G`, and
    /// five root ports (the last with `hotplug=off`).
    static func acpiConfiguration(accel: Accelerator) -> MachineConfiguration {
        var devices: [DeviceSpec] = []
        for n in 1...5 {
            var properties: JSONObject = [
                "chassis": .int(Int64(n)), "slot": .int(Int64(n)), "addr": .string("0x\(n + 1)"),
            ]
            if n == 5 { properties.append("hotplug", .bool(false)) }
            devices.append(DeviceSpec(driver: "pcie-root-port", id: "rp\(n)", bus: "pcie.0", properties: properties))
        }
        var configuration = MachineConfiguration(machineType: .q35, devices: devices)
        configuration.board = BoardOptions(
            accel: accel,
            smp: SMPOptions(cpus: 1, maxcpus: 4),
            memory: MemoryOptions(size: 512 << 20, slots: 4, maxmem: 4 << 30)
        )
        return configuration
    }

    init(seed: UInt64, acpi: Bool = false) throws {
        rng = SplitMix64(state: seed)
        self.acpi = acpi
        accel = acpi && seed % 2 == 1 ? .tcg : .kvm
        ports = acpi ? Self.acpiPorts : Self.nativePorts
        let profile = try QEMUProfile("8.2.0", package: "chaos").unwrap()
        let host = self.host
        let configuration = acpi ? Self.acpiConfiguration(accel: accel) : MachineConfiguration.standard
        let machine = Machine(
            profile: profile,
            startPaused: false,
            machineType: configuration.machineType,
            board: configuration.board
        ) { host.nanoseconds }
        try machine.coldPlug(configuration)
        core = ServerCore(
            machine: machine,
            logger: Logger(label: "chaos") { _ in SwiftLogNoOpLogHandler() },
            clock: .fixed(seconds: 1, microseconds: 0),
            clockMode: .manual(host)
        )
        GuestWiring.attach(core: core, guest: GuestConfiguration())
        let sink = self.sink
        machine.descriptors.release = { sink.release($0) }
        monitor = core.openSession(monitor: "qmp", transport: sink)
        control = core.openSession(monitor: "control", role: .control, transport: sink)
        for path in machine.allDevices.map(\.path) where path.hasPrefix("/machine/peripheral") { live.insert(path) }
        _ = send(monitor, #"{"execute":"qmp_capabilities"}"#)
        _ = send(control, #"{"execute":"qmp_capabilities"}"#)
    }

    /// Sends text to a session and returns the lines it queued, having processed every event on the monitor.
    mutating func send(_ session: QMPSession, _ text: String) -> [String] {
        Array(text.utf8).withUnsafeBytes { session.receive($0) }
        return drain()
    }

    /// Takes the queued output of both sessions; learns from the monitor's events.
    mutating func drain() -> [String] {
        var replies: [String] = []
        for session in [monitor, control] {
            let text = String(decoding: session.outbound, as: UTF8.self)
            session.outbound.removeAll()
            for line in text.split(separator: "\r\n") {
                if session === monitor, line.hasPrefix(#"{"timestamp""#) {
                    learn(event: String(line))
                } else if session === monitor {
                    replies.append(String(line))
                }
            }
        }
        return replies
    }

    mutating func learn(event line: String) {
        guard let value = Self.parse(line), let event = value.objectValue, let name = event["event"]?.stringValue else {
            return
        }
        let path = event["data"]?.objectValue?["path"]?.stringValue ?? ""
        switch name {
        case "DEVICE_DELETED":
            // A device's own children (a virtio proxy's `virtio-backend`, a CPU's `lapic`) go with it,
            // first: their parent must be known. Under TCG an ejected CPU sends only its `lapic`'s
            // event (QEMU never finalises it), and that is its removal.
            let components = path.split(separator: "/")
            if path.hasPrefix("/machine/peripheral/"), components.count > 3 {
                let owner = "/" + components.prefix(3).joined(separator: "/")
                guard live.contains(owner) else {
                    lastProblem = "DEVICE_DELETED for \(path) of unknown \(owner)"
                    return
                }
                if accel == .tcg, path.hasSuffix("/lapic") { deleted(owner) }
                return
            }
            deleted(path)
        case "X_DEVICE_ON":
            if !live.contains(path) { lastProblem = "X_DEVICE_ON for unknown \(path)" }
            if !turnedOn.insert(path).inserted { lastProblem = "second X_DEVICE_ON for \(path)" }
            stats.deviceOn += 1
        case "ACPI_DEVICE_OST":
            // `device` names a present device (the eject's final `_OST` names none).
            stats.ost += 1
            let info = event["data"]?.objectValue?["info"]?.objectValue
            if let device = info?["device"]?.stringValue, !device.isEmpty {
                let devicePath = device.hasPrefix("/") ? device : "/machine/peripheral/\(device)"
                if !live.contains(devicePath) { lastProblem = "ACPI_DEVICE_OST names \(device), which is not present" }
            }
        default: break
        }
    }

    /// The client's bookkeeping for a `DEVICE_DELETED` of `path`.
    mutating func deleted(_ path: String) {
        if live.remove(path) == nil {
            lastProblem = "DEVICE_DELETED for \(path), which the client did not know to exist"
        }
        turnedOn.remove(path)
        stats.deleted += 1
        if path.hasPrefix("/machine/peripheral/cpu") { stats.cpusDeleted += 1 }
        if path.hasPrefix("/machine/peripheral/dimm") {
            stats.dimmsDeleted += 1
            dimmBackend[String(path.dropFirst("/machine/peripheral/".count))] = nil
        }
    }

    static func parse(_ text: String) -> JSONValue? { JSONValue(parsing: text) }

    mutating func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }

    /// One random operation; returns its description.
    mutating func randomStep() -> String {
        let roll = rng.next() % 144
        if acpi {
            // The ACPI machine has no SHPC bridge, no disk and no backends of those kinds: its own
            // steps take those rolls.
            switch roll {
            case 100..<144: return randomACPIStep()
            case 65..<76: return randomIOStep()
            default: break
            }
        }
        var op: String
        switch roll {
        case 120..<144:
            return randomSerialAndVhostStep()
        case 100..<120:
            op = randomBackendStep()
            return op
        case 0..<25:
            idCounter += 1
            let id = "d\(idCounter)"
            let shpc = !acpi && rng.next() % 3 == 0
            let bus = shpc ? "pci.7" : pick(ports)
            let addr = shpc ? #","addr":"\#(1 + rng.next() % 31)""# : (rng.next() % 4 == 0 ? #","addr":"1""# : "")
            op =
                #"{"execute":"device_add","arguments":{"driver":"\#(pick(Self.drivers))","id":"\#(id)","bus":"\#(bus)"\#(addr)}}"#
            // Known before the reply: the guest may already remove it in the same turn.
            live.insert("/machine/peripheral/\(id)")
            let replies = send(monitor, op)
            if replies.contains(where: { $0.hasPrefix(#"{"return""#) }) {
                stats.added += 1
            } else {
                live.remove("/machine/peripheral/\(id)")
                stats.errors += 1
            }
        case 25..<45:
            let target =
                live.isEmpty ? "nope" : pick(live.sorted()).split(separator: "/").last.map(String.init) ?? "nope"
            op = #"{"execute":"device_del","arguments":{"id":"\#(target)"}}"#
            if send(monitor, op).contains(where: { $0.hasPrefix(#"{"error""#) }) { stats.errors += 1 }
        case 45..<65:
            op = #"{"execute":"clock-advance","arguments":{"ms":\#(pick([1, 50, 100, 500, 1000, 2500, 6000]))}}"#
            _ = send(control, op)
        case 65..<72:
            let value = pick([0x1C0, 0x2C0, 0x3C0, 0x6C0, 0x7C0, 0x7F9, 0x11C0])
            op =
                #"{"execute":"guest-write","arguments":{"controller":"\#(pick(ports))","register":"slot-control","value":\#(value)}}"#
            _ = send(control, op)
        case 72..<76:
            op =
                #"{"execute":"guest-write","arguments":{"controller":"pci.7","command":\#(pick([0x01, 0x3A, 0x04, 0x1F, 0x30, 0x49]))"#
                + #","target":\#(1 + rng.next() % 31)}}"#
            _ = send(control, op)
        case 76..<84:
            let persona = pick(["linux", "never-ack", "manual", "cancel-on-second-press", "linux", "linux"])
            let controller = acpi ? "acpi" : pick(ports)
            let scope = rng.next() % 2 == 0 ? #","controller":"\#(controller)""# : ""
            op = #"{"execute":"guest-set-persona","arguments":{"persona":"\#(persona)"\#(scope)}}"#
            _ = send(control, op)
        case 84..<88:
            op = #"{"execute":"system_reset"}"#
            _ = send(monitor, op)
        case 88..<94:
            op = core.machine.runState.isRunning ? #"{"execute":"stop"}"# : #"{"execute":"cont"}"#
            _ = send(monitor, op)
        case 94..<100:
            // Another client connects and does not negotiate: while the machine raises events (stop or
            // cont, then time), it must receive nothing but its greeting; then it leaves.
            op = "un-negotiated client"
            let other = core.openSession(monitor: "qmp", transport: sink)
            other.outbound.removeAll()  // the greeting
            _ = send(monitor, core.machine.runState.isRunning ? #"{"execute":"stop"}"# : #"{"execute":"cont"}"#)
            _ = send(control, #"{"execute":"clock-advance","arguments":{"ms":100}}"#)
            if !other.outbound.isEmpty {
                lastProblem = "an un-negotiated session received: \(String(decoding: other.outbound, as: UTF8.self))"
            }
            core.closeSession(other, reason: "chaos")
        default:
            op = "nothing"
        }
        return op
    }

    /// Backends and the human monitor: block nodes, legacy drives, network backends, the devices
    /// that use them, and their removal in every order (errors are expected and counted).
    mutating func randomBackendStep() -> String {
        let n = 1 + rng.next() % 6
        let op: String
        switch rng.next() % 10 {
        case 0:
            op = #"{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"b\#(n)"}}"#
        case 1:
            op = #"{"execute":"blockdev-del","arguments":{"node-name":"b\#(n)"}}"#
        case 2:
            op = #"{"execute":"netdev_add","arguments":{"type":"user","id":"n\#(n)"}}"#
        case 3:
            op = #"{"execute":"netdev_del","arguments":{"id":"n\#(n)"}}"#
        case 4, 5:
            idCounter += 1
            let id = "d\(idCounter)"
            let disk = rng.next() % 2 == 0
            let backend = disk ? pick(["b\(n)", "dr\(n)", "nope"]) : pick(["n\(n)", "nope"])
            let link =
                disk
                ? #""driver":"virtio-blk-pci","drive":"\#(backend)""#
                : #""driver":"virtio-net-pci","netdev":"\#(backend)""#
            op = #"{"execute":"device_add","arguments":{\#(link),"id":"\#(id)","bus":"\#(pick(ports))"}}"#
            live.insert("/machine/peripheral/\(id)")
            if send(monitor, op).contains(where: { $0.hasPrefix(#"{"return""#) }) {
                stats.added += 1
            } else {
                live.remove("/machine/peripheral/\(id)")
                stats.errors += 1
            }
            return op
        case 6:
            op =
                #"{"execute":"human-monitor-command","arguments":{"command-line":"drive_add 0 if=none,id=dr\#(n),file=null-co://,format=raw"}}"#
        case 7:
            op = #"{"execute":"human-monitor-command","arguments":{"command-line":"drive_del dr\#(n)"}}"#
        case 8:
            op =
                #"{"execute":"human-monitor-command","arguments":{"command-line":"\#(pick(["info block", "info block -n", "info pci", "info status", "bogus"]))"}}"#
        default:
            let target =
                live.isEmpty ? "nope" : pick(live.sorted()).split(separator: "/").last.map(String.init) ?? "nope"
            op = #"{"execute":"human-monitor-command","arguments":{"command-line":"device_del \#(target)"}}"#
        }
        if send(monitor, op).contains(where: { $0.hasPrefix(#"{"error""#) || $0.contains("Error: ") }) {
            stats.errors += 1
        }
        return op
    }

    /// Chardevs, virtio-serial controllers with their ports and consoles, `getfd` names, and the vhost
    /// devices on them (the host side simulated: a socket chardev stands for a vhost-user backend).
    mutating func randomSerialAndVhostStep() -> String {
        let n = 1 + rng.next() % 4
        let op: String
        switch rng.next() % 11 {
        case 0, 10:
            let backend =
                rng.next() % 2 == 0
                ? #"{"type":"null","data":{}}"#
                : #"{"type":"socket","data":{"addr":{"type":"unix","data":{"path":"/chaos/c\#(n)"}},"server":false}}"#
            op = #"{"execute":"chardev-add","arguments":{"id":"c\#(n)","backend":\#(backend)}}"#
        case 1:
            op = #"{"execute":"chardev-remove","arguments":{"id":"c\#(n)"}}"#
        case 2:
            op = #"{"execute":"getfd","arguments":{"fdname":"vfd\#(n)"}}"#
        case 3:
            op = #"{"execute":"closefd","arguments":{"fdname":"vfd\#(n)"}}"#
        default:
            idCounter += 1
            let id = "d\(idCounter)"
            let chardev = pick(["c\(n)", "c\(n)", "c\(n)", "nope"])
            let arguments: String
            switch rng.next() % 8 {
            case 0, 1:
                let ports = pick([1, 2, 31])
                arguments = #""driver":"virtio-serial-pci","max_ports":\#(ports),\#(randomPlace())"#
            case 2, 3, 4:
                // A port on the first virtio-serial bus found, or on a named one (`ID.0`); with a
                // chardev or without (a port needs none).
                let buses = live.filter { $0.contains("/vs") }.map {
                    $0.split(separator: "/").last.map(String.init) ?? ""
                }
                let bus = buses.isEmpty || rng.next() % 2 == 0 ? "" : #","bus":"\#(pick(buses.sorted())).0""#
                let driver = pick(["virtserialport", "virtconsole"])
                let link = rng.next() % 3 == 0 ? "" : #","chardev":"\#(chardev)""#
                arguments = #""driver":"\#(driver)"\#(link)\#(bus)"#
            case 5:
                let fd = rng.next() % 2 == 0 ? #","vhostfd":"vfd\#(n)""# : ""
                let cid = pick([2, 3, 4, 5])
                arguments = #""driver":"vhost-vsock-pci","guest-cid":\#(cid)\#(fd),\#(randomPlace())"#
            case 6:
                arguments = #""driver":"vhost-user-blk-pci","chardev":"\#(chardev)",\#(randomPlace())"#
            default:
                arguments = #""driver":"vhost-user-fs-pci","chardev":"\#(chardev)","tag":"t\#(n)",\#(randomPlace())"#
            }
            // virtio-serial controllers are named vsN, so that ports can find their buses.
            let name = arguments.hasPrefix(#""driver":"virtio-serial-pci""#) ? "vs\(idCounter)" : id
            op = #"{"execute":"device_add","arguments":{\#(arguments),"id":"\#(name)"}}"#
            live.insert("/machine/peripheral/\(name)")
            if send(monitor, op).contains(where: { $0.hasPrefix(#"{"return""#) }) {
                stats.added += 1
                if arguments.contains(#""driver":"virt"#) && !arguments.contains("virtio-serial-pci") {
                    stats.ports += 1
                }
                if arguments.contains(#""driver":"vhost-"#) { stats.vhost += 1 }
            } else {
                live.remove("/machine/peripheral/\(name)")
                stats.errors += 1
            }
            return op
        }
        if send(monitor, op).contains(where: { $0.hasPrefix(#"{"error""#) }) { stats.errors += 1 }
        return op
    }

    /// The ACPI world's views: CPUs and DIMMs as the client believes them, backends in use.
    mutating func checkACPIInvariants() -> String? {
        func query(_ command: String) -> [JSONValue] {
            Self.parse(send(monitor, #"{"execute":"\#(command)"}"#).first ?? "")?.objectValue?["return"]?.arrayValue
                ?? []
        }
        let believedCPUs = Set(live.filter { $0.hasPrefix("/machine/peripheral/cpu") })
        let fast = query("query-cpus-fast").compactMap { $0.objectValue?["qom-path"]?.stringValue }
        let boot = "/machine/unattached/device[0]"
        if Set(fast) != believedCPUs.union([boot]) || fast.count != believedCPUs.count + 1 {
            return "query-cpus-fast \(fast) vs CPUs \(believedCPUs.sorted()) and the boot CPU"
        }
        let hotpluggable = query("query-hotpluggable-cpus")
        let plugged = hotpluggable.compactMap { $0.objectValue?["qom-path"]?.stringValue }
        if hotpluggable.count != 4 || Set(plugged) != believedCPUs.union([boot]) || plugged.count != fast.count {
            return "query-hotpluggable-cpus \(plugged) (of \(hotpluggable.count)) vs CPUs \(believedCPUs.sorted())"
        }
        let believedDIMMs = Set(
            live.filter { $0.hasPrefix("/machine/peripheral/dimm") }.map {
                String($0.dropFirst("/machine/peripheral/".count))
            }
        )
        let memory = query("query-memory-devices").compactMap { $0.objectValue?["data"]?.objectValue }
        let memoryIDs = memory.compactMap { $0["id"]?.stringValue }
        if Set(memoryIDs) != believedDIMMs || memoryIDs.count != memory.count {
            return "query-memory-devices \(memoryIDs.sorted()) vs DIMMs \(believedDIMMs.sorted())"
        }
        for data in memory {
            guard let id = data["id"]?.stringValue, let memdev = dimmBackend[id] else { continue }
            if data["memdev"]?.stringValue != "/objects/\(memdev)" {
                return "query-memory-devices: \(id) maps \(data["memdev"]?.jsonText ?? "?"), not /objects/\(memdev)"
            }
        }
        // The backend of a live DIMM cannot be deleted.
        if let id = believedDIMMs.sorted().first, let memdev = dimmBackend[id] {
            let reply = send(monitor, #"{"execute":"object-del","arguments":{"id":"\#(memdev)"}}"#)
            if !reply.contains(where: { $0.hasPrefix(#"{"error""#) }) {
                memoryBackends.remove(memdev)
                return "object-del of \(memdev), used by the live \(id), answered \(reply)"
            }
        }
        return nil
    }

    /// Succeeds when `op` (a `device_add` of `id`) is answered with `return`; the id is known before the
    /// reply (the guest may already remove the device in the same turn).
    mutating func add(_ id: String, _ op: String) -> Bool {
        let path = "/machine/peripheral/\(id)"
        live.insert(path)
        if send(monitor, op).contains(where: { $0.hasPrefix(#"{"return""#) }) {
            stats.added += 1
            return true
        }
        live.remove(path)
        stats.errors += 1
        return false
    }

    /// The ids of the live devices whose id starts with `prefix`, sorted.
    func liveIDs(_ prefix: String) -> [String] {
        live.filter { $0.hasPrefix("/machine/peripheral/\(prefix)") }.map {
            String($0.dropFirst("/machine/peripheral/".count))
        }.sorted()
    }

    /// CPUs (valid and invalid topology ids, other models), memory backends and DIMMs, and their removal
    /// in every order (errors are expected and counted).
    mutating func randomACPIStep() -> String {
        let n = 1 + rng.next() % 5
        let op: String
        switch rng.next() % 12 {
        case 0, 1, 2:
            idCounter += 1
            let id = "cpu\(idCounter)"
            let driver =
                rng.next() % 8 == 0 ? pick(["max-x86_64-cpu", "Haswell-x86_64-cpu", "pc-dimm"]) : "qemu64-x86_64-cpu"
            var properties = ""
            // -smp 1,maxcpus=4 is one socket of 4 cores (QEMU prefers cores since 6.2).
            if rng.next() % 8 != 0 { properties += #","socket-id":\#(pick([0, 0, 0, 0, 1]))"# }
            if rng.next() % 8 != 0 { properties += #","core-id":\#(pick([0, 1, 2, 3, 3, 4]))"# }
            if rng.next() % 8 != 0 { properties += #","thread-id":\#(pick([0, 0, 0, 1]))"# }
            if rng.next() % 16 == 0 { properties += #","apic-id":\#(pick([0, 1, 2, 3, 9]))"# }
            if rng.next() % 32 == 0 { properties += #","bus":"\#(pick(ports))""# }
            op = #"{"execute":"device_add","arguments":{"driver":"\#(driver)","id":"\#(id)"\#(properties)}}"#
            if add(id, op), driver == "qemu64-x86_64-cpu" { stats.cpus += 1 }
            return op
        case 3, 4:
            let cpus = liveIDs("cpu")
            let target = cpus.isEmpty || rng.next() % 6 == 0 ? "nope" : pick(cpus)
            op = #"{"execute":"device_del","arguments":{"id":"\#(target)"}}"#
        case 5, 6:
            let size = pick([128 << 20, 256 << 20, 2 << 20, 3 << 20, 1 << 30, 4 << 30])
            op =
                #"{"execute":"object-add","arguments":{"qom-type":"memory-backend-ram","id":"m\#(n)","size":\#(size)}}"#
            if send(monitor, op).contains(where: { $0.hasPrefix(#"{"return""#) }) {
                memoryBackends.insert("m\(n)")
            } else {
                stats.errors += 1
            }
            return op
        case 7, 8:
            idCounter += 1
            let id = "dimm\(idCounter)"
            // Mostly a backend believed free, else any name (maybe busy, unknown or missing).
            let inUse = Set(dimmBackend.filter { live.contains("/machine/peripheral/\($0.key)") }.values)
            let free = memoryBackends.subtracting(inUse).sorted()
            let memdev = !free.isEmpty && rng.next() % 4 != 0 ? pick(free) : pick(["m\(n)", "m\(n)", "nope"])
            let slot = rng.next() % 4 == 0 ? #","slot":\#(rng.next() % 5)"# : ""
            op =
                #"{"execute":"device_add","arguments":{"driver":"pc-dimm","id":"\#(id)","memdev":"\#(memdev)"\#(slot)}}"#
            dimmBackend[id] = memdev
            if add(id, op) {
                stats.dimms += 1
            } else {
                dimmBackend[id] = nil
            }
            return op
        case 9, 10:
            let dimms = liveIDs("dimm")
            let target = dimms.isEmpty || rng.next() % 6 == 0 ? "nope" : pick(dimms)
            op = #"{"execute":"device_del","arguments":{"id":"\#(target)"}}"#
        default:
            let id = "m\(n)"
            let users = dimmBackend.filter { $0.value == id && live.contains("/machine/peripheral/\($0.key)") }
            op = #"{"execute":"object-del","arguments":{"id":"\#(id)"}}"#
            if send(monitor, op).contains(where: { $0.hasPrefix(#"{"return""#) }) {
                if !users.isEmpty {
                    lastProblem = "object-del of \(id) succeeded under the live \(users.keys.sorted())"
                }
                memoryBackends.remove(id)
            } else {
                stats.errors += 1
            }
            return op
        }
        if send(monitor, op).contains(where: { $0.hasPrefix(#"{"error""#) }) { stats.errors += 1 }
        return op
    }

    /// Guest register accesses through the control plane: I/O ports of every size in, around and far
    /// from the ACPI blocks (GPE0, PCI, CPU, memory), and the LPC's PMBASE and ACPI_EN.
    mutating func randomIOStep() -> String {
        stats.io += 1
        let size = pick([1, 2, 4])
        let op: String
        switch rng.next() % 8 {
        case 0, 1:
            let offset = pick([0x40, 0x40, 0x44, 0x44, 0x42, 0x45, 0x48])
            let value = pick([0x600, 0x601, 0x80, 0, 0xFF, 0xFFFF_FFFF, Int(rng.next() % 0x1_0000_0000)])
            let verb = rng.next() % 3 == 0 ? "guest-read" : "guest-write"
            let written = verb == "guest-write" ? #","value":\#(value)"# : ""
            op =
                #"{"execute":"\#(verb)","arguments":{"config":"00:1f.0","offset":\#(offset),"size":\#(size)\#(written)}}"#
        default:
            let blocks = [(0x620, 0x630), (0xCC0, 0xCD8), (0xCD8, 0xCF8), (0xA00, 0xA18)]
            let block = pick(blocks)
            let port =
                rng.next() % 8 == 0
                ? Int(rng.next() % 0x1_0000) : block.0 - 4 + Int(rng.next() % UInt64(block.1 - block.0 + 8))
            let value = pick([
                0, 1, 2, 3, 4, 8, 0xFF, 0xFFFF_FFFF, Int(rng.next() % 0x1_0000_0000), Int(rng.next() % 8),
            ])
            if rng.next() % 3 == 0 {
                op = #"{"execute":"guest-read","arguments":{"port":\#(port),"size":\#(size)}}"#
            } else {
                op = #"{"execute":"guest-write","arguments":{"port":\#(port),"size":\#(size),"value":\#(value)}}"#
            }
        }
        _ = send(control, op)
        return op
    }

    /// Where a PCI device goes: a root port, or a slot of the SHPC bridge (room for several).
    mutating func randomPlace() -> String {
        rng.next() % 2 == 0
            ? #""bus":"\#(pick(ports))""# : #""bus":"pci.7","addr":"\#(String(1 + rng.next() % 31, radix: 16))""#
    }

    /// Every user device: the PCI tree, and the devices on the buses of controllers (virtio-serial's
    /// ports), which are no PCI functions.
    static func userDevices(_ machine: Machine) -> [Device] {
        var devices: [Device] = []
        for device in machine.allDevices where device.path.hasPrefix("/machine/peripheral") {
            devices.append(device)
            devices += device.childBus?.children ?? []
        }
        return devices
    }

    /// The invariants; nil when they hold.
    mutating func checkInvariants() -> String? {
        if let problem = lastProblem { return problem }
        let machine = core.machine
        // Every device that is gone produced its DEVICE_DELETED; nothing exists that the client does not know.
        let devices = Self.userDevices(machine)
        // CPUs and DIMMs are user devices outside the PCI tree.
        let cpuPaths = Set(machine.presentCPUs.map(\.device.path).filter { $0.hasPrefix("/machine/peripheral") })
        let dimmIDs = Set(machine.memoryHotplug.dimms.compactMap(\.id))
        let actual = Set(devices.map(\.path)).union(cpuPaths).union(machine.memoryHotplug.dimms.map(\.path))
        if actual != live {
            return
                "devices \(actual.subtracting(live).sorted()) exist silently; \(live.subtracting(actual).sorted()) vanished without DEVICE_DELETED"
        }
        // An id stays taken until its DEVICE_DELETED.
        if let path = live.first(where: { $0.hasPrefix("/machine/peripheral/") }) {
            let id = String(path.dropFirst("/machine/peripheral/".count))
            let reply = send(
                monitor,
                #"{"execute":"device_add","arguments":{"driver":"pci-testdev","id":"\#(id)","bus":"\#(ports[0])"}}"#
            )
            if reply != [#"{"error": {"class": "GenericError", "desc": "Duplicate device ID '\#(id)'"}}"#] {
                return "device_add of live id \(id) answered \(reply)"
            }
        }
        // query-pci, qom-list, machine-state and x-query-hotplug agree.
        let qomNames = Set(
            (Self.parse(
                send(monitor, #"{"execute":"qom-list","arguments":{"path":"/machine/peripheral"}}"#).first ?? ""
            )?
            .objectValue?["return"]?.arrayValue ?? []).compactMap { $0.objectValue?["name"]?.stringValue }.filter {
                $0 != "type"
            }
        )
        let allIDs = Set(
            live.filter { $0.hasPrefix("/machine/peripheral/") }.map {
                String($0.dropFirst("/machine/peripheral/".count))
            }
        )
        if qomNames != allIDs { return "qom-list \(qomNames.sorted()) vs devices \(allIDs.sorted())" }
        // query-pci and machine-state list the PCI functions (not the ports on virtio-serial buses).
        let ids = Set(machine.allDevices.compactMap { $0.path.hasPrefix("/machine/peripheral/") ? $0.id : nil })
        var pciIDs: Set<String> = []
        func walk(_ devices: [JSONValue]) {
            for d in devices {
                if let id = d.objectValue?["qdev_id"]?.stringValue, !id.isEmpty { pciIDs.insert(id) }
                walk(d.objectValue?["pci_bridge"]?.objectValue?["devices"]?.arrayValue ?? [])
            }
        }
        let pci =
            Self.parse(send(monitor, #"{"execute":"query-pci"}"#).first ?? "")?.objectValue?["return"]?.arrayValue ?? []
        for bus in pci { walk(bus.objectValue?["devices"]?.arrayValue ?? []) }
        if pciIDs != ids { return "query-pci \(pciIDs.sorted()) vs devices \(ids.sorted())" }
        let stateIDs = Set(
            MachineStateView.render(core).objectValue?["devices"]?.arrayValue?.compactMap {
                $0.objectValue?["id"]?.stringValue
            } ?? []
        )
        // machine-state lists the DIMMs too (CPUs have their own member).
        if stateIDs != ids.union(dimmIDs) {
            return "machine-state \(stateIDs.sorted()) vs devices \(ids.union(dimmIDs).sorted())"
        }
        if acpi, let problem = checkACPIInvariants() { return problem }
        // Backends name only live devices, and every live disk holds its backend.
        let blocks =
            Self.parse(send(monitor, #"{"execute":"query-block"}"#).first ?? "")?.objectValue?["return"]?.arrayValue
            ?? []
        let holders = Set(
            blocks.compactMap { $0.objectValue?["qdev"]?.stringValue }.map {
                $0.hasSuffix("/virtio-backend") ? String($0.dropLast("/virtio-backend".count)) : $0
            }
        )
        if !holders.isSubset(of: live) {
            return "query-block names devices that are gone: \(holders.subtracting(live).sorted())"
        }
        for device in machine.allDevices where device.links.contains(where: { $0.kind == .block }) {
            if !holders.contains(device.path) { return "\(device.path) holds a drive query-block does not show" }
        }
        // Chardevs: held exactly by the live devices that name them (the monitors' own aside).
        let held = Set(machine.chardevs.chardevs.filter { $0.isBusy && $0.holder != "monitor" }.map(\.id))
        let named = Set(devices.flatMap { $0.links.filter { $0.kind == .chardev }.map(\.name) })
        if held != named { return "chardevs held \(held.sorted()) but devices name \(named.sorted())" }
        // Descriptors: each handed out once, given back at most once, and the rest held by the
        // table (getfd names) or a live device (vhostfd); none for a deleted device.
        if let problem = sink.problem { return problem }
        if sink.handedOut != sink.released.count + machine.descriptors.count {
            return
                "descriptors: handed out \(sink.handedOut), released \(sink.released.count), held \(machine.descriptors.count)"
        }
        let byDevices = devices.reduce(0) { $0 + $1.descriptors.count }
        if machine.descriptors.heldByBackends != byDevices {
            return "\(machine.descriptors.heldByBackends) descriptors held by backends, \(byDevices) by live devices"
        }
        for device in machine.allDevices where device.id != nil && device.model.kind == .endpoint {
            guard let id = device.id else { continue }
            let reply = send(monitor, #"{"execute":"x-query-hotplug","arguments":{"id":"\#(id)"}}"#).first ?? ""
            let info = Self.parse(reply)?.objectValue?["return"]?.objectValue
            if let info, info["device-on"]?.boolValue != turnedOn.contains(device.path) {
                return
                    "x-query-hotplug \(id): device-on \(info["device-on"]?.jsonText ?? "?") but X_DEVICE_ON seen: \(turnedOn.contains(device.path))"
            }
        }
        return lastProblem
    }
}
