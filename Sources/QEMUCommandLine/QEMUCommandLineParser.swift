import QMPWire
import SimulatedMachine

/// The state of reading one QEMU command line: options are collected in order, then
/// ``finish()`` resolves what QEMU resolves after reading them all (monitors to their chardevs, the
/// machine type, the accelerator, the memory backend) and yields the ``QEMUInvocation``.
struct QEMUCommandLineParser {
    var invocation = QEMUInvocation()
    /// `-machine` options merged in order (QEMU merges repeated `-machine` options), and the first
    /// option's text.
    var machineOptions: [(key: String, value: String)] = []
    /// `-accel` options' accelerator names in order, each with its option text.
    var accelOptions: [(name: String, written: String)] = []
    /// `-chardev` options in order: id, options, the argument and the whole option as written.
    var chardevs: [(id: String, options: [(key: String, value: String)], value: String, written: String)] = []
    /// `-mon` options in order, and the `-qmp`/`-monitor` ones turned into `-mon` over a chardev.
    var monitors: [(chardev: String, control: Bool, written: String)] = []
    /// Chardevs `-qmp` and `-monitor` made (`compat_monitorN`).
    var compatMonitors = 0
    /// The QEMU release played (`7.2`), for the machine's QOM type in errors.
    var release = "7.2"
    /// Whether the invoking user may open `/dev/kvm` (``QEMUCommandLine/parse(_:release:kvmUsable:)``).
    var kvmUsable = true
    /// Whether `-m` was given (else the memory backend's size is the RAM size).
    var memoryGiven = false

    mutating func apply(_ option: QEMUOption, _ value: String, written: String) throws(QEMUOptionError) {
        switch option {
        case .help, .version: break
        case .machine: machineOptions += QemuOptions.parse(value, impliedKey: "type")
        case .accel:
            let options = QemuOptions.parse(value, impliedKey: "accel")
            guard let name = options.first(where: { $0.key == "accel" })?.value else {
                throw QEMUOptionError(option: written, "Parameter 'accel' is missing")
            }
            accelOptions.append((name, written))
        case .enableKVM: accelOptions.append(("kvm", written))
        case .cpu: invocation.cpuModel = String(value.split(separator: ",", omittingEmptySubsequences: false)[0])
        case .memory: try readMemory(value, written: written)
        case .smp: try readSMP(value)
        case .global: try readGlobal(value, written: written)
        case .device: try readDevice(value, written: written)
        case .object: try readObject(value, written: written)
        case .blockdev: try readBlockdev(value, written: written)
        case .netdev: try readNetdev(value, written: written)
        case .drive: try readDrive(value, written: written)
        case .chardev: try readChardev(value, written: written)
        case .qmp: try readQMP(value, written: written, control: true)
        case .monitor: try readQMP(value, written: written, control: false)
        case .mon: try readMon(value, written: written)
        case .name:
            let options = QemuOptions.parse(value, impliedKey: "guest")
            invocation.name = options.last { $0.key == "guest" }?.value
        case .uuid:
            guard Self.isUUID(value) else {
                throw QEMUOptionError(option: written, "failed to parse UUID string: wrong format")
            }
            invocation.uuid = value.lowercased()
        case .startPaused: invocation.startPaused = true
        case .daemonize: invocation.daemonize = true
        case .pidfile: invocation.pidfile = value
        case .noShutdown: invocation.noShutdown = true
        case .noACPI: invocation.ignored.append(written)
        case .msg:
            for option in QemuOptions.parse(value, impliedKey: nil) {
                guard option.key == "timestamp" || option.key == "guest-name" else {
                    throw QEMUOptionError(option: written, "Invalid parameter '\(option.key)'")
                }
                guard let on = Self.onOff(option.value) else {
                    throw QEMUOptionError(option: written, "Parameter '\(option.key)' expects 'on' or 'off'")
                }
                if option.key == "timestamp" { invocation.timestampMessages = on }
            }
        case .ignored: invocation.ignored.append(written)
        }
    }

    /// Resolves what QEMU resolves once every option is read.
    mutating func finish() throws(QEMUOptionError) -> QEMUInvocation {
        try resolveMonitors()
        try resolveMachine()
        try resolveAccelerator()
        try resolveMemoryBackend()
        try checkCPUModel()
        if invocation.isMachineNone, let device = invocation.machine.devices.first {
            let option = device.option.map { "-device \($0)" }
            if DeviceCatalog.builtinModel(device.driver) == nil {
                throw QEMUOptionError(option: option, "'\(device.driver)' is not a valid device model name")
            }
            throw QEMUOptionError(option: option, "No 'PCI' bus found for device '\(device.driver)'")
        }
        return invocation
    }

    /// `-cpu NAME`: a model of the release (QEMU's `unable to find CPU model`, without a location),
    /// and `host` only where the accelerator is KVM. `help` and `?` are left alone (not listed yet).
    mutating func checkCPUModel() throws(QEMUOptionError) {
        guard let model = invocation.cpuModel, model != "help", model != "?" else { return }
        guard X86CPUModels.isModel(model, release: release) else {
            throw QEMUOptionError(option: nil, "unable to find CPU model '\(model)'")
        }
        if model == "host" && invocation.machine.board.accel != .kvm {
            throw QEMUOptionError(option: nil, "CPU model 'host' requires KVM or HVF")
        }
    }

    /// QemuOpts' booleans: `on`/`off` (and the `yes`/`no`, `true`/`false` it also takes).
    static func onOff(_ text: String) -> Bool? {
        switch text {
        case "on", "yes", "true": true
        case "off", "no", "false": false
        default: nil
        }
    }

    /// QemuOpts' check of a `key=value` option's `id` (`id_wellformed`), made as the option is read:
    /// a letter first, then letters, digits, `-`, `.` and `_`. JSON options skip it, as in QEMU.
    static func checkIdentifier(_ options: [(key: String, value: String)], written: String) throws(QEMUOptionError) {
        guard let id = options.last(where: { $0.key == "id" })?.value else { return }
        let bytes = Array(id.utf8)
        func isLetter(_ b: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b | 0x20) }
        func isDigit(_ b: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) }
        let valid =
            bytes.first.map(isLetter) == true
            && bytes.dropFirst().allSatisfy { isLetter($0) || isDigit($0) || "-._".utf8.contains($0) }
        guard valid else {
            throw QEMUOptionError(
                option: written,
                "Parameter 'id' expects an identifier",
                continuation: ["Identifiers consist of letters, digits, '-', '.', '_', starting with a letter."]
            )
        }
    }

    /// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex digits, as `qemu_uuid_parse` wants it.
    static func isUUID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (i, byte) in bytes.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                let isHex =
                    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)
                guard isHex else { return false }
            }
        }
        return true
    }
}
