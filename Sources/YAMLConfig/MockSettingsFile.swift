public import SimulatedMachine

/// The file `QMP_MOCK_CONFIG` names when qmp-mockd runs as `qemu-system-x86_64`: the mock's own
/// settings, which QEMU's command line cannot carry, in the `--config` vocabulary. The command line
/// describes the machine; this file steers what only a mock has: the simulated guest (`guest:`), the
/// virtual clock, the control socket, the QEMU release to play, catalog additions and logging.
///
/// ```yaml
/// qemu-version: 7.2.0        # the profile (default 7.2.0 as qemu-system-x86_64)
/// clock: manual              # or realtime (default), with time-scale: F
/// control: /run/vm1.ctl      # the test control socket
/// transcript: /tmp/vm1.jsonl # every QMP message, as --transcript
/// log-level: warning         # as --log-level (default warning as qemu-system-x86_64)
/// catalog: [...]             # device models for -device, as in --config
/// guest: {...}               # the simulated guest, as in --config
/// ```
///
/// A machine key (`machine`, `devices`, `controllers`, `blockdevs`, `netdevs`, `objects`, `chardevs`,
/// `accel`, `smp`, `memory`, `globals`) is an error at its line: the command line is the machine.
public struct MockSettingsFile: Sendable {
    /// The keys of `--config` that describe the machine, refused here.
    public static let machineKeys = [
        "machine", "controllers", "devices", "blockdevs", "netdevs", "objects", "chardevs", "accel", "smp",
        "memory", "globals",
    ]

    /// `qemu-version:`, checked by the caller against the profiles.
    public var qemuVersion: String?
    /// `clock: manual` (true) or `realtime` (false); nil when not given.
    public var manualClock: Bool?
    /// `time-scale:`.
    public var timeScale: Double?
    /// `control:`: the control socket path.
    public var control: String?
    /// `transcript:`.
    public var transcript: String?
    /// `log-level:`, checked by the caller.
    public var logLevel: String?
    /// `catalog:` additions for the command line's machine.
    public var catalogAdditions: [DeviceModel] = []
    /// The `guest:` section, for the guest layer.
    public var guestSection: YAMLNode?

    /// Makes empty settings (nothing overridden).
    public init() {}

    /// Reads the file's text.
    /// - Throws: syntax errors, unknown keys and machine keys, with their line.
    public static func load(yaml text: String) throws(MachineConfigurationError) -> MockSettingsFile {
        do throws(YAMLError) {
            let root = try YAMLParser.parse(text)
            var settings = MockSettingsFile()
            if root.isNull { return settings }
            var top = try root.mapping()
            for key in machineKeys {
                if let entry = top.entries.first(where: { $0.key.text == key }) {
                    throw YAMLError(
                        line: entry.key.line,
                        column: entry.key.column,
                        message:
                            "'\(key)' describes the machine, which qemu-system-x86_64's command line gives "
                            + "(QMP_MOCK_CONFIG holds guest, clock, control, qemu-version, transcript, log-level, catalog)"
                    )
                }
            }
            settings.catalogAdditions = try MachineConfiguration.read(from: &top).catalogAdditions
            settings.qemuVersion = try top.optional("qemu-version")?.scalar().text
            if let node = top.optional("clock") {
                let mode = try node.string()
                guard mode == "manual" || mode == "realtime" else {
                    throw node.error("clock must be realtime or manual, not '\(mode)'")
                }
                settings.manualClock = mode == "manual"
            }
            if let node = top.optional("time-scale") {
                guard let scale = Double(try node.scalar().text), scale > 0, scale.isFinite else {
                    throw node.error("time-scale must be a positive number")
                }
                settings.timeScale = scale
            }
            settings.control = try top.optional("control")?.string()
            settings.transcript = try top.optional("transcript")?.string()
            settings.logLevel = try top.optional("log-level")?.string()
            settings.guestSection = top.optional("guest")
            try top.finish()
            return settings
        } catch {
            throw MachineConfigurationError(error)
        }
    }
}
