import FuzzSupport
import GuestSim
import SimulatedMachine
import QMPWire

// libFuzzer target: the machine and the Linux guest driven by a decoded stream of operations:
// device_add/device_del with fuzzed arguments (and drive=/netdev=/chardev= links), register writes,
// SHPC commands, clock steps, resets, persona switches, and the backend operations: getfd/closefd,
// add-fd/remove-fd, monitor clients leaving and coming back, blockdev-add/blockdev-del (null-co, raw,
// file over a fake host, /dev/fdset/N), netdev_add/netdev_del (user, hubport, tap with named
// descriptors), chardev-add/chardev-remove (null, ringbuf, and socket/file/pty over a fake host);
// and ACPI: guest I/O-port reads and writes of 1, 2 or 4 bytes in, around and far from the ACPI
// blocks, LPC configuration writes (PMBASE, ACPI_EN), CPU device_add, memory backends (object-add,
// object-del) and pc-dimm device_add; device_del takes CPUs and DIMMs too.
//
// The board comes from the input's length: its length modulo 3 picks the profile, its length / 3
// modulo 3 the board: the standard configuration with native PCI hot-plug (its global), or the same
// devices on an ACPI board (no global: ACPI PCI hot-plug; `-smp 1,maxcpus=4`, `-m 512M,slots=4,maxmem=4G`)
// under KVM or under TCG (an ejected CPU then sends only its `lapic`'s DEVICE_DELETED); its length / 9
// modulo 4 whether the guest has booted (1, 2, 3) or boots while the input runs (0).
//
// Invariants, checked after every operation:
// - every removed device got exactly one DEVICE_DELETED, no event names an unknown device, and
//   X_DEVICE_ON comes at most once per device; ACPI_DEVICE_OST names only a present device;
// - the machine's CPUs and DIMMs are the ones the events leave (CPUs believed present = the
//   present CPUs, DIMMs = `query-memory-devices`), and object-del of a live DIMM's backend is refused;
// - no link of a live device points at a deleted backend (a drive/node, a netdev (or the orphan of
//   one deleted under its NIC), a chardev);
// - every descriptor handed to the machine is released at most once, and only one it was given;
//   handed out = released + held (``DescriptorTable/count``);
// - every chardev handle the host opened is closed at most once.
// At the end of each input everything is taken down (devices, backends, names, fd sets, monitor
// clients); once no device holds a backend any more, every descriptor has been released exactly
// once and every chardev handle closed.
//
// Bounded work per input: at most `maxOperations` operations, clock steps of at most 12.75 s, and a
// teardown of at most 3 rounds of 8 steps. Made once per process: the profiles, the cold-plugged
// machines (one per profile and board), the set of cold-plugged devices, the fake block host. Per
// input: a copy of the machine with its guest booted, or (one input in four) of the cold-plugged
// machine with a guest that boots during the input (docs/fuzzing.md has what that costs).

@_cdecl("fuzz_machine_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzOne)
}

final class Events: MachineEventSink {  // one per input, used on the fuzzing thread only
    var live: Set<String> = []
    var on: Set<String> = []
    /// Under TCG an ejected CPU sends only its `lapic`'s DEVICE_DELETED, which is then its removal.
    var tcg = false
    func emit(_ event: MachineEvent) {
        if event.name == "ACPI_DEVICE_OST" {
            let device = event.data?["info"]?.objectValue?["device"]?.stringValue ?? ""
            let path = device.hasPrefix("/") ? device : "/machine/peripheral/\(device)"
            require(device.isEmpty || live.contains(path), "ACPI_DEVICE_OST for absent \(device)")
            return
        }
        let path = event.data?["path"]?.stringValue ?? ""
        // A device's own children (a virtio proxy's `virtio-backend`, pci-serial's `serial`, a CPU's
        // `lapic`) are deleted with it (or unrealized when its plug fails): their parent must be known.
        let components = path.split(separator: "/")
        if event.name == "DEVICE_DELETED", path.hasPrefix("/machine/peripheral/"), components.count > 3 {
            let owner = "/" + components.prefix(3).joined(separator: "/")
            require(live.contains(owner), "DEVICE_DELETED for \(path) of unknown \(owner)")
            if tcg, path.hasSuffix("/lapic") {
                live.remove(owner)
                on.remove(owner)
            }
            return
        }
        switch event.name {
        case "DEVICE_DELETED":
            require(live.remove(path) != nil, "DEVICE_DELETED for unknown \(path)")
            on.remove(path)
        case "X_DEVICE_ON":
            require(live.contains(path), "X_DEVICE_ON for unknown \(path)")
            require(on.insert(path).inserted, "second X_DEVICE_ON for \(path)")
        default: break
        }
    }
}

/// A chardev host that opens nothing: every socket, file and pty gets a fresh handle; each must be
/// closed once. Paths starting with "bad" fail as a missing directory would.
final class FakeChardevHost: ChardevHost {  // one per input, fuzzing thread only
    var nextHandle = 0
    var open: Set<Int> = []
    func open(_ backend: ChardevBackend) throws(QMPError) -> ChardevOpening {
        switch backend {
        case .socket(let path, _) where path.hasPrefix("bad"), .file(let path, _) where path.hasPrefix("bad"):
            throw .generic("Failed to open: No such file or directory")
        default: break
        }
        nextHandle += 1
        open.insert(nextHandle)
        if case .pty = backend { return ChardevOpening(handle: nextHandle, ptyPath: "/dev/pts/\(nextHandle)") }
        return ChardevOpening(handle: nextHandle)
    }
    func isConnected(_ handle: Int) -> Bool { handle % 2 == 0 }
    func close(_ handle: Int) { require(open.remove(handle) != nil, "chardev handle \(handle) closed twice") }
}

/// Files for `file` nodes: names starting with "img" exist (a raw image of 1 MiB), others do not.
/// Descriptors of fd sets are read-write when odd, read-only when even.
let fakeBlockHost = BlockHost(
    open: { path, _ in path.hasPrefix("img") ? .success(BlockHostFile(size: 1 << 20)) : .failure(.noSuchFile) },
    descriptorFlags: { fd in fd % 2 == 1 ? 2 : 0 },
    inspect: { _ in .success(BlockHostFile(size: 1 << 20)) }
)

/// The boards: the standard configuration (native PCI hot-plug), and its devices on an ACPI board
/// (ACPI PCI hot-plug, CPUs and DIMMs hot-pluggable) under KVM and under TCG.
let configurations: [MachineConfiguration] = [.standard] + [Accelerator.kvm, .tcg].map { accel in
    var configuration = MachineConfiguration.standard
    configuration.board = BoardOptions(
        accel: accel,
        smp: SMPOptions(cpus: 1, maxcpus: 4),
        memory: MemoryOptions(size: 512 << 20, slots: 4, maxmem: 4 << 30)
    )
    return configuration
}
/// The user devices of the standard configuration (root ports, the SHPC bridge, the disk), the same
/// in every profile and on every board: computed once per process, not walked per input.
let coldPlugged = Set(prototypes[0].machine.allDevices.map(\.path).filter { $0.hasPrefix("/machine/peripheral") })
let profiles = ["7.2.0", "8.2.0", "10.0.0"].compactMap { QEMUProfile($0, package: "fuzz") }
/// Every board in every profile, built once (board-major): each input starts from copies
/// (`Machine.copy`, `GuestOS.copy`, which tests check against freshly built ones) instead of building
/// the machine and booting the guest again. Three inputs in four get a copy of the machine with its
/// guest booted (the clock advanced until no timer is armed); the fourth a copy of the cold-plugged
/// machine with a new guest that boots while the input runs (hot-plug before the drivers probe).
/// The fuzzing thread only.
struct Prototype {
    /// Cold-plugged, no guest.
    let machine: Machine
    /// Cold-plugged, its guest booted and idle.
    let booted: Machine
    let guest: GuestOS
}

nonisolated(unsafe) let prototypes: [Prototype] = configurations.flatMap { configuration in
    profiles.map { profile in
        func make(_ clock: @escaping () -> Int64) -> Machine {
            let machine = Machine(
                profile: profile,
                startPaused: false,
                machineType: configuration.machineType,
                board: configuration.board,
                hostClock: clock
            )
            try? machine.coldPlug(configuration)
            return machine
        }
        let host = ManualHostClock()
        let booted = make { host.nanoseconds }
        let guest = GuestOS(machine: booted)
        booted.runDueTimers()
        booted.advance(host: host, by: 10_000_000_000)
        require(booted.armedTimerCount == 0, "the guest is not idle after boot")
        return Prototype(machine: make { 0 }, booted: booted, guest: guest)
    }
}
let drivers = [
    "virtio-net-pci", "e1000e", "virtio-rng-pci", "pci-testdev", "e1000", "pcie-pci-bridge", "pci-bridge", "nope",
    "virtio-blk-pci", "pci-serial",
]
let buses = ["pci.1", "pci.2", "pci.3", "pci.4", "pci.5", "pci.7", "pci.8", "pcie.0", "zz"]
let personas = ["linux", "never-ack", "manual", "cancel-on-second-press"]
/// Controllers a persona is set for: root ports, and the ACPI side.
let personaControllers = ["pci.1", "pci.2", "pci.3", "pci.4", "pci.5", "acpi"]
let monitors = ["/run/qmp.sock", "/run/other.sock"]
let fdNames = ["fd0", "fd1", "fd2", "9x"]
let nodeNames = ["n0", "n1", "n2", "libvirt-1-format", "libvirt-1-storage"]
let netdevIDs = ["net0", "net1", "net2", "bad id"]
let chardevIDs = ["c0", "c1", "c2"]
let memoryBackendIDs = ["mem0", "mem1", "mem2"]
let memorySizes: [Int64] = [128 << 20, 256 << 20, 2 << 20, 3 << 20, 1 << 30, 4 << 30, 0]
let cpuModels = ["qemu64-x86_64-cpu", "qemu64-x86_64-cpu", "qemu64-x86_64-cpu", "max-x86_64-cpu", "pc-dimm"]
/// Ports of the ACPI blocks on q35 (GPE0 at the firmware's PMBASE, PCI, CPU, memory), [start, end).
let acpiBlocks: [(Int, Int)] = [(0x620, 0x630), (0xCC0, 0xCD8), (0xCD8, 0xCF8), (0xA00, 0xA18)]
/// Each input is cut off after this many operations (a 4 KiB input could otherwise ask for 4,096).
let maxOperations = 96

func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let host = ManualHostClock()
    let board = size / profiles.count % configurations.count
    let configuration = configurations[board]
    let prototype = prototypes[board * profiles.count + size % profiles.count]
    let boots = size / (profiles.count * configurations.count) % 4 == 0
    let machine = (boots ? prototype.machine : prototype.booted).copy { host.nanoseconds }
    let events = Events()
    events.tcg = configuration.board.accel == .tcg
    let fds = FakeDescriptors()
    let chardevHost = FakeChardevHost()
    machine.sink = events
    machine.descriptors.release = { fds.release($0) }
    machine.blockHost = fakeBlockHost
    machine.chardevs.host = chardevHost
    events.live = coldPlugged
    let guest = boots ? GuestOS(machine: machine) : prototype.guest.copy(onto: machine)
    machine.monitorClientOpened(on: "fuzz")
    var clients = 1
    var i = 0
    func byte() -> Int {
        defer { i += 1 }
        return i < size ? Int(data[i]) : 0
    }
    var counter = 0
    var operations = 0
    /// The backend each DIMM was added with, by path.
    var dimmBackends: [String: String] = [:]
    while i < size && operations < maxOperations {
        operations += 1
        switch byte() % 24 {
        case 0, 1:
            counter += 1
            let id = "f\(counter)"
            var args: JSONObject = ["driver": .string(drivers[byte() % drivers.count]), "id": .string(id)]
            if byte() % 4 != 0 { args["bus"] = .string(buses[byte() % buses.count]) }
            if byte() % 2 == 0 { args["addr"] = .string(String(byte() % 40, radix: 16)) }
            if byte() % 5 == 0 { args["chassis_nr"] = .int(Int64(byte())) }
            switch byte() % 5 {
            case 0: args["drive"] = .string(nodeNames[byte() % nodeNames.count])
            case 1: args["netdev"] = .string(netdevIDs[byte() % netdevIDs.count])
            case 2: args["chardev"] = .string(chardevIDs[byte() % chardevIDs.count])
            default: break
            }
            let path = "/machine/peripheral/\(id)"
            events.live.insert(path)
            do { try machine.deviceAdd(args) } catch { events.live.remove(path) }
            machine.flushDeferredEvents()
        case 2:
            let all = events.live.sorted()
            if !all.isEmpty {
                let id = deviceID(all[byte() % all.count])
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
        case 7:
            try? guest.setPersona(
                (try? GuestPersona.parse(name: personas[byte() % personas.count])) ?? .linux,
                controller: byte() % 2 == 0 ? nil : personaControllers[byte() % personaControllers.count]
            )
        case 8:
            try? machine.getfd(name: fdNames[byte() % fdNames.count], fd: fds.take(), monitor: monitors[byte() % 2])
        case 9:
            try? machine.closefd(name: fdNames[byte() % fdNames.count], monitor: monitors[byte() % 2])
        case 10:
            let set = byte() % 5
            _ = try? machine.addFD(fds.take(), fdsetID: set == 4 ? nil : Int64(set) - 1, opaque: nil)
        case 11:
            let set = Int64(byte() % 4)
            let member = byte()
            let fd = member % 3 == 0 ? nil : machine.descriptors.fdsets.first { $0.id == set }?.members.first.map {
                Int64($0.fd)
            }
            try? machine.removeFD(fdsetID: set, fd: member % 3 == 2 ? 77 : fd)
        case 12:
            // A monitor client leaves (QEMU up to 9.0 may empty unused fd sets) or comes back.
            if byte() % 2 == 0, clients > 0 {
                clients -= 1
                machine.monitorClientClosed(on: "fuzz")
            } else {
                clients += 1
                machine.monitorClientOpened(on: "fuzz")
            }
        case 13:
            let name = nodeNames[byte() % 3]
            var args: JSONObject = ["node-name": .string(name)]
            switch byte() % 5 {
            case 0: args["driver"] = .string("null-co")
            case 1:
                args["driver"] = .string("raw")
                args["file"] = .string(nodeNames[byte() % nodeNames.count])
            case 2:
                args["driver"] = .string("file")
                args["filename"] = .string(["img0", "missing", "/dev/fdset/0", "/dev/fdset/1"][byte() % 4])
                if byte() % 2 == 0 { args["read-only"] = .bool(true) }
            case 3:
                args["driver"] = .string("raw")
                args["file"] = .object(["driver": .string("null-co"), "node-name": .string(nodeNames[byte() % 3])])
            default:
                args["driver"] = .string(["qcow2", "nope", "null-co"][byte() % 3])
                args["size"] = .int(Int64(byte()) << 20)
            }
            try? machine.blockdevAdd(args)
        case 14:
            try? machine.blockdevDel(nodeName: nodeNames[byte() % nodeNames.count])
        case 15:
            let id = netdevIDs[byte() % netdevIDs.count]
            let monitor = monitors[byte() % 2]
            var args: JSONObject = ["id": .string(id)]
            switch byte() % 5 {
            case 0: args["type"] = .string("user")
            case 1:
                args["type"] = .string("tap")
                args["fd"] = .string(fdNames[byte() % fdNames.count])
            case 2:
                args["type"] = .string("tap")
                args["fds"] = .string("\(fdNames[byte() % 3]):\(fdNames[byte() % 3])")
                if byte() % 2 == 0 { args["vhostfds"] = .string(fdNames[byte() % 3]) }
            case 3:
                args["type"] = .string("tap")
                args["fd"] = .string(fdNames[byte() % 3])
                args["vhostfd"] = .string(fdNames[byte() % fdNames.count])
            default:
                args["type"] = .string("hubport")
                args["hubid"] = .int(Int64(byte() % 3))
            }
            try? machine.netdevAdd(args, monitor: monitor)
        case 16:
            try? machine.netdevDel(id: netdevIDs[byte() % netdevIDs.count])
        case 17:
            let backend: JSONObject
            switch byte() % 6 {
            case 0: backend = ["type": "null", "data": .object([:])]
            case 1: backend = ["type": "ringbuf", "data": ["size": .int(Int64(byte() * 16))]]
            case 2:
                let path = ["s0", "bad/s1"][byte() % 2]
                backend = [
                    "type": "socket",
                    "data": ["addr": ["type": "unix", "data": ["path": .string(path)]], "server": .bool(byte() % 2 == 0)],
                ]
            case 3: backend = ["type": "file", "data": ["out": .string(["out0", "bad/out"][byte() % 2])]]
            case 4: backend = ["type": "pty", "data": .object([:])]
            default: backend = ["type": "memory", "data": .object([:])]
            }
            _ = try? machine.chardevAdd(id: chardevIDs[byte() % chardevIDs.count], backend: .object(backend))
        case 18:
            try? machine.chardevRemove(id: chardevIDs[byte() % chardevIDs.count])
        case 19:
            // A guest I/O-port access: in or around an ACPI block, or anywhere.
            let block = acpiBlocks[byte() % acpiBlocks.count]
            let place = byte()
            let port = place % 8 == 0 ? (byte() << 8 | byte()) : block.0 - 4 + place % (block.1 - block.0 + 8)
            let accessSize = [1, 2, 4][byte() % 3]
            if byte() % 3 == 0 {
                _ = machine.ioRead(port: UInt16(truncatingIfNeeded: port), size: accessSize)
            } else {
                let value = UInt32(byte()) | UInt32(byte() % 4 == 0 ? byte() << 8 | byte() << 24 : 0)
                machine.ioWrite(port: UInt16(truncatingIfNeeded: port), size: accessSize, value: value)
            }
            machine.flushDeferredEvents()
        case 20:
            // The LPC bridge's configuration (PMBASE, ACPI_CNTL and their neighbours) or another function's.
            let offset = [0x40, 0x44, 0x40, 0x44, 0x41, 0x42, 0x45, 0x47, 0x48, 0x3C, 0][byte() % 11]
            let accessSize = [1, 2, 4][byte() % 3]
            let slot = byte() % 4 == 0 ? byte() % 32 : 0x1F
            let value = [0x600, 0x80, 0, 0xFFFF_FFFF, 0xCA0, 0x601][byte() % 6]
            if byte() % 4 == 0 {
                _ = machine.configRead(bus: 0, slot: slot, function: 0, offset: offset, size: accessSize)
            } else {
                machine.configWrite(bus: 0, slot: slot, function: 0, offset: offset, size: accessSize, value: UInt32(value))
            }
        case 21:
            // A CPU: topology ids valid and not, other models, a bus.
            counter += 1
            let id = "f\(counter)"
            var args: JSONObject = ["driver": .string(cpuModels[byte() % cpuModels.count]), "id": .string(id)]
            let present = byte()
            if present & 1 != 0 { args["socket-id"] = .int(Int64(byte() % 6)) }
            if present & 2 != 0 { args["core-id"] = .int(Int64(byte() % 3)) }
            if present & 4 != 0 { args["thread-id"] = .int(Int64(byte() % 3)) }
            if present & 8 != 0 { args["apic-id"] = .int(Int64(byte() % 10)) }
            if present & 16 != 0 { args["node-id"] = .int(Int64(byte() % 2)) }
            if present & 32 != 0 { args["bus"] = .string(buses[byte() % buses.count]) }
            let path = "/machine/peripheral/\(id)"
            events.live.insert(path)
            do { try machine.deviceAdd(args) } catch { events.live.remove(path) }
            machine.flushDeferredEvents()
        case 22:
            // A memory backend, or its deletion (refused while a DIMM the events leave live maps it).
            let id = memoryBackendIDs[byte() % memoryBackendIDs.count]
            if byte() % 3 == 0 {
                let deleted = (try? machine.objectDel(id: id)) != nil
                let users = dimmBackends.filter { $0.value == id && events.live.contains($0.key) }
                require(!deleted || users.isEmpty, "object-del of \(id) succeeded under \(users.keys.sorted())")
            } else {
                let kind = ["memory-backend-ram", "memory-backend-ram", "memory-backend-memfd", "iothread"][byte() % 4]
                var args: JSONObject = ["qom-type": .string(kind), "id": .string(id)]
                if kind != "iothread" { args["size"] = .int(memorySizes[byte() % memorySizes.count]) }
                try? machine.objectAdd(args)
            }
        default:
            // A DIMM: its backend (maybe unknown or busy), a slot, an address.
            counter += 1
            let id = "f\(counter)"
            let memdev = byte() % 8 == 0 ? "nope" : memoryBackendIDs[byte() % memoryBackendIDs.count]
            var args: JSONObject = ["driver": "pc-dimm", "id": .string(id), "memdev": .string(memdev)]
            let present = byte()
            if present & 1 != 0 { args["slot"] = .int(Int64(byte() % 6)) }
            if present & 2 != 0 { args["addr"] = .int(0x1_0000_0000 + Int64(byte()) << 21) }
            if present & 4 != 0 { args["node"] = .int(Int64(byte() % 2)) }
            let path = "/machine/peripheral/\(id)"
            events.live.insert(path)
            dimmBackends[path] = memdev
            do { try machine.deviceAdd(args) } catch {
                events.live.remove(path)
                dimmBackends[path] = nil
            }
            machine.flushDeferredEvents()
        }
        // Events held back inside an operation (system_reset completing ACPI PCI removals) reach the
        // monitors after it, as the server flushes them after every command.
        machine.flushDeferredEvents()
        machine.runDueTimers()
        check(machine, fds: fds, live: events.live)
    }
    let actual = userDevicePaths(machine)
    require(actual == events.live, "devices and events disagree: \(actual.symmetricDifference(events.live))")
    tearDown(machine, guest: guest, host: host, events: events, fds: fds, clients: clients)
    // The cold-plugged devices stay (their disk holds its own nodes, no descriptor): once every
    // device the input added is gone, so are all their links, and every descriptor is accounted for.
    if events.live.isSubset(of: coldPlugged) {
        // A multi-queue tap whose later queue failed stays, incomplete, with the queues it made (QEMU
        // keeps them and its netdev_del refuses: "Device 'ID' is not a netdev"): those are held for good.
        let kept = machine.netdevs.backends.values.filter(\.isIncomplete).reduce(0) { $0 + $1.descriptors.count }
        require(fds.released.count + kept == fds.handedOut, "\(fds.handedOut - fds.released.count - kept) descriptors leaked")
        require(machine.descriptors.count == kept, "the table counts \(machine.descriptors.count) descriptors, not \(kept)")
        require(chardevHost.open.isEmpty, "chardev handles never closed: \(chardevHost.open)")
    }
    return 0
}

/// Every user device: the PCI tree's, the present CPUs and the DIMMs.
func userDevicePaths(_ machine: Machine) -> Set<String> {
    var paths = Set(machine.allDevices.map(\.path).filter { $0.hasPrefix("/machine/peripheral") })
    for cpu in machine.presentCPUs where cpu.device.path.hasPrefix("/machine/peripheral") { paths.insert(cpu.device.path) }
    for dimm in machine.memoryHotplug.dimms { paths.insert(dimm.path) }
    return paths
}

let peripheralPrefix = "/machine/peripheral/"

/// The id in a `/machine/peripheral/ID` path, cut by bytes (`String.dropFirst` walks Characters).
func deviceID(_ path: String) -> String {
    String(decoding: path.utf8.dropFirst(peripheralPrefix.utf8.count), as: UTF8.self)
}

/// The invariants that hold after every operation, in one pass over the devices the events leave
/// live (each looked up once by id, not found by walking the PCI tree: that walk was a third of the
/// target's time, and a second pass for the CPUs and DIMMs a tenth):
/// - descriptors: handed out = released + held;
/// - no link of a live device points at a deleted backend;
/// - the CPUs and DIMMs are the ones the events leave (the present CPUs, `query-memory-devices`).
///   What the events leave live on no PCI bus is believed a CPU or DIMM; a device gone without its
///   event counts there too (and fails); the PCI tree itself is compared with the events at the end.
func check(_ machine: Machine, fds: FakeDescriptors, live: Set<String>) {
    fds.requireBalanced(held: machine.descriptors.count)
    var believed: Set<String> = []
    for path in live {
        guard let device = machine.device(id: deviceID(path)) else {
            believed.insert(path)
            continue
        }
        if device.parentBus == nil { believed.insert(path) }
        for link in device.links {
            switch link.kind {
            case .block:
                let backend = machine.block.backends.last { $0.isAttached && $0.linkName == link.name }
                require(
                    backend.map { $0.root.isEmpty || machine.block.node($0.root) != nil } ?? false,
                    "\(device.path) links drive '\(link.name)', which is gone"
                )
            case .netdev:
                // A netdev deleted under its NIC stays as an orphan under a key no id can take.
                require(
                    link.name.contains("#") || machine.netdevs.backends[link.name]?.inUse == true,
                    "\(device.path) links netdev '\(link.name)', which is gone"
                )
            case .chardev:
                require(machine.chardevs[link.name] != nil, "\(device.path) links chardev '\(link.name)', which is gone")
            case .object:
                break
            }
        }
    }
    let cpus = Set(machine.presentCPUs.map(\.device.path).filter { $0.hasPrefix("/machine/peripheral") })
    let dimms = Set(machine.memoryHotplug.dimms.map(\.path))
    require(cpus.union(dimms) == believed, "CPUs \(cpus) and DIMMs \(dimms), events leave \(believed)")
    let listed = machine.queryMemoryDevices().arrayValue?.count ?? -1
    require(listed == dimms.count, "query-memory-devices lists \(listed) DIMMs, not \(dimms.count)")
}

/// Takes everything down: devices (the guest answering as Linux does, the VM running), then every
/// backend, named descriptor, fd set and monitor client.
func tearDown(_ machine: Machine, guest: GuestOS, host: ManualHostClock, events: Events, fds: FakeDescriptors, clients: Int) {
    try? machine.cont()
    try? guest.setPersona(.linux)
    // Devices whose removal can start (cold-plugged root ports cannot), then time for the guest to
    // answer; a bridge's children go first, so a second round takes the bridge.
    for _ in 0..<3 {
        var started = false
        for path in events.live.subtracting(coldPlugged).sorted() {
            if (try? machine.deviceDel(deviceID(path))) != nil { started = true }
            machine.flushDeferredEvents()
        }
        var steps = 0
        // CPUs and DIMMs are not pending unplugs: give the guest's ACPI side time for them.
        if started, machine.board.memory.slots > 0 {
            machine.advance(host: host, by: 2_000_000_000)
            machine.runDueTimers()
        }
        while machine.pendingUnplugs().count > 0 && steps < 8 {
            machine.advance(host: host, by: 2_000_000_000)
            machine.runDueTimers()
            steps += 1
        }
        if !started { break }
    }
    check(machine, fds: fds, live: events.live)
    for id in machine.netdevs.order { try? machine.netdevDel(id: id) }
    for chardev in machine.chardevs.chardevs { try? machine.chardevRemove(id: chardev.id) }
    for id in memoryBackendIDs { try? machine.objectDel(id: id) }
    // Nodes: a parent before its child, so repeat while something goes.
    var progress = true
    while progress {
        progress = false
        for node in machine.block.nodes.reversed() where node.isMonitorOwned {
            if (try? machine.blockdevDel(nodeName: node.name)) != nil { progress = true }
        }
    }
    for monitor in monitors {
        for name in fdNames { try? machine.closefd(name: name, monitor: monitor) }
    }
    for set in machine.descriptors.fdsets { try? machine.removeFD(fdsetID: set.id, fd: nil) }
    for _ in 0..<clients { machine.monitorClientClosed(on: "fuzz") }
    check(machine, fds: fds, live: events.live)
}

/// libFuzzer's runtime references this symbol even when the driver is started through LLVMFuzzerRunDriver.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt { fuzzOne(data, size) }
