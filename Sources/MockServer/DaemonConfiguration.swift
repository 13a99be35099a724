public import HotplugMachine
public import Logging
public import QMPWire

#if canImport(Glibc)
    public import Glibc
#endif

/// Everything the daemon needs to start, as the command line or a test sets it.
public struct DaemonConfiguration: Sendable {
    /// Monitor socket paths (`--qmp`), each an independent monitor.
    public var qmpSockets: [String]
    public var monitorMode: MonitorMode
    public var profile: QEMUProfile
    /// `query-name`'s name.
    public var name: String?
    /// Start in `prelaunch`, like QEMU's `-S`.
    public var startPaused: Bool
    /// Permissions of the sockets the daemon creates.
    public var socketMode: mode_t
    /// `--transcript` file.
    public var transcriptPath: String?
    public var logLevel: Logger.Level
    public var limits: JSONStreamParser.Limits
    /// Listen backlog of each socket: clients beyond the attached one wait here in exclusive mode.
    public var backlog: Int32
    /// The simulated machine (`--config`, or the embedded default).
    public var machine: MachineConfiguration
    /// The control socket (`--control`), if any.
    public var controlSocket: String?
    /// `--clock realtime` (with `--time-scale`) or `--clock manual`.
    public var manualClock: Bool
    public var timeScale: Double

    public init(
        qmpSockets: [String],
        monitorMode: MonitorMode = .exclusive,
        profile: QEMUProfile,
        name: String? = nil,
        startPaused: Bool = false,
        socketMode: mode_t = 0o600,
        transcriptPath: String? = nil,
        logLevel: Logger.Level = .info,
        limits: JSONStreamParser.Limits = .qemu,
        backlog: Int32 = 128,
        machine: MachineConfiguration = .standard,
        controlSocket: String? = nil,
        manualClock: Bool = false,
        timeScale: Double = 1
    ) {
        self.qmpSockets = qmpSockets
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
        self.controlSocket = controlSocket
        self.manualClock = manualClock
        self.timeScale = timeScale
    }
}
