public import QMPWire

/// The simulated virtual machine: its run state, its PCI topology (buses, ports, bridges, devices)
/// and their hotplug controllers at register level.
///
/// Pure and deterministic: it reads time from its ``clock`` and sends events through ``sink``.
/// `device_add`, `device_del`, guest register accesses, `system_reset` and `x-query-hotplug` all act
/// on the controllers' registers (``PCIeSlot``, ``SHPCController``), as QEMU's code paths do.
/// Confined to one thread by its owner (the server's queue).
public final class Machine {
    /// The QEMU release being played.
    public let profile: QEMUProfile
    /// The VM name (`-name`), if any.
    public let name: String?
    /// The VM's UUID (`-uuid`), as `query-uuid` reports it: QEMU's all-zero one unless given.
    public var uuid = "00000000-0000-0000-0000-000000000000"
    /// What a guest shutdown does: end the process (QEMU's default; true) or stop the VM in the
    /// `shutdown` state (`-no-shutdown`, which libvirt always passes; false).
    public var exitsOnGuestShutdown = true
    /// Set when the guest shut down and ``exitsOnGuestShutdown`` asks the process to end; the server
    /// reads it on the `SHUTDOWN` event.
    public internal(set) var exitRequested = false
    public let machineType: MachineType
    /// The board's `-accel`, `-smp`, `-m` and `-global` options, as given.
    public let board: BoardOptions
    /// Which PCI hot-plug serves which bus (from the board's globals).
    public let pciHotplug: PCIHotplugSettings
    /// The ACPI PM function: GPE0, the SCI and (q35) the LPC registers that map them.
    public internal(set) var acpi: ACPIPowerManagement
    /// The ACPI PCI hot-plug register block (used when ``pciHotplug`` has one).
    public internal(set) var acpiPCI = ACPIPCIHotplug()
    /// The buses with an ACPI PCI hot-plug bus number (bsel), indexed by it.
    var acpiPCIBuses: [PCIBus] = []
    /// The ACPI CPU hot-plug interface.
    public internal(set) var cpuHotplug = ACPICPUHotplug()
    /// The CPU topology from the board's `-smp` (see ``CPUTopology``).
    public let cpuTopology: CPUTopology
    /// The vCPUs that exist, in the order they were plugged (see ``PresentCPU``).
    public internal(set) var presentCPUs: [PresentCPU] = []
    /// vCPU threads started so far (each plugged CPU gets the next ``PresentCPU/threadSerial``).
    var cpuThreadCount = 0
    /// The ACPI memory hot-plug register block (present with DIMM slots).
    public internal(set) var memoryHotplug = ACPIMemoryHotplug()
    /// The current run state.
    public internal(set) var runState: RunState
    /// Receives the events the machine raises. Not retained, and it must outlive the machine's use
    /// (the server core owns its machine). `unowned`, not `weak`: a weak reference gives the sink a
    /// side table, which sends every retain and release of it down the runtime's slow path, and the
    /// sink is the server core, touched for every session and event (callgrind: -6% instructions
    /// per hot-plug cycle, -13% per event delivered in a fan-out to 1,000 sessions).
    public unowned var sink: (any MachineEventSink)?
    /// The guest side: hot-plug interrupts and guest register writes. Not retained either, for
    /// the same reason; it must outlive the machine's use (the guest is attached to the core).
    public unowned var observer: (any MachineObserver)?
    var timers = MachineTimers()
    /// Virtual time: runs while the VM runs.
    public let clock: VirtualClock
    /// The device models `device_add` knows, as the profile's release has them.
    public private(set) var catalog: DeviceCatalog
    /// The root bus (`pcie.0` or `pci.0`).
    public let rootBus: PCIBus
    /// Descriptors passed by monitor clients (`getfd` names, fd sets); see ``DescriptorTable``.
    public var descriptors: DescriptorTable
    /// Network backends (`netdev_add`); see ``NetdevTable``.
    public internal(set) var netdevs = NetdevTable()
    /// The block layer: nodes and BlockBackends (see ``BlockLayer``).
    public internal(set) var block = BlockLayer()
    /// Answers the block layer's operating-system questions (see ``BlockHost``); the server sets it.
    public var blockHost = BlockHost.none
    /// Character devices (`chardev-add`, the monitors' own); see ``ChardevTable``.
    public var chardevs = ChardevTable()
    /// User-creatable objects under `/objects` (`object-add`, the built-in `pc.ram`); see ``ObjectTable``.
    public var objects = ObjectTable()
    /// Client connections open now per monitor (its socket path or label): the one count behind a
    /// monitor chardev's `disconnected:` filename and, summed (``monitorClientCount``), QEMU's
    /// `mon_refcount`, which the 7.2 fd-set clean-up reads.
    public internal(set) var monitorClients: [String: Int] = [:]

    var busesByName: [String: PCIBus] = [:]
    var peripheral: [String: Device] = [:]
    var anonymous: [Int: Device] = [:]
    var builtinDevices: [Device] = []
    private var anonymousBusCount = 0
    /// Automatic names of non-PCI buses, per bus type (QEMU's `BusClass.automatic_ids`: `scsi.0`).
    private var automaticBusIDs: [BusKind: Int] = [:]
    /// Changes whenever a hotplug controller or a device with a secondary bus joins or leaves the
    /// topology (``topologyChanged(by:)``). Endpoints do not change it: they change neither
    /// ``controllers`` nor what the guest's discovery finds, and one joins and leaves on every
    /// hot-plug cycle.
    public private(set) var controllerGeneration: UInt64 = 0
    /// ``controllers`` as of a controller generation.
    var controllerCache: (generation: UInt64, devices: [Device])?
    /// Events QEMU sends after the reply of the command that caused them (objects finalised later).
    private var deferredEvents: [MachineEvent] = []
    private var deferring = false

    /// Name of the machine's ISA bus (never hotpluggable).
    static let isaBusName = "isa.0"

    /// - Parameters:
    ///   - profile: the QEMU release to play.
    ///   - name: the VM name (`query-name`).
    ///   - startPaused: start in `prelaunch`, like QEMU's `-S`.
    ///   - machineType: q35 or pc; the machine starts with only its built-in devices (see ``coldPlug(_:)``).
    ///   - board: `-accel`, `-smp`, `-m` and `-global`; globals QEMU would refuse are refused by
    ///     ``coldPlug(_:)`` (the machine is made with QEMU's defaults for them).
    ///   - hostClock: nanoseconds of the time source behind the virtual clock.
    public init(
        profile: QEMUProfile,
        name: String? = nil,
        startPaused: Bool = false,
        machineType: MachineType = .q35,
        board: BoardOptions = BoardOptions(),
        hostClock: @escaping () -> Int64 = { 0 }
    ) {
        self.profile = profile
        catalog = DeviceCatalog.adjusted(for: profile)
        descriptors = DescriptorTable(cleanupFollowsRunState: profile.fdsetCleanupFollowsRunState)
        self.name = name
        self.machineType = machineType
        self.board = board
        pciHotplug = PCIHotplugSettings(lenient: machineType, board: board)
        acpi = ACPIPowerManagement(machineType: machineType)
        acpiPCI = ACPIPCIHotplug(isPIIXLegacy: pciHotplug.isPIIXLegacy)
        cpuTopology = CPUTopology(lenient: board.smp, machineType: machineType, profile: profile)
        cpuHotplug = ACPICPUHotplug(apicIDs: cpuTopology.possibleAPICIDs)
        memoryHotplug = ACPIMemoryHotplug(slots: min(board.memory.slots, MemoryMap.maximumSlots))
        self.runState = startPaused ? .prelaunch : .running
        self.clock = VirtualClock(host: hostClock)
        rootBus = PCIBus(name: machineType.rootBusName, isExpress: machineType.rootBusIsExpress, owner: nil)
        busesByName[rootBus.name] = rootBus
        for (index, f) in machineType.builtinFunctions.enumerated() {
            let model = DeviceModel(
                name: "builtin-\(f.description.lowercased().replacingSpaces())",
                isHotpluggable: false,
                isUserCreatable: false,
                vendorID: f.vendorID,
                deviceID: f.deviceID,
                classCode: f.classCode,
                subsystemVendorID: 0x1AF4,
                subsystemID: DeviceModel.defaultSubsystemID,
                classDescription: f.description,
                interruptPin: f.interruptPin
            )
            let path =
                index == 0
                ? (machineType == .q35 ? "/machine/q35/mch" : "/machine/i440fx/pci-host")
                : "/machine/unattached/device[\(index + cpuTopology.cpus)]"
            let device = Device(
                model: model,
                id: nil,
                anonymousIndex: nil,
                path: path,
                devfn: UInt8(f.slot << 3 | f.function),
                properties: [:],
                hotplugged: false
            )
            device.parentBus = rootBus
            rootBus.insert(device)
            builtinDevices.append(device)
        }
        plugColdCPUs()
        clock.setRunning(runState.isRunning)
        addBuiltinObjects()
        assignACPIBusSelectors()
    }

    /// A machine in exactly `self`'s state that goes its own way from now on: the same devices,
    /// buses, slot registers, backends, tables, run state and virtual time, every device and bus a
    /// copy of its own. What a test harness uses to build an expensive state once and start from it
    /// many times (the fuzz targets copy a cold-plugged machine for every input instead of building
    /// it again); `Tests/SimulatedMachineTests/MachineCopyTests.swift` checks that a copy answers as a
    /// freshly built machine does.
    ///
    /// What is not copied: the ``sink`` and the ``observer`` (the copy has none; attach a guest to
    /// it as to a new machine), and the time source (the copy's clock shows `self`'s time now and
    /// then moves with `hostClock`). The ``blockHost``, the chardev host and the descriptor release
    /// hook are shared, as values are.
    ///
    /// - Precondition: no timer is armed (a timer is a closure over its owner, which cannot be
    ///   re-pointed at a copy), no descriptor is held and no chardev has a host handle (each would
    ///   then belong to two machines and be released twice); no command is deferring events.
    public func copy(hostClock: @escaping () -> Int64) -> Machine {
        precondition(timers.count == 0, "Machine.copy: timers are armed")
        precondition(descriptors.count == 0, "Machine.copy: descriptors are held")
        precondition(chardevs.chardevs.allSatisfy { $0.handle == nil }, "Machine.copy: chardevs hold host handles")
        precondition(!deferring, "Machine.copy: a command is running")
        return Machine(copying: self, hostClock: hostClock)
    }

    /// Every stored property, in declaration order (see ``copy(hostClock:)``).
    private init(copying other: Machine, hostClock: @escaping () -> Int64) {
        let copier = MachineCopier()
        profile = other.profile
        name = other.name
        uuid = other.uuid
        exitsOnGuestShutdown = other.exitsOnGuestShutdown
        exitRequested = other.exitRequested
        machineType = other.machineType
        board = other.board
        pciHotplug = other.pciHotplug
        acpi = other.acpi
        acpiPCI = other.acpiPCI
        acpiPCIBuses = other.acpiPCIBuses.map(copier.bus)
        cpuHotplug = other.cpuHotplug
        cpuTopology = other.cpuTopology
        presentCPUs = other.presentCPUs.map {
            PresentCPU(index: $0.index, device: copier.device($0.device), threadSerial: $0.threadSerial)
        }
        cpuThreadCount = other.cpuThreadCount
        memoryHotplug = other.memoryHotplug
        runState = other.runState
        timers = other.timers
        clock = VirtualClock(copying: other.clock, host: hostClock)
        catalog = other.catalog
        rootBus = copier.bus(other.rootBus)
        descriptors = other.descriptors
        netdevs = other.netdevs
        block = other.block
        blockHost = other.blockHost
        chardevs = other.chardevs
        objects = other.objects
        monitorClients = other.monitorClients
        busesByName = other.busesByName.mapValues(copier.bus)
        peripheral = other.peripheral.mapValues(copier.device)
        anonymous = other.anonymous.mapValues(copier.device)
        builtinDevices = other.builtinDevices.map(copier.device)
        anonymousBusCount = other.anonymousBusCount
        automaticBusIDs = other.automaticBusIDs
        controllerGeneration = other.controllerGeneration
        controllerCache = nil
        deferredEvents = other.deferredEvents
        for device in copier.interruptSources {
            device.interruptHandler = { [unowned self] in controllerInterrupted($0) }
        }
    }

    func emit(_ event: MachineEvent) {
        if deferring { deferredEvents.append(event) } else { sink?.emit(event) }
    }

    /// Sends the events a command left for after its reply (`DEVICE_DELETED` of an immediate unplug).
    public func flushDeferredEvents() {
        guard !deferredEvents.isEmpty else { return }
        let events = deferredEvents
        deferredEvents.removeAll()
        for event in events { sink?.emit(event) }
    }

    /// Runs `body` with events held back until ``flushDeferredEvents()``.
    func deferringEvents(_ body: () -> Void) {
        deferring = true
        defer { deferring = false }
        body()
    }

    /// Adds catalog models (from a configuration file).
    public func addModels(_ models: [DeviceModel]) {
        for model in models { catalog.add(profile.adjust(model)) }
    }

    // MARK: Run state

    /// `stop`: a running VM becomes `paused` and raises `STOP`; otherwise nothing happens (QEMU's `vm_stop`).
    public func stop() {
        guard runState.isRunning else { return }
        runState = .paused
        clock.setRunning(false)
        emit(MachineEvent(.stop))
    }

    /// `cont`: QEMU's `qmp_cont` rules, raising `RESUME` when the VM starts.
    public func cont() throws(QMPError) {
        if runState.needsReset { throw .generic("Resetting the Virtual Machine is required") }
        switch runState {
        case .suspended, .running: return
        case .finishMigrate: throw .generic("Migration is not finalized yet")
        default:
            runState = .running
            clock.setRunning(true)
            emit(MachineEvent(.resume))
        }
    }

    /// `query-status`: `StatusInfo` in QEMU's member order.
    public func statusInfo() -> JSONObject {
        var info = JSONObject(capacity: 3)
        info.append("running", .bool(runState.isRunning))
        if profile.statusHasSingleStep { info.append("singlestep", .bool(false)) }
        info.append("status", .string(runState.rawValue))
        return info
    }

    // MARK: Topology helpers

    /// Every device (built-in and user), in no particular order.
    public var allDevices: [Device] {
        var result: [Device] = []
        func walk(_ bus: PCIBus) {
            for d in bus.devices {
                result.append(d)
                if let sub = d.secondaryBus { walk(sub) }
            }
        }
        walk(rootBus)
        return result
    }

    /// Notes that `device` was added or removed: walks cached for controllers are stale if it is a
    /// controller or carries a bus.
    func topologyChanged(by device: Device) {
        if device.secondaryBus != nil || device.pcieSlot != nil || device.shpc != nil { controllerGeneration &+= 1 }
    }

    /// How many user devices (`/machine/peripheral*`) exist.
    public var userDeviceCount: Int { peripheral.count + anonymous.count }

    /// User devices whose unplug request is still pending, and the earliest virtual time one stops
    /// being pending. Walks only the user devices, without building arrays.
    public func pendingUnplugs() -> (count: Int, nextExpiry: Int64?) {
        let now = clock.now
        var count = 0
        var next: Int64?
        func visit(_ device: Device) {
            if let deadline = device.pendingUnplugDeadline, deadline > now {
                count += 1
                next = min(next ?? deadline, deadline)
            } else if isACPIRemovalPending(device) {
                count += 1
            }
        }
        peripheral.values.forEach(visit)
        anonymous.values.forEach(visit)
        return (count, next)
    }

    /// The user devices with an id, by id.
    public func device(id: String) -> Device? { peripheral[id] }

    /// Whether `device_add`/`device_del` may act on `bus` (QEMU's `qbus_is_hotpluggable`: the bus has
    /// a hotplug handler). ACPI hot-plug decides first (``acpiHotplugDecision(_:)``: the root bus, and
    /// cold-plugged bridges and ports with bridge support on); otherwise a port's bus has a handler,
    /// except that since 8.2 a port with `hotplug=off` hides it; a bridge's bus has one when its SHPC is on.
    func isHotpluggable(_ bus: PCIBus) -> Bool {
        if let decision = acpiHotplugDecision(bus) { return decision }
        guard let owner = bus.owner else { return false }
        // SCSI and virtio-serial buses always have their controller's hotplug handler.
        if !bus.kind.isPCI { return true }
        if let slot = owner.pcieSlot { return profile.portHotplugOffHidesBus ? slot.isHotplugCapable : true }
        return owner.shpc != nil
    }

    /// The automatic name of the next bus of that non-PCI type without an owner id (`scsi.0`).
    func nextAutomaticBusName(_ kind: BusKind) -> String {
        let number = automaticBusIDs[kind, default: 0]
        automaticBusIDs[kind] = number + 1
        return "\(kind.automaticNamePrefix).\(number)"
    }

    func nextAnonymousBusName(express: Bool) -> String {
        defer { anonymousBusCount += 1 }
        return "\(express ? "pcie" : "pci").\(anonymousBusCount + 1)"
    }

    /// Lowest free `device[N]` index.
    func freeAnonymousIndex() -> Int {
        var i = 0
        while anonymous[i] != nil { i += 1 }
        return i
    }

    /// Makes a user device that sits on no PCI bus (a CPU, a DIMM) and files it under its id
    /// (`/machine/peripheral/ID`) or the first free anonymous index (`/machine/peripheral-anon/device[N]`).
    func registerBuslessDevice(
        model: DeviceModel,
        id: String?,
        properties: [String: JSONValue],
        hotplugged: Bool
    ) -> Device {
        let anonymousIndex = id == nil ? freeAnonymousIndex() : nil
        let device = Device(
            model: model,
            id: id,
            anonymousIndex: anonymousIndex,
            devfn: 0,
            properties: properties,
            hotplugged: hotplugged
        )
        if let id { peripheral[id] = device } else if let anonymousIndex { anonymous[anonymousIndex] = device }
        return device
    }
}

extension String {
    func replacingSpaces() -> String { String(map { $0 == " " ? "-" : $0 }) }
}
