import GuestSim
import Logging
import MockServer
import QMPWire
import SimulatedMachine
import Systemd
import YAMLConfig

#if canImport(Glibc)
    import Glibc
#endif

/// The `qmp-mockd` command line: parses arguments (``DaemonOptions``) and wires the daemon together.
/// Nothing else.
@main
struct QMPMockd {
    static let version = "0.1.0"

    static func main() {
        // Invoked as qemu-system-x86_64 (a link to this binary): QEMU's command line, nothing else.
        if let first = CommandLine.arguments.first, QEMUMode.isInvoked(as: first) {
            QEMUMode.main(CommandLine.arguments)
        }
        let request: DaemonOptions.Request
        do throws(DaemonOptions.UsageError) {
            request = try DaemonOptions.parse(Array(CommandLine.arguments.dropFirst()))
        } catch {
            printToStderr(
                """
                Error: \(error.message)
                Usage: qmp-mockd [--qmp <path|fd:N> ...] [<options>]
                  See 'qmp-mockd --help' for more information.

                """
            )
            exit(DaemonExitCode.usage.rawValue)
        }
        switch request {
        case .help: print(DaemonOptions.help(version: version), terminator: "")
        case .version: print(version)
        case .run(let options): exit(run(options))
        }
    }

    private static func printToStderr(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// Starts the daemon; returns the exit status when it could not start (it exits by itself otherwise).
    static func run(_ o: DaemonOptions) -> Int32 {
        let level = o.logLevel
        let journal = StderrLogHandler.stderrIsJournal()
        let logger = Logger(label: "qmp-mockd") { label in
            StderrLogHandler(label: label, level: level, syslogPrefix: journal)
        }
        let plan: SocketPlan
        let activated = Systemd.listenFDs()
        if getenv("LISTEN_FDS") != nil, let error = Systemd.loadError {
            logger.error("LISTEN_FDS is set but libsystemd could not be loaded: \(error)")
            return DaemonExitCode.configuration.rawValue
        }
        do {
            plan = try SocketPlan.make(qmp: o.qmpSockets, control: o.control, activated: activated)
        } catch {
            logger.error("\(error)")
            return DaemonExitCode.configuration.rawValue
        }
        if plan.usesDefaultPath { logger.notice("no --qmp given: serving \(SocketPlan.defaultPath)") }
        guard let profile = QEMUProfile(o.qemuVersion, package: "qmp-mock \(Self.version)") else {
            return DaemonExitCode.usage.rawValue
        }
        var machine = MachineConfiguration.standard
        var guest = GuestConfiguration()
        if let config = o.config {
            do {
                let file = try ConfigurationFile.load(yaml: try ConfigFile.read(config))
                machine = file.machine
                if let section = file.guestSection { guest = try GuestConfiguration.load(from: section) }
            } catch {
                logger.error("\(config): \(error)")
                return DaemonExitCode.configuration.rawValue
            }
        }
        var configuration = DaemonConfiguration(
            qmpSockets: plan.qmpPaths,
            monitorMode: o.monitorMode,
            profile: profile,
            name: o.name,
            startPaused: o.paused,
            socketMode: mode_t(o.socketMode),
            transcriptPath: o.transcript,
            logLevel: level,
            machine: machine,
            guest: guest,
            controlSocket: plan.controlPath,
            manualClock: o.manualClock,
            timeScale: o.timeScale,
            inheritedQMPSockets: plan.inheritedQMP,
            inheritedControlSocket: plan.inheritedControl
        )
        configuration.maxOutboundBytes = o.maxOutbound
        configuration.hmpSockets = o.hmpSockets
        configuration.noShutdown = o.noShutdown
        configuration.limits.maxMessageBytes = o.maxMessageSize
        // Without NOTIFY_SOCKET libsystemd does nothing; the status line is then not even computed.
        let notifying = Systemd.isNotifySocketSet
        let pid = getpid()
        let status: (@Sendable (String) -> Void)? =
            notifying ? { @Sendable status in Systemd.notify("STATUS=\(status)") } : nil
        let hooks = LifecycleHooks(
            ready: { status in
                if !Systemd.notify("READY=1\nSTATUS=\(status)\nMAINPID=\(pid)"), notifying,
                    let error = Systemd.loadError
                {
                    logger.error("NOTIFY_SOCKET is set but libsystemd could not be loaded: \(error)")
                }
            },
            stopping: { status in Systemd.notify("STOPPING=1\nSTATUS=\(status)") },
            status: status,
            watchdogIntervalMicroseconds: notifying ? Systemd.watchdogIntervalMicroseconds() : nil,
            watchdog: { Systemd.notify("WATCHDOG=1") }
        )
        Daemon.run(configuration, logger: logger, hooks: hooks)
    }
}
