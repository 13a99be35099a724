public import QMPWire

/// One device of a machine configuration, like a `-device` option: driver, optional id and bus, and
/// properties. `line` is where the configuration file declared it (for error messages).
public struct DeviceSpec: Sendable, Equatable {
    public var driver: String
    public var id: String?
    public var bus: String?
    public var properties: JSONObject
    public var line: Int?
    /// The `-device` option as QEMU's command line gave it, which errors quote (`-device foo: 'foo' is
    /// not a valid device model name`); nil for a configuration file's entry.
    public var option: String?

    public init(
        driver: String,
        id: String? = nil,
        bus: String? = nil,
        properties: JSONObject = JSONObject(),
        line: Int? = nil,
        option: String? = nil
    ) {
        self.driver = driver
        self.id = id
        self.bus = bus
        self.properties = properties
        self.line = line
        self.option = option
    }

    /// The `device_add` arguments this spec stands for.
    public var arguments: JSONObject {
        var args = JSONObject()
        args.append("driver", .string(driver))
        if let id { args.append("id", .string(id)) }
        if let bus { args.append("bus", .string(bus)) }
        for member in properties.members { args.append(member.key, member.value) }
        return args
    }
}
