public import GuestSim
public import Logging
public import QMPWire
public import SimulatedMachine

#if canImport(Glibc)
    internal import Glibc
#endif

/// A listening socket the daemon did not create: passed by socket activation (`LISTEN_FDS`) or
/// named on the command line as `fd:N`, like QEMU's `-chardev socket,fd=N`. It is served as it is
/// (made non-blocking and close-on-exec) and never unlinked.
public struct InheritedSocket: Sendable, Equatable {
    /// The file descriptor.
    public var fd: Int32
    /// Its name in logs and transcripts: the path the socket is bound to, `@name` for an abstract
    /// socket, or `fd:N` when it has no name.
    public var name: String

    public init(fd: Int32, name: String) {
        self.fd = fd
        self.name = name
    }
}

/// Everything the daemon needs to start, as the command line or a test sets it.
public struct DaemonConfiguration: Sendable {
    /// Monitor socket paths (`--qmp`) to create, each an independent monitor.
    public var qmpSockets: [String]
    /// Inherited listening sockets served as further monitors (`--qmp fd:N`, socket activation).
    public var inheritedQMPSockets: [InheritedSocket]
    /// Human monitor socket paths (`--hmp`, QEMU's `-monitor unix:PATH,server=on,wait=off`): HMP text
    /// through QEMU's line editor, one client at a time as every QEMU monitor chardev.
    public var hmpSockets: [String] = []
    /// Inherited listening sockets served as human monitors (`-mon mode=readline` over
    /// `-chardev socket,fd=N`).
    public var inheritedHMPSockets: [InheritedSocket] = []
    public var monitorMode: MonitorMode
    public var profile: QEMUProfile
    /// `query-name`'s name.
    public var name: String?
    /// `query-uuid`'s UUID (QEMU's `-uuid`); nil for QEMU's all-zero default.
    public var uuid: String?
    /// Start in `prelaunch`, like QEMU's `-S`.
    public var startPaused: Bool
    /// A guest shutdown stops the VM in the `shutdown` state instead of ending the process (QEMU's
    /// `-no-shutdown`; `--no-shutdown`).
    public var noShutdown = false
    /// Permissions of the sockets the daemon creates (a `mode_t`; plain here, so that Glibc stays an
    /// internal import of this file).
    public var socketMode: UInt32
    /// `--transcript` file.
    public var transcriptPath: String?
    public var logLevel: Logger.Level
    public var limits: JSONStreamParser.Limits
    /// Listen backlog of each socket: clients beyond the attached one wait here in exclusive mode.
    public var backlog: Int32
    /// The simulated machine (`--config`, or the embedded default).
    public var machine: MachineConfiguration
    /// The simulated guest (the `guest:` section of `--config`, or Linux with its default latencies).
    public var guest: GuestConfiguration
    /// Unsent output per session beyond which a client that does not read is disconnected.
    public var maxOutboundBytes: Int = 8 << 20
    /// The control socket (`--control`) to create, if any.
    public var controlSocket: String?
    /// An inherited control socket (`--control fd:N`, or an activated socket named `control`).
    public var inheritedControlSocket: InheritedSocket?
    /// `--clock realtime` (with `--time-scale`) or `--clock manual`.
    public var manualClock: Bool
    public var timeScale: Double
    /// When set, a failure before serving (the machine, a socket, the transcript) exits with this
    /// status instead of its ``DaemonExitCode``, and the machine's error is logged as it is, without
    /// the `machine configuration:` prefix: `qemu-system-x86_64` exits 1 with `-device foo: ...`.
    public var startupFailureStatus: Int32?
    /// The chardev id of a monitor, by its socket's path or inherited name, when the command line
    /// named it (`charmonitor`); others are `compat_monitorN`, as QEMU names a `-qmp`'s.
    public var monitorChardevIDs: [String: String] = [:]
    /// Remove the path an inherited socket is bound to when the daemon exits, as QEMU's
    /// `socket_listen_cleanup` does for every listening socket it closes, inherited (`-chardev
    /// socket,fd=N`) or not. Off for `qmp-mockd`: a socket systemd holds must stay.
    public var unlinksInheritedSockets = false
    /// The command-line option that asked for each socket path to create (`-qmp unix:...`), which a
    /// failure to create it names first, as QEMU's errors do.
    public var socketOptions: [String: String] = [:]

    public init(
        qmpSockets: [String],
        monitorMode: MonitorMode = .exclusive,
        profile: QEMUProfile,
        name: String? = nil,
        startPaused: Bool = false,
        socketMode: UInt32 = 0o600,
        transcriptPath: String? = nil,
        logLevel: Logger.Level = .info,
        limits: JSONStreamParser.Limits = .qemu,
        backlog: Int32 = 128,
        machine: MachineConfiguration = .standard,
        guest: GuestConfiguration = GuestConfiguration(),
        controlSocket: String? = nil,
        manualClock: Bool = false,
        timeScale: Double = 1,
        inheritedQMPSockets: [InheritedSocket] = [],
        inheritedControlSocket: InheritedSocket? = nil
    ) {
        self.qmpSockets = qmpSockets
        self.inheritedQMPSockets = inheritedQMPSockets
        self.inheritedControlSocket = inheritedControlSocket
        self.monitorMode = monitorMode
        self.profile = profile
        self.name = name
        self.startPaused = startPaused
        self.socketMode = socketMode
        self.transcriptPath = transcriptPath
        self.logLevel = logLevel
        self.limits = limits
        self.backlog = backlog
        self.machine = machine
        self.guest = guest
        self.controlSocket = controlSocket
        self.manualClock = manualClock
        self.timeScale = timeScale
    }
}
