import QMPWire

/// The migration capabilities of the VM (`query-migrate-capabilities`, `migrate-set-capabilities`):
/// the release's list as recorded (all off, in QEMU's order), with the states clients set. libvirt
/// sets `events` on at every domain start. No migration is simulated; QEMU's checks of capability
/// combinations against a running migration or the machine are not modelled (docs/probe.md).
struct MigrationCapabilities {
    private(set) var states: [(name: String, state: Bool)]

    /// The list a `query-migrate-capabilities` answer holds (`[{"state": false, "capability": "xbzrle"}, ...]`).
    init(recorded: JSONValue) {
        states = (recorded.arrayValue ?? []).compactMap { entry in
            guard let object = entry.objectValue, let name = object["capability"]?.stringValue else { return nil }
            return (name, object["state"]?.boolValue ?? false)
        }
    }

    /// `query-migrate-capabilities`.
    var json: JSONValue {
        .array(
            states.map { .object(JSONObject([("state", .bool($0.state)), ("capability", .string($0.name))])) }
        )
    }

    /// `migrate-set-capabilities`: the whole list is checked with QEMU's input-visitor texts before any
    /// state changes (`Parameter 'capability' does not accept value 'x'`, `Parameter
    /// 'capabilities[0].state' is missing`).
    mutating func set(_ list: [JSONValue]) throws(QMPError) {
        var changes: [(Int, Bool)] = []
        for (i, entry) in list.enumerated() {
            let path = "capabilities[\(i)]"
            guard let object = entry.objectValue else {
                throw .generic("Invalid parameter type for '\(path)', expected: object")
            }
            guard let capability = object["capability"] else {
                throw .generic("Parameter '\(path).capability' is missing")
            }
            guard let name = capability.stringValue else {
                throw .generic("Invalid parameter type for '\(path).capability', expected: string")
            }
            guard let index = states.firstIndex(where: { $0.name == name }) else {
                throw .generic("Parameter 'capability' does not accept value '\(name)'")
            }
            guard let state = object["state"] else { throw .generic("Parameter '\(path).state' is missing") }
            guard let value = state.boolValue else {
                throw .generic("Invalid parameter type for '\(path).state', expected: boolean")
            }
            for member in object.members where member.key != "capability" && member.key != "state" {
                throw .generic("Parameter '\(path).\(member.key)' is unexpected")
            }
            changes.append((index, value))
        }
        for (index, value) in changes { states[index].state = value }
    }
}
