public import QMPWire

/// The machine's CPU topology as QEMU derives it from `-smp` (`hw/core/machine-smp.c`,
/// `machine_parse_smp_config`): sockets × dies × cores × threads possible CPUs (`maxcpus`), `cpus` of
/// them present at start, and the x86 APIC id of each possible CPU (`hw/i386/x86.c`,
/// `include/hw/i386/topology.h`: each level a power-of-two bit field).
///
/// Possible CPUs are indexed in APIC-id order, which is also the index the ACPI CPU hot-plug block's
/// selector uses and the `cpu-index` of a CPU plugged there (`acpi-hotplug.md` §5.1).
public struct CPUTopology: Sendable, Equatable {
    public var cpus: Int
    public var maxcpus: Int
    public var sockets: Int
    public var dies: Int
    public var cores: Int
    public var threads: Int

    /// One CPU: `-smp 1`.
    public init() {
        cpus = 1
        maxcpus = 1
        sockets = 1
        dies = 1
        cores = 1
        threads = 1
    }

    /// The topology `-smp` gives on `machineType` under `profile`, with QEMU's refusals (texts of 7.2; 10.0
    /// adds `modules (1)` to the hierarchy and refuses explicit zeros, which 7.2 only warns about).
    public init(smp: SMPOptions, machineType: MachineType, profile: QEMUProfile) throws(QMPError) {
        let modern = profile.cpuTopologyHasModules
        let given = [smp.cpus, smp.maxcpus, smp.sockets, smp.dies, smp.cores, smp.threads]
        if given.contains(where: { ($0 ?? 1) < 0 }) {
            throw .generic("Invalid CPU topology: CPU topology parameters must be greater than zero")
        }
        if modern && given.contains(0) {
            throw .generic("Invalid CPU topology: CPU topology parameters must be greater than zero")
        }
        // 7.2 warns about an explicit 0 and treats it as omitted.
        var cpus = smp.cpus ?? 0
        var maxcpus = smp.maxcpus ?? 0
        var sockets = smp.sockets ?? 0
        let dies = max(smp.dies ?? 1, 1)
        var cores = smp.cores ?? 0
        var threads = smp.threads ?? 0
        if cpus == 0 && maxcpus == 0 {
            sockets = max(sockets, 1)
            cores = max(cores, 1)
            threads = max(threads, 1)
        } else {
            maxcpus = maxcpus > 0 ? maxcpus : cpus
            // Cores are preferred over sockets since machine types 6.2.
            if cores == 0 {
                sockets = max(sockets, 1)
                threads = max(threads, 1)
                cores = maxcpus / (sockets * dies * threads)
            } else if sockets == 0 {
                threads = max(threads, 1)
                sockets = maxcpus / (dies * cores * threads)
            }
            if threads == 0 { threads = sockets * dies * cores == 0 ? 0 : maxcpus / (sockets * dies * cores) }
        }
        maxcpus = maxcpus > 0 ? maxcpus : sockets * dies * cores * threads
        cpus = cpus > 0 ? cpus : maxcpus
        self.cpus = cpus
        self.maxcpus = maxcpus
        self.sockets = sockets
        self.dies = dies
        self.cores = cores
        self.threads = threads

        let hierarchy =
            modern
            ? "sockets (\(sockets)) * dies (\(dies)) * modules (1) * cores (\(cores)) * threads (\(threads))"
            : "sockets (\(sockets)) * dies (\(dies)) * cores (\(cores)) * threads (\(threads))"
        if sockets * dies * cores * threads != maxcpus {
            throw .generic(
                "Invalid CPU topology: product of the hierarchy must match maxcpus: \(hierarchy) != maxcpus (\(maxcpus))"
            )
        }
        if maxcpus < cpus {
            throw .generic(
                "Invalid CPU topology: maxcpus must be equal to or greater than smp: \(hierarchy) == maxcpus (\(maxcpus)) < smp_cpus (\(cpus))"
            )
        }
        let limit = Self.maxCPUs(machineType, profile: profile)
        if maxcpus > limit {
            let v = "\(profile.version.major).\(profile.version.minor)"
            let name = machineType == .q35 ? "pc-q35-\(v)" : "pc-i440fx-\(v)"
            throw .generic(
                "Invalid SMP CPUs \(maxcpus). The max CPUs supported by machine '\(name)' is \(limit)"
            )
        }
    }

    /// The topology, or one CPU when QEMU would refuse `smp` (``Machine/coldPlug(_:)`` reports that).
    public init(lenient smp: SMPOptions, machineType: MachineType, profile: QEMUProfile) {
        self = (try? CPUTopology(smp: smp, machineType: machineType, profile: profile)) ?? CPUTopology()
    }

    /// The machine type's CPU limit (`mc->max_cpus`): q35 288 (4096 since 9.0), pc 255.
    static func maxCPUs(_ machineType: MachineType, profile: QEMUProfile) -> Int {
        guard machineType == .q35 else { return 255 }
        return profile.version.isAtLeast(9, 0) ? 4096 : 288
    }

    // MARK: APIC ids

    /// Bits a field of `count` values takes in the APIC id (`apicid_bitwidth_for_count`).
    static func width(_ count: Int) -> Int {
        count <= 1 ? 0 : Int.bitWidth - (count - 1).leadingZeroBitCount
    }

    var coreOffset: Int { Self.width(threads) }
    var dieOffset: Int { coreOffset + Self.width(cores) }
    var socketOffset: Int { dieOffset + Self.width(dies) }

    /// The socket, die, core and thread of possible CPU `index` (`x86_topo_ids_from_idx`).
    public func ids(ofIndex index: Int) -> CPUTopologyIDs {
        CPUTopologyIDs(
            socket: index / (dies * cores * threads),
            die: index / (cores * threads) % dies,
            core: index / threads % cores,
            thread: index % threads
        )
    }

    /// The APIC id of those ids (`x86_apicid_from_topo_ids`).
    public func apicID(of ids: CPUTopologyIDs) -> UInt32 {
        UInt32(ids.socket << socketOffset | ids.die << dieOffset | ids.core << coreOffset | ids.thread)
    }

    /// The ids an APIC id stands for (`x86_topo_ids_from_apicid`).
    public func ids(ofAPICID apicID: UInt32) -> CPUTopologyIDs {
        let id = Int(apicID)
        func field(_ offset: Int, _ width: Int) -> Int { (id >> offset) & ((1 << width) - 1) }
        return CPUTopologyIDs(
            socket: id >> socketOffset,
            die: field(dieOffset, Self.width(dies)),
            core: field(coreOffset, Self.width(cores)),
            thread: field(0, Self.width(threads))
        )
    }

    /// The APIC id of every possible CPU, by index.
    public var possibleAPICIDs: [UInt32] { (0..<maxcpus).map { apicID(of: ids(ofIndex: $0)) } }

    /// The `CpuInstanceProperties` of possible CPU `index` in QEMU's insertion order: `node-id` (with
    /// NUMA), `socket-id`, `die-id` (more than one die), `core-id`, `thread-id`.
    public func properties(ofIndex index: Int, numa: Bool) -> JSONObject {
        let ids = ids(ofIndex: index)
        var props = JSONObject(capacity: 5)
        if numa { props.append("node-id", .int(0)) }
        props.append("socket-id", .int(Int64(ids.socket)))
        if dies > 1 { props.append("die-id", .int(Int64(ids.die))) }
        props.append("core-id", .int(Int64(ids.core)))
        props.append("thread-id", .int(Int64(ids.thread)))
        return props
    }
}
