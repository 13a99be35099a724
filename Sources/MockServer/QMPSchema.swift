public import QMPWire
import Synchronization

/// The answer of `query-qmp-schema`: the recorded schema of the release being played, restricted to
/// the commands the monitor has registered and the events qmp-mockd can raise, and exactly the
/// types reachable from them.
///
/// Management tools (libvirt, govmm, qemu.qmp-based stacks) probe this schema for a command, an
/// argument or a feature before they use it; a schema listing what qmp-mockd does not implement
/// would lead them into `CommandNotFound`, one missing what it does implement would hide it.
/// Entities keep QEMU's order and QEMU's (numbered) type names of the recorded release. The
/// restriction runs against the live command table, so a command registered later appears as soon
/// as the recording has it.
public struct QMPSchema: Sendable {
    /// The release whose recording this is (`7.2.0`, `8.2.0`, `10.0.0`).
    public let release: String
    /// The `SchemaInfo` objects, in the order QEMU sends them.
    public let entities: [JSONValue]
    /// The names of the command entities, in schema order.
    public let commandNames: [String]
    /// The names of the event entities, in schema order.
    public let eventNames: [String]
    /// Registered commands the release's schema has no command entity for. A command here is not
    /// one that release has: it should not be registered for that profile.
    public let missingCommands: [String]
    /// Events qmp-mockd raises that the release's schema has no event entity for.
    public let missingEvents: [String]
    /// Type names some kept entity refers to that no entity of the recording defines (a broken
    /// recording or addition); always empty for the embedded data.
    public let unresolvedTypes: [String]
    /// ``entities`` as JSON text (the answer's `return`), rendered once by ``shared(release:commands:events:)``
    /// (nil otherwise): `query-qmp-schema` sends it instead of writing ~100 KB for every request.
    public private(set) var renderedEntities: [UInt8]?

    /// The schema for `release`, `commands` and `events`, computed once per process for each such
    /// triple: the result depends on nothing else (the recordings are embedded), so every caller
    /// gets the same value as ``init(release:commands:events:)`` would make, without re-parsing the
    /// recording (a whole session per fuzz input built it again for each `query-qmp-schema`).
    /// - Parameters:
    ///   - release: the profile version (`QEMUProfile.description`).
    ///   - commands: the names of the registered monitor commands.
    ///   - events: the names of the events monitors can receive.
    public static func shared(release: String, commands: [String], events: [String]) -> QMPSchema {
        let key = MemoKey(release: release, commands: commands, events: events)
        if let schema = memo.withLock({ $0[key] }) { return schema }
        var schema = QMPSchema(release: release, commands: commands, events: events)
        var text: [UInt8] = []
        JSONWriter.write(.array(schema.entities), into: &text)
        schema.renderedEntities = text
        memo.withLock { table in
            // A handful of keys per process (one per profile and command set); bound it anyway.
            if table.count >= 64 { table.removeAll() }
            table[key] = schema
        }
        return schema
    }

    private struct MemoKey: Hashable, Sendable {
        var release: String
        var commands: [String]
        var events: [String]
    }

    private static let memo = Mutex<[MemoKey: QMPSchema]>([:])

    /// The schema of a profile's release for these commands and events.
    /// - Parameters:
    ///   - release: the profile version (`QEMUProfile.description`).
    ///   - commands: the names of the registered monitor commands.
    ///   - events: the names of the events monitors can receive.
    public init(release: String, commands: [String], events: [String]) {
        guard let recording = RecordedSchema.forRelease(release) else {
            self.init(release: release, entities: [], missingCommands: commands, missingEvents: events, unresolved: [])
            return
        }
        self.init(recording: recording, commands: commands, events: events)
    }

    init(recording: RecordedSchema, commands: [String], events: [String]) {
        let lines = recording.entities()
        var index: [Substring: Int] = [:]
        index.reserveCapacity(lines.count)
        for (i, line) in lines.enumerated() { index[line.name] = i }

        var parsed: [Int: JSONObject] = [:]
        func entity(_ i: Int) -> JSONObject? {
            if let object = parsed[i] { return object }
            let object = JSONValue(parsing: String(lines[i].json))?.objectValue
            parsed[i] = object
            return object
        }

        // Seeds: each registered command and raised event that the recording has as such.
        var work: [Int] = []
        var missingCommands: [String] = []
        var missingEvents: [String] = []
        for (names, metaType) in [(commands, "command"), (events, "event")] {
            for name in names {
                if let i = index[Substring(name)], entity(i)?["meta-type"]?.stringValue == metaType {
                    work.append(i)
                } else if metaType == "command" {
                    missingCommands.append(name)
                } else {
                    missingEvents.append(name)
                }
            }
        }
        // Closure over type references.
        var kept = Set(work)
        var unresolved: [String] = []
        while let i = work.popLast() {
            guard let object = entity(i) else { continue }
            for name in Self.references(of: object) {
                guard let j = index[Substring(name)] else {
                    if !unresolved.contains(name) { unresolved.append(name) }
                    continue
                }
                if kept.insert(j).inserted { work.append(j) }
            }
        }
        let entities = kept.sorted().compactMap { entity($0) }
        self.init(
            release: recording.release,
            entities: entities.map { .object($0) },
            missingCommands: missingCommands,
            missingEvents: missingEvents,
            unresolved: unresolved
        )
    }

    private init(
        release: String,
        entities: [JSONValue],
        missingCommands: [String],
        missingEvents: [String],
        unresolved: [String]
    ) {
        self.release = release
        self.entities = entities
        func names(_ metaType: String) -> [String] {
            entities.compactMap { entity in
                guard let object = entity.objectValue, object["meta-type"]?.stringValue == metaType else { return nil }
                return object["name"]?.stringValue
            }
        }
        self.commandNames = names("command")
        self.eventNames = names("event")
        self.missingCommands = missingCommands
        self.missingEvents = missingEvents
        self.unresolvedTypes = unresolved
    }

    /// The entity of that name, if the restricted schema has it.
    public func entity(named name: String) -> JSONObject? {
        for entity in entities {
            if let object = entity.objectValue, object["name"]?.stringValue == name { return object }
        }
        return nil
    }

    /// The type names a `SchemaInfo` object refers to: `arg-type`, `ret-type`, `element-type`, and
    /// the `type` of its members (objects, alternates) and variants.
    public static func references(of entity: JSONObject) -> [String] {
        var names: [String] = []
        for key in ["arg-type", "ret-type", "element-type"] {
            if let name = entity[key]?.stringValue { names.append(name) }
        }
        for key in ["members", "variants"] {
            for member in entity[key]?.arrayValue ?? [] {
                if let name = member.objectValue?["type"]?.stringValue { names.append(name) }
            }
        }
        return names
    }
}
