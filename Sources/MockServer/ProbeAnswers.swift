import QMPWire
import SimulatedMachine

/// The capability probe as qmp-mockd answers it: the profile's recorded answers (``RecordedProbe``),
/// restricted where an answer advertises what qmp-mockd would then have to do.
///
/// The restriction is about device models, the thing qmp-mock simulates: PCI device types (the
/// descendants of `pci-device`) that neither the machine's catalog nor its built-in functions have
/// are left out of `qom-list-types`, and `device-list-properties`/`qom-list-properties` answer them
/// as QEMU answers a type it does not have; `query-machines` and the machine types keep only the
/// two boards qmp-mock models (`pc-q35-*`, `pc-i440fx-*`) and `none`. Everything else (CPU models,
/// backends, other device types, command-line options, migration capabilities) is the recording's,
/// and `query-kvm` follows the machine's accelerator. A request the recording has no answer for
/// (other arguments of `query-cpu-model-expansion`, properties of a type nobody recorded) gets a
/// GenericError that says so, never an invented answer.
final class ProbeAnswers {
    let recording: RecordedProbe
    /// Every type (abstract ones too) with its parent, in QEMU's order (`qom-list-types abstract=true`).
    private let everyType: [(name: String, parent: String)]
    /// Every type's parent, by type.
    private let parents: [String: String]
    /// The non-abstract types in QEMU's order, each with its parent (the plain `qom-list-types`).
    private let concrete: [(name: String, parent: String)]
    /// The types left out.
    private let hidden: Set<String>

    /// PCI functions of the boards' built-in devices, by QEMU type name: kept although no catalog
    /// model has them (`device_add` refuses them, as QEMU does: they are not user-creatable).
    static let builtinTypes: Set<String> = [
        "mch", "ICH9-LPC", "ich9-ahci", "ICH9-SMB", "i440FX", "PIIX3", "piix3-ide", "PIIX4_PM",
    ]

    init?(release: String, catalog: DeviceCatalog) {
        guard let recording = RecordedProbe(release: release) else { return nil }
        self.recording = recording
        func pairs(_ value: JSONValue?) -> [(name: String, parent: String)] {
            (value?.arrayValue ?? []).compactMap { entry in
                guard let object = entry.objectValue, let name = object["name"]?.stringValue else { return nil }
                return (name, object["parent"]?.stringValue ?? "")
            }
        }
        everyType = pairs(try? recording.answer("qom-list-types", JSONObject([("abstract", .bool(true))]))?.get())
        concrete = pairs(try? recording.answer("qom-list-types")?.get())
        var parents: [String: String] = [:]
        for entry in everyType { parents[entry.name] = entry.parent }
        self.parents = parents
        let kept = Set(catalog.names).union(Self.builtinTypes)
        var hidden: Set<String> = []
        for entry in concrete {
            let ancestry = Self.ancestry(of: entry.name, parents)
            if ancestry.contains("pci-device"), !kept.contains(entry.name) { hidden.insert(entry.name) }
            if ancestry.contains("machine"), entry.name.hasSuffix("-machine"),
                !Self.isModelledMachine(String(entry.name.dropLast("-machine".count)))
            {
                hidden.insert(entry.name)
            }
        }
        self.hidden = hidden
    }

    /// Whether qmp-mock models a machine of that name (`none` included).
    static func isModelledMachine(_ name: String) -> Bool {
        name == "none" || name.hasPrefix("pc-q35-") || name.hasPrefix("pc-i440fx-")
    }

    private static func ancestry(of name: String, _ parents: [String: String]) -> [String] {
        var result: [String] = []
        var current = parents[name]
        while let type = current, !type.isEmpty, result.count < 64 {
            result.append(type)
            current = parents[type]
        }
        return result
    }

    /// `qom-list-types`: the types that are not hidden, abstract ones only when asked, only those
    /// that are or descend from `implements` when it is given (QEMU's order and answer shape).
    func listTypes(implements: String?, abstract: Bool) -> JSONValue {
        let source = abstract ? everyType : concrete
        var result: [JSONValue] = []
        for entry in source where !hidden.contains(entry.name) {
            if let implements, entry.name != implements, !Self.ancestry(of: entry.name, parents).contains(implements) {
                continue
            }
            var info = JSONObject(capacity: 2)
            info.append("name", .string(entry.name))
            if !entry.parent.isEmpty { info.append("parent", .string(entry.parent)) }
            result.append(.object(info))
        }
        return .array(result)
    }

    /// `device-list-properties` / `qom-list-properties` of a type.
    func properties(_ command: String, typename: String) throws(QMPError) -> JSONValue {
        let notFound =
            command == "device-list-properties" ? "Device '\(typename)' not found" : "Class '\(typename)' not found"
        if hidden.contains(typename) { throw QMPError(.deviceNotFound, notFound) }
        if let answer = recording.answer(command, JSONObject([("typename", .string(typename))])) {
            return try answer.get()
        }
        if parents[typename] == nil { throw QMPError(.deviceNotFound, notFound) }
        throw .generic(
            "qmp-mockd has no recorded answer to \(command) for '\(typename)' (docs/probe.md lists what the probe recording holds)"
        )
    }

    /// `query-machines`: the recorded list without the boards qmp-mock does not model.
    func machines() throws(QMPError) -> JSONValue {
        let all = try recorded("query-machines")
        return .array(
            (all.arrayValue ?? []).filter {
                Self.isModelledMachine($0.objectValue?["name"]?.stringValue ?? "")
            }
        )
    }

    /// Path of the CPU whose properties were recorded (`-cpu qemu64` on q35, TCG).
    static let recordedCPUPath = "/machine/unattached/device[0]"

    /// `qom-list` of the recorded boot CPU: what every CPU of the machine's model lists.
    func cpuProperties() -> JSONValue? {
        try? recording.answer("qom-list", JSONObject([("path", .string(Self.recordedCPUPath))]))?.get()
    }

    /// `qom-get` of a property of the recorded boot CPU (its value, or QEMU's error such as `is not
    /// readable`), nil when it was not recorded (links, children, unknown names).
    func cpuProperty(_ name: String) -> Result<JSONValue, QMPError>? {
        let arguments = JSONObject([("path", .string(Self.recordedCPUPath)), ("property", .string(name))])
        return recording.answer("qom-get", arguments)
    }

    /// A recorded answer as it is, or the GenericError that says none was recorded.
    func recorded(_ command: String, _ arguments: JSONObject? = nil) throws(QMPError) -> JSONValue {
        guard let answer = recording.answer(command, arguments) else {
            throw .generic(
                "qmp-mockd has no recorded answer to \(command) with these arguments (docs/probe.md lists what the probe recording holds)"
            )
        }
        return try answer.get()
    }
}
