import QMPWire
import SimulatedMachine

/// `-machine`, `-accel`, `-m`, `-smp` and `-global`: the board, into the configuration's
/// ``BoardOptions`` and machine type, with QEMU's texts for what it refuses.
extension QEMUCommandLineParser {
    /// The hint QEMU prints after a size it cannot read.
    static let sizeHint = [
        "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-",
        "and exabytes, respectively.",
    ]

    /// The accelerators QEMU knows (`invalid accelerator` for others); qmp-mock models kvm and tcg.
    static let knownAccelerators: Set<String> = ["kvm", "tcg", "xen", "hax", "hvf", "whpx", "nvmm", "qtest"]

    /// The properties of QEMU 7.2's `pc-q35-*` and `pc-i440fx-*` machines (`-machine q35,help`), which
    /// `-machine` accepts (and qmp-mock ignores, apart from `accel` and `memory-backend`), plus the
    /// accelerator options QEMU still takes there.
    static let pcMachineProperties: Set<String> = [
        "type", "accel", "acpi", "append", "boot", "bus-lock-ratelimit", "confidential-guest-support",
        "default-bus-bypass-iommu", "dt-compatible", "dtb", "dump-guest-core", "dumpdtb", "firmware", "graphics",
        "hpet", "i8042", "initrd", "kernel", "max-fw-size", "max-ram-below-4g", "mem-merge", "memory-backend",
        "memory-encryption", "memory", "phandle-start", "pic", "pit", "sata", "sgx-epc", "smbios-entry-point-type",
        "smbus", "smm", "smp", "suppress-vmdesc", "usb", "vmport", "x-oem-id", "x-oem-table-id",
        "kernel-irqchip", "kernel_irqchip", "kvm-shadow-mem", "igd-passthru",
    ]
    /// The properties of `-machine none` (`-machine none,help`).
    static let noneMachineProperties: Set<String> = [
        "type", "accel", "append", "boot", "confidential-guest-support", "dt-compatible", "dtb", "dump-guest-core",
        "dumpdtb", "firmware", "graphics", "initrd", "kernel", "mem-merge", "memory-backend", "memory-encryption",
        "memory", "phandle-start", "smp", "suppress-vmdesc", "usb", "kernel-irqchip", "kernel_irqchip",
    ]

    /// `-m [size=]SIZE[,slots=N][,maxmem=SIZE]`: a bare number counts MiB, as `qemu_strtosz_MiB` reads it.
    mutating func readMemory(_ value: String, written: String) throws(QEMUOptionError) {
        var memory = invocation.machine.board.memory
        for option in QemuOptions.parse(value, impliedKey: "size") {
            switch option.key {
            case "size":
                guard let size = Machine.parseSize(option.value, bareUnit: 1 << 20) else {
                    throw QEMUOptionError(
                        option: written,
                        "Parameter 'size' expects a non-negative number below 2^64",
                        continuation: Self.sizeHint
                    )
                }
                memory.size = size
                memoryGiven = true
            case "slots":
                guard let slots = Int(option.value), slots >= 0 else {
                    throw QEMUOptionError(option: written, "Parameter 'slots' expects a number")
                }
                memory.slots = slots
            case "maxmem":
                guard let size = Machine.parseSize(option.value, bareUnit: 1) else {
                    throw QEMUOptionError(
                        option: written,
                        "Parameter 'maxmem' expects a non-negative number below 2^64",
                        continuation: Self.sizeHint
                    )
                }
                memory.maxmem = size
            default:
                throw QEMUOptionError(option: written, "Invalid parameter '\(option.key)'")
            }
        }
        invocation.machine.board.memory = memory
    }

    /// `-smp [cpus=]N[,maxcpus=N][,sockets=N][,dies=N][,clusters=N][,cores=N][,threads=N]`.
    mutating func readSMP(_ value: String) throws(QEMUOptionError) {
        var smp = invocation.machine.board.smp
        for option in QemuOptions.parse(value, impliedKey: "cpus") {
            guard let number = Int(option.value), number >= 0 else {
                throw QEMUOptionError(option: nil, "Parameter 'smp.\(option.key)' expects integer")
            }
            // QEMU 7.2 takes 0 as "not given" (with a deprecation warning).
            let count = number == 0 ? nil : number
            switch option.key {
            case "cpus": smp.cpus = count
            case "maxcpus": smp.maxcpus = count
            case "sockets": smp.sockets = count
            case "dies": smp.dies = count
            case "cores": smp.cores = count
            case "threads": smp.threads = count
            case "clusters": break
            default: throw QEMUOptionError(option: nil, "Parameter 'smp.\(option.key)' is unexpected")
            }
        }
        invocation.machine.board.smp = smp
    }

    /// `-global DRIVER.PROPERTY=VALUE` or `-global driver=D,property=P,value=V`.
    mutating func readGlobal(_ value: String, written: String) throws(QEMUOptionError) {
        if let global = GlobalProperty(value), !value.hasPrefix("driver=") {
            invocation.machine.board.globals.append(global)
            return
        }
        var driver: String?
        var property: String?
        var text: String?
        for option in QemuOptions.parse(value, impliedKey: nil) {
            switch option.key {
            case "driver": driver = option.value
            case "property": property = option.value
            case "value": text = option.value
            default: throw QEMUOptionError(option: written, "Invalid parameter '\(option.key)'")
            }
        }
        guard let driver, let property, let text else {
            throw QEMUOptionError(option: written, "Invalid parameter '\(value)'")
        }
        invocation.machine.board.globals.append(GlobalProperty(driver: driver, property: property, value: text))
    }

    /// The machine type from `-machine type=NAME`: `q35` and `pc-q35-X.Y`, `pc` and `pc-i440fx-X.Y`,
    /// or `none`; QEMU's default `pc` without one.
    mutating func resolveMachine() throws(QEMUOptionError) {
        guard let name = machineOptions.last(where: { $0.key == "type" })?.value else {
            try checkMachineProperties(qomType: "pc-i440fx-\(release)-machine", Self.pcMachineProperties)
            return
        }
        let type: MachineType?
        if name == "q35" || Self.isVersioned(name, prefix: "pc-q35-") {
            type = .q35
        } else if name == "pc" || Self.isVersioned(name, prefix: "pc-i440fx-") {
            type = .pc
        } else if name == "none" {
            type = .q35
        } else {
            type = nil
        }
        guard let type else {
            throw QEMUOptionError(
                option: nil,
                "unsupported machine type",
                continuation: ["Use -machine help to list supported machines"]
            )
        }
        invocation.machineName = name
        invocation.machine.machineType = type
        switch name {
        case "none": try checkMachineProperties(qomType: "none-machine", Self.noneMachineProperties)
        case "q35": try checkMachineProperties(qomType: "pc-q35-\(release)-machine", Self.pcMachineProperties)
        case "pc": try checkMachineProperties(qomType: "pc-i440fx-\(release)-machine", Self.pcMachineProperties)
        default: try checkMachineProperties(qomType: "\(name)-machine", Self.pcMachineProperties)
        }
    }

    /// QEMU's `Property 'pc-q35-7.2-machine.bogus' not found` for a `-machine` property the type lacks.
    func checkMachineProperties(qomType: String, _ known: Set<String>) throws(QEMUOptionError) {
        if let unknown = machineOptions.first(where: { !known.contains($0.key) }) {
            throw QEMUOptionError(option: nil, "Property '\(qomType).\(unknown.key)' not found")
        }
    }

    /// `PREFIX` followed by `MAJOR.MINOR` (`pc-q35-7.2`).
    static func isVersioned(_ name: String, prefix: String) -> Bool {
        guard name.hasPrefix(prefix) else { return false }
        let parts = name.dropFirst(prefix.count).split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }

    /// The accelerator: the first of `-accel` options or of `-machine accel=A:B` that qmp-mock
    /// models (kvm, tcg); QEMU's default TCG without either.
    ///
    /// Where the user may not open `/dev/kvm`, QEMU fails to start kvm and goes on to the next
    /// accelerator of the list; so does this, so that `query-kvm` says what libvirt (which checks
    /// `/dev/kvm` itself before probing) expects, and its capability cache stays valid. When kvm
    /// is the last candidate it is simulated anyway: QEMU would exit, but a fake needs no
    /// hypervisor, and stacks that ask for `accel=kvm` (Kata) run on CI machines without one.
    mutating func resolveAccelerator() throws(QEMUOptionError) {
        let machineAccel = machineOptions.last { $0.key == "accel" }?.value
        if machineAccel != nil && !accelOptions.isEmpty {
            throw QEMUOptionError(option: nil, "The -accel and \"-machine accel=\" options are incompatible")
        }
        var candidates: [(name: String, written: String?)] = accelOptions.map { ($0.name, $0.written) }
        if let machineAccel {
            candidates = machineAccel.split(separator: ":", omittingEmptySubsequences: false).map { (String($0), nil) }
        }
        guard let first = candidates.first else { return }
        for (position, candidate) in candidates.enumerated() {
            if candidate.name == "kvm" && !kvmUsable && position < candidates.count - 1 { continue }
            if let accel = Accelerator(rawValue: candidate.name) {
                invocation.machine.board.accel = accel
                return
            }
        }
        guard Self.knownAccelerators.contains(first.name) else {
            throw QEMUOptionError(option: first.written, "invalid accelerator \(first.name)")
        }
        throw QEMUOptionError(
            option: first.written,
            "qmp-mockd simulates the kvm and tcg accelerators only, not \(first.name)"
        )
    }

    /// `-machine memory-backend=ID`: the `-object` with that id gives the RAM size, which an explicit
    /// `-m` must match.
    mutating func resolveMemoryBackend() throws(QEMUOptionError) {
        guard let id = machineOptions.last(where: { $0.key == "memory-backend" })?.value else { return }
        guard let entry = invocation.machine.objects.first(where: { $0.arguments["id"]?.stringValue == id }) else {
            throw QEMUOptionError(option: nil, "Memory backend '\(id)' not found")
        }
        invocation.machine.memoryBackend = id
        let size: UInt64?
        switch entry.arguments["size"] {
        case .int(let bytes)?: size = bytes >= 0 ? UInt64(bytes) : nil
        case .string(let text)?: size = Machine.parseSize(text, bareUnit: 1)
        default: size = nil
        }
        guard let size else { return }
        if memoryGiven {
            if size != invocation.machine.board.memory.size {
                throw QEMUOptionError(option: nil, "Machine memory size does not match the size of the memory backend")
            }
        } else {
            invocation.machine.board.memory.size = size
        }
    }
}
