import ArgumentParser
import HotplugMachine
import Logging
import MockServer
import QMPWire
import Systemd

#if canImport(Glibc)
    import Glibc
#endif

/// The `qmp-mockd` command line: parses arguments and wires the daemon together. Nothing else.
@main
struct QMPMockd: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "qmp-mockd",
        abstract: "A mock QEMU that speaks QMP on Unix sockets.",
        discussion: """
            Serves QEMU's QMP protocol on each --qmp socket (./qmp.sock when none is given and no socket \
            was passed by socket activation), byte for byte as QEMU \
            \(QEMUProfile.supported.joined(separator: ", ")) does, for testing management software.
            As a systemd service: READY=1 once every socket listens, STATUS= lines, WATCHDOG=1 when \
            WatchdogSec= is set, STOPPING=1 on shutdown; socket-activated sockets take their role from \
            FileDescriptorName= (qmp, qmp-2, ..., control). SIGTERM or SIGINT sends SHUTDOWN to connected \
            clients, removes the sockets it created and exits 0.

            Exit codes:
            \(DaemonExitCode.allCases.map { "  \($0.rawValue)  \($0.summary)" }.joined(separator: "\n"))
            """,
        version: version
    )

    @Option(
        name: .customLong("qmp"),
        help: ArgumentHelp(
            "QMP monitor socket to create, or fd:N to serve an inherited listening socket; repeatable.",
            valueName: "path|fd:N"
        )
    )
    var qmpSockets: [String] = []

    @Option(
        help: ArgumentHelp(
            "exclusive (QEMU: one client at a time, others wait) or shared (all clients at once).",
            valueName: "mode"
        )
    )
    var monitorMode: String = MonitorMode.exclusive.rawValue

    @Option(
        help: ArgumentHelp(
            "QEMU release to play: \(QEMUProfile.supported.joined(separator: ", ")).",
            valueName: "version"
        )
    )
    var qemuVersion: String = QEMUProfile.defaultVersion

    @Option(help: ArgumentHelp("VM name reported by query-name (QEMU's -name).", valueName: "name"))
    var name: String?

    @Flag(help: "Start paused in the prelaunch state, like QEMU's -S.")
    var paused = false

    @Option(help: ArgumentHelp("Permissions of the created sockets, in octal.", valueName: "mode"))
    var socketMode: String = "0600"

    @Option(help: ArgumentHelp("Write every QMP message either way to this file as JSON lines.", valueName: "file"))
    var transcript: String?

    @Option(
        help: ArgumentHelp(
            "Control socket for tests: clock, guest and fault commands (QMP framing); a path or fd:N.",
            valueName: "path|fd:N"
        )
    )
    var control: String?

    @Option(
        help: ArgumentHelp(
            "realtime (default) or manual (time moves only by clock-advance on the control socket).",
            valueName: "mode"
        )
    )
    var clock: String = "realtime"

    @Option(
        help: ArgumentHelp(
            "With --clock realtime: how many times faster than real time the guest runs.",
            valueName: "factor"
        )
    )
    var timeScale: Double = 1

    @Option(
        help: ArgumentHelp(
            "YAML file describing the simulated machine (default: the embedded machine in README).",
            valueName: "file"
        )
    )
    var config: String?

    @Option(
        help: ArgumentHelp(
            "trace, debug (one line per QMP message), info, notice, warning, error or critical.",
            valueName: "level"
        )
    )
    var logLevel: String = "info"

    @Option(
        help: ArgumentHelp(
            "Disconnect a client whose unsent output passes this size (K, M, G suffixes).",
            valueName: "size"
        )
    )
    var maxOutbound: String = "8M"

    @Option(
        help: ArgumentHelp(
            "Largest QMP message accepted, QEMU's 64 MiB by default (K, M, G suffixes).",
            valueName: "size"
        )
    )
    var maxMessageSize: String = "64M"

    /// Bytes for `8M`, `512K`, `1G` or a plain number.
    static func parseSize(_ text: String) -> Int? {
        let units: [(Character, Int)] = [("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30)]
        if let last = text.last?.uppercased().first, let unit = units.first(where: { $0.0 == last }) {
            return Int(text.dropLast()).flatMap {
                $0 > 0 ? $0.multipliedReportingOverflow(by: unit.1).overflow ? nil : $0 * unit.1 : nil
            }
        }
        return Int(text).flatMap { $0 > 0 ? $0 : nil }
    }

    func validate() throws {
        guard MonitorMode(rawValue: monitorMode) != nil else {
            throw ValidationError("--monitor-mode must be exclusive or shared, not '\(monitorMode)'")
        }
        guard QEMUProfile(qemuVersion, package: "") != nil else {
            throw ValidationError(
                "--qemu-version must be one of \(QEMUProfile.supported.joined(separator: ", ")), not '\(qemuVersion)'"
            )
        }
        guard let mode = UInt32(socketMode, radix: 8), mode <= 0o777 else {
            throw ValidationError("--socket-mode must be octal permissions such as 0600, not '\(socketMode)'")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError(
                "--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        guard qmpSockets.allSatisfy({ !$0.isEmpty }) else { throw ValidationError("--qmp needs a path") }
        for argument in qmpSockets + [control].compactMap({ $0 })
        where SocketPlan.looksLikeDescriptor(argument) && SocketPlan.descriptor(argument) == nil {
            throw ValidationError("'\(argument)': fd: must be followed by a file descriptor number")
        }
        guard clock == "realtime" || clock == "manual" else {
            throw ValidationError("--clock must be realtime or manual, not '\(clock)'")
        }
        guard timeScale > 0, timeScale.isFinite else { throw ValidationError("--time-scale must be a positive number") }
        if control?.isEmpty == true { throw ValidationError("--control needs a path") }
        guard Self.parseSize(maxOutbound) != nil else {
            throw ValidationError("--max-outbound takes a size such as 8M, not '\(maxOutbound)'")
        }
        guard Self.parseSize(maxMessageSize) != nil else {
            throw ValidationError("--max-message-size takes a size such as 64M, not '\(maxMessageSize)'")
        }
    }

    func run() throws {
        // Values were checked in validate(); the fallbacks below are never taken.
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let journal = StderrLogHandler.stderrIsJournal()
        let logger = Logger(label: "qmp-mockd") { label in
            StderrLogHandler(label: label, level: level, syslogPrefix: journal)
        }
        let plan: SocketPlan
        do {
            plan = try SocketPlan.make(qmp: qmpSockets, control: control, activated: Systemd.listenFDs())
        } catch {
            logger.error("\(error)")
            throw ExitCode(DaemonExitCode.configuration.rawValue)
        }
        if plan.usesDefaultPath { logger.notice("no --qmp given: serving \(SocketPlan.defaultPath)") }
        guard let profile = QEMUProfile(qemuVersion, package: "qmp-mock \(Self.version)") else {
            throw ExitCode(DaemonExitCode.usage.rawValue)
        }
        var machine = MachineConfiguration.standard
        if let config {
            do {
                machine = try MachineConfiguration.load(yaml: try ConfigFile.read(config))
            } catch {
                logger.error("\(config): \(error)")
                throw ExitCode(DaemonExitCode.configuration.rawValue)
            }
        }
        var configuration = DaemonConfiguration(
            qmpSockets: plan.qmpPaths,
            monitorMode: MonitorMode(rawValue: monitorMode) ?? .exclusive,
            profile: profile,
            name: name,
            startPaused: paused,
            socketMode: mode_t(UInt32(socketMode, radix: 8) ?? 0o600),
            transcriptPath: transcript,
            logLevel: level,
            machine: machine,
            controlSocket: plan.controlPath,
            manualClock: clock == "manual",
            timeScale: timeScale,
            inheritedQMPSockets: plan.inheritedQMP,
            inheritedControlSocket: plan.inheritedControl
        )
        configuration.maxOutboundBytes = Self.parseSize(maxOutbound) ?? (8 << 20)
        configuration.limits.maxMessageBytes = Self.parseSize(maxMessageSize) ?? (64 << 20)
        // Without NOTIFY_SOCKET libsystemd does nothing; the status line is then not even computed.
        let notifying = Systemd.isNotifySocketSet
        let pid = getpid()
        let status: (@Sendable (String) -> Void)? =
            notifying ? { @Sendable status in Systemd.notify("STATUS=\(status)") } : nil
        let hooks = LifecycleHooks(
            ready: { status in Systemd.notify("READY=1\nSTATUS=\(status)\nMAINPID=\(pid)") },
            stopping: { status in Systemd.notify("STOPPING=1\nSTATUS=\(status)") },
            status: status,
            watchdogIntervalMicroseconds: notifying ? Systemd.watchdogIntervalMicroseconds() : nil,
            watchdog: { Systemd.notify("WATCHDOG=1") }
        )
        Daemon.run(configuration, logger: logger, hooks: hooks)
    }
}
