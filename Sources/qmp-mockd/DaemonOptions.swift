import Logging
import MockServer
import SimulatedMachine

/// The `qmp-mockd` command line, parsed by hand: a parsing library by reflection (and the Foundation
/// it pulls in) cost more than half of the daemon's start-up instructions and a third of its idle
/// memory. `--name value` and `--name=value` both work; `--qmp` repeats.
struct DaemonOptions {
    var qmpSockets: [String] = []
    /// `--hmp`: human monitor sockets to create (QEMU's `-monitor unix:PATH,server=on,wait=off`).
    var hmpSockets: [String] = []
    var monitorMode = MonitorMode.exclusive
    var qemuVersion = QEMUProfile.defaultVersion
    var name: String?
    var paused = false
    /// `--no-shutdown`: a guest power-off stops the VM instead of ending the daemon (QEMU's -no-shutdown).
    var noShutdown = false
    var socketMode: UInt32 = 0o600
    var transcript: String?
    var control: String?
    var manualClock = false
    var timeScale: Double = 1
    var config: String?
    var logLevel = Logger.Level.info
    var maxOutbound = 8 << 20
    var maxMessageSize = 64 << 20

    /// What the command line asks for.
    enum Request {
        case run(DaemonOptions)
        case help
        case version
    }

    /// A usage error: the text for stderr (exit 64).
    struct UsageError: Error {
        var message: String
    }

    static func parse(_ arguments: [String]) throws(UsageError) -> Request {
        var options = DaemonOptions()
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--help" || argument == "-h" { return .help }
            if argument == "--version" { return .version }
            guard argument.hasPrefix("--") else { throw UsageError(message: "Unexpected argument '\(argument)'") }
            var key = String(argument.dropFirst(2))
            var inline: String?
            if let equals = key.firstIndex(of: "=") {
                inline = String(key[key.index(after: equals)...])
                key = String(key[..<equals])
            }
            if key == "paused" || key == "no-shutdown" {
                guard inline == nil else { throw UsageError(message: "--\(key) takes no value") }
                if key == "paused" { options.paused = true } else { options.noShutdown = true }
                continue
            }
            guard let valueName = Self.valueName(of: key) else {
                throw UsageError(message: "Unknown option '--\(key)'")
            }
            let value: String
            if let inline {
                value = inline
            } else {
                guard index < arguments.count, !arguments[index].hasPrefix("--") else {
                    throw UsageError(message: "Missing value for '--\(key) <\(valueName)>'")
                }
                value = arguments[index]
                index += 1
            }
            try options.set(key, value)
        }
        return .run(options)
    }

    /// The placeholder of an option that takes a value, nil for an unknown option. A switch, not a
    /// dictionary: a `[String: String]` literal costs start-up time (generic metadata instantiated
    /// at run time), and start-up is measured.
    private static func valueName(of key: String) -> String? {
        switch key {
        case "qmp", "control": "path|fd:N"
        case "hmp": "path"
        case "monitor-mode", "socket-mode", "clock": "mode"
        case "qemu-version": "version"
        case "name": "name"
        case "transcript", "config": "file"
        case "time-scale": "factor"
        case "log-level": "level"
        case "max-outbound", "max-message-size": "size"
        default: nil
        }
    }

    private mutating func set(_ key: String, _ value: String) throws(UsageError) {
        switch key {
        case "qmp":
            guard !value.isEmpty else { throw UsageError(message: "--qmp needs a path") }
            try Self.checkDescriptor(value)
            qmpSockets.append(value)
        case "hmp":
            guard !value.isEmpty, !value.hasPrefix("fd:") else {
                throw UsageError(message: "--hmp needs a path (QEMU's -monitor unix:PATH,server=on,wait=off)")
            }
            hmpSockets.append(value)
        case "monitor-mode":
            guard let mode = MonitorMode(rawValue: value) else {
                throw UsageError(message: "--monitor-mode must be exclusive or shared, not '\(value)'")
            }
            monitorMode = mode
        case "qemu-version":
            guard QEMUProfile(value, package: "") != nil else {
                let versions = QEMUProfile.supported.joined(separator: ", ")
                throw UsageError(message: "--qemu-version must be one of \(versions), not '\(value)'")
            }
            qemuVersion = value
        case "name": name = value
        case "socket-mode":
            guard let mode = UInt32(value, radix: 8), mode <= 0o777 else {
                throw UsageError(message: "--socket-mode must be octal permissions such as 0600, not '\(value)'")
            }
            socketMode = mode
        case "transcript": transcript = value
        case "control":
            guard !value.isEmpty else { throw UsageError(message: "--control needs a path") }
            try Self.checkDescriptor(value)
            control = value
        case "clock":
            guard value == "realtime" || value == "manual" else {
                throw UsageError(message: "--clock must be realtime or manual, not '\(value)'")
            }
            manualClock = value == "manual"
        case "time-scale":
            guard let scale = Double(value), scale > 0, scale.isFinite else {
                throw UsageError(message: "--time-scale must be a positive number")
            }
            timeScale = scale
        case "config": config = value
        case "log-level":
            guard let level = Logger.Level(rawValue: value) else {
                let levels = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
                throw UsageError(message: "--log-level must be one of \(levels)")
            }
            logLevel = level
        case "max-outbound":
            guard let size = Self.parseSize(value) else {
                throw UsageError(message: "--max-outbound takes a size such as 8M, not '\(value)'")
            }
            maxOutbound = size
        case "max-message-size":
            guard let size = Self.parseSize(value) else {
                throw UsageError(message: "--max-message-size takes a size such as 64M, not '\(value)'")
            }
            maxMessageSize = size
        default:
            throw UsageError(message: "Unknown option '--\(key)'")
        }
    }

    private static func checkDescriptor(_ argument: String) throws(UsageError) {
        if SocketPlan.looksLikeDescriptor(argument) && SocketPlan.descriptor(argument) == nil {
            throw UsageError(message: "'\(argument)': fd: must be followed by a file descriptor number")
        }
    }

    /// A positive size as QEMU writes sizes (`8M`, `512K`, `1G`, a plain number of bytes).
    static func parseSize(_ text: String) -> Int? {
        guard let size = Machine.parseSize(text), size > 0 else { return nil }
        return Int(exactly: size)
    }

    static func help(version: String) -> String {
        let versions = QEMUProfile.supported.joined(separator: ", ")
        let levels = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
        let exitCodes = DaemonExitCode.allCases.map { "  \($0.rawValue)  \($0.summary)" }.joined(separator: "\n")
        return """
            OVERVIEW: A mock QEMU that speaks QMP on Unix sockets. (qmp-mockd \(version))

            Serves QEMU's QMP protocol on each --qmp socket (./qmp.sock when none is given and no socket
            was passed by socket activation), byte for byte as QEMU \(versions) does, for testing
            management software. As a systemd service: READY=1 once every socket listens, STATUS= lines,
            WATCHDOG=1 when WatchdogSec= is set, STOPPING=1 on shutdown; socket-activated sockets take
            their role from FileDescriptorName= (qmp, qmp-2, ..., control). SIGTERM or SIGINT sends
            SHUTDOWN to connected clients, removes the sockets it created and exits 0.

            USAGE: qmp-mockd [--qmp <path|fd:N> ...] [<options>]

            OPTIONS:
              --qmp <path|fd:N>        QMP monitor socket to create, or fd:N to serve an inherited
                                       listening socket; repeatable.
              --hmp <path>             Human monitor socket to create (QEMU's -monitor unix:PATH,...):
                                       HMP commands with QEMU's line editing; repeatable.
              --monitor-mode <mode>    exclusive (QEMU: one client at a time, others wait) or shared
                                       (all clients at once). (default: exclusive)
              --qemu-version <version> QEMU release to play: \(versions). (default: \(QEMUProfile.defaultVersion))
              --name <name>            VM name reported by query-name (QEMU's -name).
              --paused                 Start paused in the prelaunch state, like QEMU's -S.
              --no-shutdown            When the guest powers off, stop the VM (state shutdown) instead of
                                       exiting, like QEMU's -no-shutdown.
              --socket-mode <mode>     Permissions of the created sockets, in octal. (default: 0600)
              --transcript <file>      Write every QMP message either way to this file as JSON lines.
              --control <path|fd:N>    Control socket for tests: clock, guest and fault commands (QMP
                                       framing); a path or fd:N.
              --clock <mode>           realtime (default) or manual (time moves only by clock-advance
                                       on the control socket).
              --time-scale <factor>    With --clock realtime: how many times faster than real time the
                                       guest runs. (default: 1)
              --config <file>          YAML file describing the simulated machine (default: the
                                       embedded machine in README).
              --log-level <level>      \(levels);
                                       debug logs one line per QMP message. (default: info)
              --max-outbound <size>    Disconnect a client whose unsent output passes this size
                                       (K, M, G, T, P, E suffixes, powers of 1024). (default: 8M)
              --max-message-size <size>
                                       Largest QMP message accepted, QEMU's 64 MiB by default (same
                                       suffixes). (default: 64M)
              --version                Show the version.
              -h, --help               Show help information.

            EXIT CODES:
            \(exitCodes)

            """
    }
}
