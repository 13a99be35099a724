public import SimulatedMachine

/// A qmp-mockd configuration file (`--config FILE`) read: the machine it describes, and its `guest:`
/// section as a node, which only the guest layer (`GuestSim`, above this module) knows how to read.
///
/// The file's YAML goes through libyaml (``YAMLParser``); the machine module receives the
/// ``MachineConfiguration`` value, never text.
public struct ConfigurationFile: Sendable {
    /// The machine: type, cold-plugged controllers and devices, catalog additions.
    public var machine: MachineConfiguration
    /// The `guest:` section as written, or nil when the file has none.
    public var guestSection: YAMLNode?

    /// Makes a configuration from its parts.
    public init(machine: MachineConfiguration = MachineConfiguration(), guestSection: YAMLNode? = nil) {
        self.machine = machine
        self.guestSection = guestSection
    }

    /// Reads a configuration file's text (see ``SimulatedMachine/MachineConfiguration/load(yaml:)`` for
    /// the machine's keys); an empty file is the empty q35 machine.
    /// - Throws: the first syntax error or misplaced key, with its line and column.
    public static func load(yaml text: String) throws(MachineConfigurationError) -> ConfigurationFile {
        do throws(YAMLError) {
            let root = try YAMLParser.parse(text)
            if root.isNull { return ConfigurationFile() }
            var top = try root.mapping()
            let machine = try MachineConfiguration.read(from: &top)
            let guest = top.optional("guest")
            try top.finish()
            return ConfigurationFile(machine: machine, guestSection: guest)
        } catch {
            throw MachineConfigurationError(error)
        }
    }
}
