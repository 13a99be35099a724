public import SimulatedMachine

/// A QEMU command line translated: the machine it describes, as the same ``MachineConfiguration``
/// value a `--config` file gives (one machine, one code path), and the process settings QEMU's
/// options carry (monitors, `-S`, `-daemonize`, `-pidfile`, `-name`, ...).
///
/// QEMU's defaults apply to what the command line leaves out: the `pc` machine, TCG, one CPU,
/// 128 MiB, no `-global` (so ACPI PCI hot-plug), no monitor.
public struct QEMUInvocation: Sendable {
    /// The machine: type, board (accelerator, `-smp`, `-m`, `-global`), backends and devices.
    public var machine: MachineConfiguration
    /// The machine type as written (`pc-q35-7.2`, `q35`, `none`); `pc` when none was given.
    public var machineName: String
    /// QMP monitors, in command-line order (`-qmp`, then `-mon` in their order as QEMU creates them).
    public var monitors: [QEMUMonitor]
    /// `-name guest=NAME` (or `-name NAME`): what `query-name` returns.
    public var name: String?
    /// `-uuid`, lower-cased.
    public var uuid: String?
    /// `-cpu MODEL` (features after the model are accepted and not modelled).
    public var cpuModel: String?
    /// `-S`: start in `prelaunch` until `cont`.
    public var startPaused: Bool
    /// `-daemonize`: fork, the first process exits 0 once the monitors listen, stdio to `/dev/null`.
    public var daemonize: Bool
    /// `-pidfile FILE`: written with the PID and locked while the process lives.
    public var pidfile: String?
    /// `-no-shutdown`: a guest power-off stops the VM instead of ending the process.
    public var noShutdown: Bool
    /// `-msg timestamp=on`: error and warning lines start with an ISO 8601 UTC time.
    public var timestampMessages: Bool
    /// Options read and ignored (`-display none`, `-rtc base=utc`, ...), as written, for logs.
    public var ignored: [String]

    /// Whether `-machine none` was given: no board, no PCI topology.
    public var isMachineNone: Bool { machineName == "none" }

    /// QEMU's defaults: the `pc` machine under TCG with nothing else.
    public init() {
        var machine = MachineConfiguration(machineType: .pc)
        machine.board = BoardOptions(accel: .tcg)
        self.machine = machine
        self.machineName = "pc"
        self.monitors = []
        self.startPaused = false
        self.daemonize = false
        self.noShutdown = false
        self.timestampMessages = false
        self.ignored = []
    }
}
