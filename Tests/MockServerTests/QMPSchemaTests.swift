import QMPWire
import SimulatedMachine
import Testing

@testable import MockServer

/// `query-qmp-schema`, `query-commands` and the events: the schema each profile answers is the
/// recording restricted to what qmp-mockd implements, self-consistent, and agrees with the command
/// table, the events and the replies.
@Suite struct QMPSchemaTests {
    /// The answer of `query-qmp-schema` on a fresh session, and the names `query-commands` lists.
    static func answers(_ h: SessionHarness) -> (schema: [JSONObject], commands: [String]) {
        let s = h.negotiated()
        func reply(_ command: String) -> [JSONValue] {
            let lines = h.send(s, #"{"execute":"\#(command)"}"#)
            guard lines.count == 1, let array = JSONValue(parsing: lines[0])?.objectValue?["return"]?.arrayValue else {
                Issue.record("\(command): \(lines)")
                return []
            }
            return array
        }
        let schema = reply("query-qmp-schema").compactMap(\.objectValue)
        let commands = reply("query-commands").compactMap { $0.objectValue?["name"]?.stringValue }
        return (schema, commands)
    }

    static func names(_ schema: [JSONObject], _ metaType: String) -> [String] {
        schema.filter { $0["meta-type"]?.stringValue == metaType }.compactMap { $0["name"]?.stringValue }
    }

    static func entity(_ schema: [JSONObject], _ name: String?) -> JSONObject? {
        schema.first { $0["name"]?.stringValue == name }
    }

    @Test(arguments: QEMUProfile.supported) func commandsAndEventsAgreeWithTheSchema(version: String) {
        let h = SessionHarness(version: version)
        let (schema, commands) = Self.answers(h)
        #expect(Set(Self.names(schema, "command")) == Set(commands))
        #expect(Self.names(schema, "command").count == commands.count)
        #expect(Set(Self.names(schema, "event")) == Set(MachineEvent.Name.allCases.map(\.rawValue)))
        #expect(commands.contains("query-qmp-schema") && commands.contains("x-query-hotplug"))
        // QEMU (7.2, 10.0) has no query-events, and neither do we.
        #expect(!commands.contains("query-events"))
        let built = h.core.qmpSchema()
        #expect(built.missingCommands.isEmpty && built.missingEvents.isEmpty && built.unresolvedTypes.isEmpty)
        #expect(built.release == version)
    }

    @Test(arguments: QEMUProfile.supported) func typesAreExactlyTheReachableOnes(version: String) {
        let (schema, _) = Self.answers(SessionHarness(version: version))
        let names = schema.compactMap { $0["name"]?.stringValue }
        #expect(Set(names).count == names.count, "duplicate entity names")
        var reached = Set(Self.names(schema, "command") + Self.names(schema, "event"))
        var work = Array(reached)
        while let name = work.popLast() {
            guard let entity = Self.entity(schema, name) else {
                Issue.record("\(version): \(name) is referred to but not in the schema")
                continue
            }
            for reference in QMPSchema.references(of: entity) where reached.insert(reference).inserted {
                work.append(reference)
            }
        }
        #expect(reached == Set(names), "unreachable: \(Set(names).subtracting(reached).sorted())")
    }

    @Test(arguments: QEMUProfile.supported) func entitiesKeepTheRecordedOrder(version: String) {
        let (schema, _) = Self.answers(SessionHarness(version: version))
        guard let recording = RecordedSchema.forRelease(version) else {
            Issue.record("no recording for \(version)")
            return
        }
        var position: [String: Int] = [:]
        for (i, entity) in recording.entities().enumerated() { position[String(entity.name)] = i }
        let positions = schema.compactMap { $0["name"]?.stringValue.flatMap { position[$0] } }
        #expect(positions.count == schema.count)
        #expect(positions == positions.sorted())
        // QEMU's answer starts with query-status (qapi/run-state.json comes first).
        #expect(schema.first?["name"]?.stringValue == "query-status")
    }

    /// Each registered command's arguments and `allow-oob` are the schema's: what a client reads in
    /// the schema is what the dispatcher checks.
    @Test(arguments: QEMUProfile.supported) func argumentsAgreeWithTheDispatcher(version: String) {
        let h = SessionHarness(version: version)
        let (schema, commands) = Self.answers(h)
        for name in commands {
            guard let command = h.core.commands.lookup(name), let entity = Self.entity(schema, name),
                let argType = Self.entity(schema, entity["arg-type"]?.stringValue)
            else {
                Issue.record("\(version): \(name) has no entity or arg-type")
                continue
            }
            #expect((entity["allow-oob"]?.boolValue ?? false) == command.allowsOutOfBand, "\(name)")
            let members = argType["members"]?.arrayValue?.compactMap(\.objectValue) ?? []
            let schemaArguments = members.map { ($0["name"]?.stringValue ?? "", $0.contains("default")) }
            if command.arguments.allowsExtraMembers {
                // device_add ('gen': false), and netdev_add, blockdev-add and object-add (boxed unions
                // the machine checks per type, driver and qom-type).
                #expect(
                    ["device_add", "netdev_add", "blockdev-add", "object-add"].contains(name),
                    "only these take members outside a flat schema"
                )
                continue
            }
            let ours = command.arguments.members.map { ($0.name, $0.isOptional) }
            #expect(schemaArguments.map(\.0) == ours.map(\.0), "\(version) \(name) arguments")
            #expect(schemaArguments.map(\.1) == ours.map(\.1), "\(version) \(name) optional arguments")
        }
    }

    /// `query-status`'s return type lists exactly the members its reply has, and `singlestep` is
    /// deprecated in 8.2 (8.1 marked it) and gone in 10.0.
    @Test(arguments: QEMUProfile.supported) func queryStatusMatchesItsReply(version: String) {
        let h = SessionHarness(version: version)
        let (schema, _) = Self.answers(h)
        let status = Self.entity(schema, Self.entity(schema, "query-status")?["ret-type"]?.stringValue)
        let members = status?["members"]?.arrayValue?.compactMap(\.objectValue) ?? []
        let s = h.negotiated()
        let reply = JSONValue(parsing: h.send(s, #"{"execute":"query-status"}"#).first ?? "")
        let keys = reply?.objectValue?["return"]?.objectValue?.keys ?? []
        #expect(Set(members.compactMap { $0["name"]?.stringValue }) == Set(keys))
        let singlestep = members.first { $0["name"]?.stringValue == "singlestep" }
        switch version {
        case "7.2.0": #expect(singlestep != nil && singlestep?["features"] == nil)
        case "8.2.0": #expect(singlestep?["features"] == .array([.string("deprecated")]))
        default: #expect(singlestep == nil)
        }
    }

    /// `query-blockstats`' `BlockDeviceStats` lists as required exactly the members the reply has
    /// (the optional ones need I/O: `idle_time_ns`, the histograms); 8.2 and 10.0 have 8.1's
    /// `zone_append_*`.
    @Test(arguments: QEMUProfile.supported) func blockStatsMatchTheirSchema(version: String) {
        let h = SessionHarness(version: version)
        let (schema, _) = Self.answers(h)
        let list = Self.entity(schema, Self.entity(schema, "query-blockstats")?["ret-type"]?.stringValue)
        let entry = Self.entity(schema, list?["element-type"]?.stringValue)
        let statsType = entry?["members"]?.arrayValue?.compactMap(\.objectValue).first {
            $0["name"]?.stringValue == "stats"
        }
        let members = Self.entity(schema, statsType?["type"]?.stringValue)?["members"]?.arrayValue ?? []
        let required = members.compactMap(\.objectValue).filter { !$0.contains("default") }
        let s = h.negotiated()
        _ = h.send(s, #"{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n0"}}"#)
        let reply = JSONValue(
            parsing: h.send(s, #"{"execute":"query-blockstats","arguments":{"query-nodes":true}}"#).first ?? ""
        )
        let stats = reply?.objectValue?["return"]?.arrayValue?.first?.objectValue?["stats"]?.objectValue
        #expect(Set(required.compactMap { $0["name"]?.stringValue }) == Set(stats?.keys ?? []))
        #expect((stats?["zone_append_bytes"] != nil) == (version != "7.2.0"))
    }

    /// The v8 additions, as the series declares them, with `DeviceAndPath` shared with DEVICE_DELETED.
    @Test(arguments: QEMUProfile.supported) func v8AdditionsAreDescribed(version: String) {
        let (schema, _) = Self.answers(SessionHarness(version: version))
        let command = Self.entity(schema, "x-query-hotplug")
        #expect(command?["features"] == nil)
        let arguments = Self.entity(schema, command?["arg-type"]?.stringValue)
        #expect(arguments?["members"] == .array([.object(["name": .string("id"), "type": .string("str")])]))
        let info = Self.entity(schema, command?["ret-type"]?.stringValue)
        #expect(info?["tag"] == .string("type"))
        let members = info?["members"]?.arrayValue?.compactMap { $0.objectValue?["name"]?.stringValue }
        #expect(members == ["type", "bus", "addr", "child", "device-on", "power-led", "attention-led"])
        let cases = info?["variants"]?.arrayValue?.compactMap { $0.objectValue?["case"]?.stringValue }
        #expect(cases == ["shpc", "pcie-native"])
        let deviceAndPath = Self.entity(schema, "DEVICE_DELETED")?["arg-type"]
        #expect(deviceAndPath != nil)
        #expect(Self.entity(schema, "X_DEVICE_ON")?["arg-type"] == deviceAndPath)
        let bus = info?["members"]?.arrayValue?.compactMap(\.objectValue).first { $0["name"] == .string("bus") }
        #expect(bus?["type"] == deviceAndPath)
    }

    /// A command registered after start-up is in the next answer when the recording has it, and a
    /// command the release lacks is reported, not silently hidden.
    @Test func theRestrictionFollowsTheCommandTable() {
        let h = SessionHarness(version: "7.2.0")
        #expect(Self.entity(Self.answers(h).schema, "query-balloon") == nil)
        h.core.register(QMPCommand("query-balloon") { _ throws(QMPError) in .object(JSONObject()) })
        h.core.register(QMPCommand("x-not-in-qemu") { _ throws(QMPError) in .object(JSONObject()) })
        let (schema, commands) = Self.answers(h)
        let kvm = Self.entity(schema, "query-balloon")
        #expect(kvm != nil && Self.entity(schema, kvm?["ret-type"]?.stringValue) != nil)
        #expect(commands.contains("x-not-in-qemu") && Self.entity(schema, "x-not-in-qemu") == nil)
        #expect(h.core.qmpSchema().missingCommands == ["x-not-in-qemu"])
    }

    /// Every core of a release starts from the same command table (made once per process), and
    /// what one core registers stays its own.
    @Test func registrationsStayWithTheirCore() {
        let first = SessionHarness(version: "7.2.0")
        let names = first.core.commands.names
        first.core.register(QMPCommand("x-not-in-qemu") { _ throws(QMPError) in .object(JSONObject()) })
        let second = SessionHarness(version: "7.2.0")
        #expect(second.core.commands.names == names)
        #expect(
            second.core.commands.lookup("x-not-in-qemu") == nil && first.core.commands.lookup("x-not-in-qemu") != nil
        )
        #expect(SessionHarness(version: "10.0.0").core.commands.count >= names.count)
    }

    @Test func theAnswerIsStableAndNeedsNegotiation() {
        let h = SessionHarness()
        let fresh = h.open()
        _ = h.take(fresh)
        #expect(h.send(fresh, #"{"execute":"query-qmp-schema"}"#) == [QMPSessionTests.notNegotiated])
        let s = h.negotiated()
        let first = h.send(s, #"{"execute":"query-qmp-schema","id":1}"#)
        #expect(first.count == 1 && first[0].hasPrefix(#"{"return": [{"name": "query-status", "#))
        #expect(first[0].hasSuffix(#"], "id": 1}"#))
        #expect(h.send(s, #"{"execute":"query-qmp-schema","id":1}"#) == first)
        #expect(
            h.send(s, #"{"execute":"query-qmp-schema","arguments":{"x":1}}"#) == [
                #"{"error": {"class": "GenericError", "desc": "Parameter 'x' is unexpected"}}"#
            ]
        )
    }

    /// The process-wide memo (``QMPSchema/shared(release:commands:events:)``) answers exactly what a
    /// fresh computation does, per release and command set, and a second core gets the same answer.
    @Test(arguments: QEMUProfile.supported) func theSharedSchemaIsTheFreshOne(version: String) {
        let h = SessionHarness(version: version)
        let events = MachineEvent.Name.allCases.map(\.rawValue)
        for commands in [h.core.commands.names, Array(h.core.commands.names.prefix(3)), ["x-not-in-qemu"]] {
            let fresh = QMPSchema(release: version, commands: commands, events: events)
            for _ in 0..<2 {
                let shared = QMPSchema.shared(release: version, commands: commands, events: events)
                #expect(shared.entities == fresh.entities)
                #expect(shared.missingCommands == fresh.missingCommands && shared.missingEvents == fresh.missingEvents)
                var text: [UInt8] = []
                JSONWriter.write(.array(fresh.entities), into: &text)
                #expect(shared.renderedEntities == text)
            }
        }
        #expect(Self.answers(h).schema == Self.answers(SessionHarness(version: version)).schema)
    }

    /// The monitor sends the schema rendered once (``QMPCommand/rendered``): the reply line is the
    /// one the generic writer makes of the value, whatever the id (an id object with a `return`
    /// member included), and HMP-side callers of the plain handler get the same value.
    @Test func theRenderedAnswerIsTheWrittenOne() throws {
        let h = SessionHarness(version: "10.0.0")
        let session = h.negotiated()
        let entities = JSONValue.array(h.core.qmpSchema().entities)
        for id in [#"1"#, #""abc""#, #"{"return": null, "z": [1]}"#, #"-0.5"#] {
            let lines = h.send(session, #"{"execute": "query-qmp-schema", "id": "# + id + "}")
            var expected: [UInt8] = []
            QMPMessage.appendLine(QMPMessage.success(entities, id: JSONValue(parsing: id)), to: &expected)
            #expect(lines == [String(decoding: expected.dropLast(2), as: UTF8.self)])
        }
        let lines = h.send(session, #"{"execute": "query-qmp-schema"}"#)
        var expected: [UInt8] = []
        QMPMessage.appendLine(QMPMessage.success(entities, id: nil), to: &expected)
        #expect(lines == [String(decoding: expected.dropLast(2), as: UTF8.self)])
        let command = try #require(h.core.commands.lookup("query-qmp-schema"))
        #expect(try command.handler(QMPCall(arguments: [:], session: session, core: h.core)) == entities)
    }

    /// The embedded recordings: 7.2 and 10.0 in full, 8.2 as 7.2 with its derivation's replacements
    /// (StatusInfo's deprecated `singlestep`; BlockDeviceStats' and BlockDeviceTimedStats' 8.1
    /// `zone_append_*` members).
    @Test func recordingsAreEmbeddedPerProfile() {
        for version in QEMUProfile.supported {
            let entities = RecordedSchema.forRelease(version)?.entities() ?? []
            #expect(entities.count > 1000, "\(version)")
            for entity in entities.prefix(5) + entities.suffix(5) {
                #expect(JSONValue(parsing: String(entity.json))?.objectValue?["name"] == .string(String(entity.name)))
            }
        }
        #expect(RecordedSchema.qemu8_2.text == RecordedSchema.qemu7_2.text)
        #expect(RecordedSchema.qemu8_2.replacements.keys.sorted() == ["1", "275", "511"])
    }

    /// object-add's `qom-type` accepts exactly the values of the release's `ObjectType` enum: every
    /// one passes the visitor (simulated or not), and the schema's variants of the simulated types
    /// declare the members the machine checks.
    @Test(arguments: QEMUProfile.supported) func objectAddTypesAgreeWithTheSchema(version: String) {
        let h = SessionHarness(version: version)
        let (schema, _) = Self.answers(h)
        guard let command = Self.entity(schema, "object-add"),
            let union = Self.entity(schema, command["arg-type"]?.stringValue),
            let tag = union["members"]?.arrayValue?.first(where: { $0.objectValue?["name"]?.stringValue == "qom-type" }
            ),
            let values = Self.entity(schema, tag.objectValue?["type"]?.stringValue)?["values"]?.arrayValue
        else {
            Issue.record("\(version): no object-add in the schema")
            return
        }
        let s = h.negotiated()
        for case .string(let value) in values {
            let reply = h.send(s, #"{"execute": "object-add", "arguments": {"qom-type": "\#(value)", "id": "1"}}"#)
            #expect(reply.first?.contains("does not accept value") == false, "\(version): \(value)")
        }
        let bogus = h.send(s, #"{"execute": "object-add", "arguments": {"qom-type": "bogus", "id": "x"}}"#)
        #expect(bogus.first?.contains("Parameter 'qom-type' does not accept value 'bogus'") == true)
        for variant in union["variants"]?.arrayValue ?? [] {
            guard let name = variant.objectValue?["case"]?.stringValue,
                [
                    "iothread", "memory-backend-ram", "memory-backend-file", "memory-backend-memfd", "rng-random",
                    "rng-builtin", "secret",
                ].contains(name),
                let members = Self.entity(schema, variant.objectValue?["type"]?.stringValue)?["members"]?.arrayValue
            else { continue }
            // Every declared member is known: an integer for each one is a type error naming it, or accepted.
            for case .object(let member) in members {
                let memberName = member["name"]?.stringValue ?? ""
                let reply = h.send(
                    s,
                    #"{"execute": "object-add", "arguments": {"qom-type": "\#(name)", "id": "x", "\#(memberName)": []}}"#
                )
                #expect(
                    reply.first?.contains("'\(memberName)' is unexpected") == false,
                    "\(version): \(name).\(memberName)"
                )
            }
        }
    }
}
