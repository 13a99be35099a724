public import QMPWire

/// One backend of a machine configuration (`blockdevs:`, `netdevs:`, `objects:`, `chardevs:`): the
/// arguments of the command that creates it (QEMU's `-blockdev`/`-netdev`/`-object`/`-chardev` in
/// JSON form), and the configuration file's line for errors (none for the embedded machine).
public struct BackendEntry: Sendable {
    public var arguments: JSONObject
    public var line: Int?

    public init(_ arguments: JSONObject, line: Int? = nil) {
        self.arguments = arguments
        self.line = line
    }
}
