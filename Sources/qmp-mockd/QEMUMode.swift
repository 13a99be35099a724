import GuestSim
import Logging
import MockServer
import QEMUCommandLine
import QMPWire
import SimulatedMachine
import Systemd
import YAMLConfig

#if canImport(Glibc)
    import Glibc
#endif

/// qmp-mockd invoked as `qemu-system-x86_64` (a link to it): QEMU's command line and QEMU's process
/// contract. The command line is translated (``QEMUCommandLine``) into the machine configuration
/// `--config` would give and the daemon's settings; `QMP_MOCK_CONFIG` adds the mock's own settings;
/// errors are QEMU's lines with exit status 1; `-daemonize` and `-pidfile` behave as QEMU's.
enum QEMUMode {
    /// The release played when `QMP_MOCK_CONFIG` names none: 7.2.0, the release libvirt's
    /// recordings come from.
    static let defaultVersion = "7.2.0"

    /// Whether argv[0] names QEMU (`qemu-system-x86_64`, or a path ending so).
    static func isInvoked(as argument0: String) -> Bool {
        program(argument0).hasPrefix("qemu-system-")
    }

    /// argv[0]'s last component, the name QEMU's messages start with.
    static func program(_ argument0: String) -> String {
        String(argument0.split(separator: "/", omittingEmptySubsequences: false).last ?? "")
    }

    /// QEMU's line for a shutdown signal (`qemu_kill_report`): `terminating on signal 15 from pid 8111
    /// (/usr/sbin/libvirtd)`, the sender named by the first word of its command line; `terminated by
    /// signal 2` when no process sent it (a terminal's ^C).
    static func terminationMessage(signal: Int32, sender: Int32) -> String {
        guard sender > 0 else { return "terminated by signal \(signal)" }
        let name = (try? ConfigFile.read("/proc/\(sender)/cmdline")).flatMap { text in
            text.split(separator: "\0", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)
        }
        let shown = name.flatMap { $0.isEmpty ? nil : $0 } ?? "<unknown process>"
        return "terminating on signal \(signal) from pid \(sender) (\(shown))"
    }

    static func main(_ arguments: [String]) -> Never {
        let program = program(arguments.first ?? "qemu-system-x86_64")
        func fail(_ text: String) -> Never {
            var bytes = Array("\(program): \(text)\n".utf8)
            _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
            exit(1)
        }
        var settings = MockSettingsFile()
        if let raw = getenv("QMP_MOCK_CONFIG"), raw.pointee != 0 {
            let path = String(cString: raw)
            do {
                settings = try MockSettingsFile.load(yaml: try ConfigFile.read(path))
            } catch {
                fail("QMP_MOCK_CONFIG=\(path): \(error)")
            }
        }
        let version = settings.qemuVersion ?? defaultVersion
        guard let profile = QEMUProfile(version, package: "qmp-mock \(QMPMockd.version)") else {
            fail("QMP_MOCK_CONFIG: qemu-version must be one of \(QEMUProfile.supported.joined(separator: ", "))")
        }
        let request: QEMURequest
        do throws(QEMUOptionError) {
            let release = "\(profile.version.major).\(profile.version.minor)"
            // QEMU opens /dev/kvm read-write; the same test says whether a kvm:tcg list falls back.
            let kvmUsable = access("/dev/kvm", R_OK | W_OK) == 0
            request = try QEMUCommandLine.parse(Array(arguments.dropFirst()), release: release, kvmUsable: kvmUsable)
        } catch {
            var bytes = Array(error.report(program: program).utf8)
            _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
            exit(1)
        }
        let invocation: QEMUInvocation
        switch request {
        case .help:
            print(QEMUHelpText.help(profile, program: program), terminator: "")
            exit(0)
        case .version:
            print(QEMUHelpText.version(profile), terminator: "")
            exit(0)
        case .run(let value): invocation = value
        }
        var level = Logger.Level.warning
        if let name = settings.logLevel {
            guard let parsed = Logger.Level(rawValue: name) else {
                fail("QMP_MOCK_CONFIG: unknown log-level '\(name)'")
            }
            level = parsed
        }
        var guest = GuestConfiguration()
        if let section = settings.guestSection {
            do {
                guest = try GuestConfiguration.load(from: section)
            } catch {
                fail("QMP_MOCK_CONFIG: \(error)")
            }
        }
        var machine = invocation.machine
        machine.catalogAdditions += settings.catalogAdditions
        // Inherited monitor sockets are checked before anything is created, as QEMU checks them.
        var inherited: [InheritedSocket] = []
        var paths: [String] = []
        var humanInherited: [InheritedSocket] = []
        var humanPaths: [String] = []
        var chardevIDs: [String: String] = [:]
        var socketOptions: [String: String] = [:]
        for monitor in invocation.monitors {
            switch monitor.socket {
            case .path(let path):
                if monitor.isHuman { humanPaths.append(path) } else { paths.append(path) }
                chardevIDs[path] = monitor.chardev
                socketOptions[path] = monitor.option
            case .descriptor(let fd):
                var info = stat()
                guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else {
                    fail("\(monitor.option): File descriptor '\(fd)' is not a socket")
                }
                guard Systemd.isListeningUnixStreamSocket(fd) else {
                    fail("\(monitor.option): File descriptor '\(fd)' is not a listening Unix stream socket")
                }
                let socket = InheritedSocket(fd: fd, name: SocketPlan.boundName(fd) ?? "fd:\(fd)")
                if monitor.isHuman { humanInherited.append(socket) } else { inherited.append(socket) }
                chardevIDs[socket.name] = monitor.chardev
            }
        }
        let daemon: Daemonizer? = invocation.daemonize ? Daemonizer.daemonize() : nil
        if let pidfile = invocation.pidfile {
            do throws(PIDFileError) {
                try PIDFile.write(pidfile)
            } catch {
                fail("cannot create PID file: \(error)")
            }
        }
        let mask = umask(0)
        umask(mask)
        let timestamps = invocation.timestampMessages
        let logger = Logger(label: program) { _ in
            QEMULogHandler(program: program, level: level, timestamps: timestamps)
        }
        var configuration = DaemonConfiguration(
            qmpSockets: paths,
            profile: profile,
            name: invocation.name,
            startPaused: invocation.startPaused,
            socketMode: 0o777 & ~mask,
            transcriptPath: settings.transcript,
            logLevel: level,
            machine: machine,
            guest: guest,
            controlSocket: settings.control,
            manualClock: settings.manualClock ?? false,
            timeScale: settings.timeScale ?? 1,
            inheritedQMPSockets: inherited
        )
        configuration.uuid = invocation.uuid
        configuration.noShutdown = invocation.noShutdown
        configuration.hmpSockets = humanPaths
        configuration.inheritedHMPSockets = humanInherited
        configuration.startupFailureStatus = 1
        configuration.monitorChardevIDs = chardevIDs
        configuration.unlinksInheritedSockets = true
        configuration.socketOptions = socketOptions
        let hooks = LifecycleHooks(
            ready: { _ in daemon?.ready() },
            signal: { signal, sender in logger.error("\(terminationMessage(signal: signal, sender: sender))") }
        )
        Daemon.run(configuration, logger: logger, hooks: hooks)
    }
}
