public import QMPWire

/// One backend of a machine configuration (`blockdevs:`, `netdevs:`, `objects:`, `chardevs:`, and the
/// command line's `-drive`): the arguments of the command that creates it (QEMU's
/// `-blockdev`/`-netdev`/`-object`/`-chardev` in JSON form), and where it came from for errors: the
/// configuration file's line, or the command-line option as written (none for the embedded machine).
public struct BackendEntry: Sendable {
    public var arguments: JSONObject
    public var line: Int?
    /// The option as QEMU's command line gave it (`-netdev user,id=n0`), which errors quote as QEMU
    /// does (`-netdev user,id=1x: Parameter 'id' expects an identifier`); nil for a file's entry.
    public var option: String?
    /// The `key=value` pairs when the option was written as text: their values are then read as
    /// QEMU's options visitor reads text (`on`, `0x10`), not as JSON; nil for JSON arguments.
    public var textOptions: [(key: String, value: String)]?

    public init(
        _ arguments: JSONObject,
        line: Int? = nil,
        option: String? = nil,
        textOptions: [(key: String, value: String)]? = nil
    ) {
        self.arguments = arguments
        self.line = line
        self.option = option
        self.textOptions = textOptions
    }
}
