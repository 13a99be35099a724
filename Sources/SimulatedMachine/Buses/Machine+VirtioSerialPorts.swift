import QMPWire

/// Port numbers and names on a virtio-serial bus, as `virtser_port_device_realize` and
/// `virtconsole_realize` (QEMU 7.2.22 and 10.0.2) check and assign them.
extension Machine {
    /// `nr` when not given (`VIRTIO_CONSOLE_BAD_ID`).
    static let serialPortUnassigned: Int64 = 0xFFFF_FFFF

    /// The number (`nr`) of a port being added: a given one must be free; a name must be unique on
    /// every virtio-serial bus of the machine; without `nr` the first console takes port 0 and any
    /// other port the first free number of the bus's bitmap, where 0 stays reserved. The number is
    /// checked against `max_ports` last, then port 0 against a non-console.
    func assignSerialPort(_ properties: inout [String: JSONValue], on bus: PCIBus, isConsole: Bool) throws(QMPError) {
        let ports = bus.children
        let maxPorts = bus.owner?.property("max_ports")?.int64Value ?? 31
        var nr = properties["nr"]?.int64Value ?? Self.serialPortUnassigned
        let pluggingPortZero = isConsole && !ports.contains { $0.integer("nr") == 0 }
        if ports.contains(where: { $0.integer("nr") == nr }) {
            throw .generic("virtio-serial-bus: A port already exists at id \(nr)")
        }
        if let name = properties["name"]?.stringValue, serialPortNamed(name) != nil {
            throw .generic("virtio-serial-bus: A port already exists by name \(name)")
        }
        if nr == Self.serialPortUnassigned {
            if pluggingPortZero {
                nr = 0
            } else {
                // `find_free_port_id`: the bitmap has whole 32-bit words, so a number past
                // `max_ports` may be found (and refused below as out of range).
                let used = Set(ports.map { $0.integer("nr") }).union([0])
                let words = (maxPorts + 31) / 32
                guard let free = (0..<(words * 32)).first(where: { !used.contains($0) }) else {
                    throw .generic("virtio-serial-bus: Maximum port limit for this device reached")
                }
                nr = free
            }
        }
        if nr >= maxPorts {
            throw .generic("virtio-serial-bus: Out-of-range port id specified, max. allowed: \(maxPorts - 1)")
        }
        if nr == 0 && !isConsole {
            throw .generic(
                "Port number 0 on virtio-serial devices reserved for virtconsole devices for backward compatibility."
            )
        }
        properties["nr"] = .int(nr)
    }

    /// The port of that name on any virtio-serial bus (`find_port_by_name` looks at every device).
    private func serialPortNamed(_ name: String) -> Device? {
        for bus in busesByName.values where bus.kind == .virtioSerial {
            if let port = bus.children.first(where: { $0.property("name")?.stringValue == name }) { return port }
        }
        return nil
    }
}
