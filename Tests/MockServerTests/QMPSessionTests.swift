import MockServer
import QMPWire
import SimulatedMachine
import Testing

/// The session engine: negotiation, dispatch order, errors and events, without sockets.
@Suite struct QMPSessionTests {
    static let notNegotiated =
        #"{"error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}}"#

    @Test func greetingPerProfile() {
        for (version, qemu) in [
            ("7.2.0", #"{"micro": 0, "minor": 2, "major": 7}"#), ("10.0.0", #"{"micro": 0, "minor": 0, "major": 10}"#),
        ] {
            let h = SessionHarness(version: version)
            let s = h.open()
            #expect(
                h.take(s) == [
                    #"{"QMP": {"version": {"qemu": \#(qemu), "package": "qmp-mock test"}, "capabilities": ["oob"]}}"#
                ]
            )
        }
    }

    @Test func negotiationMode() {
        let h = SessionHarness()
        let s = h.open()
        _ = h.take(s)
        #expect(h.send(s, #"{"execute":"query-status"}"#) == [Self.notNegotiated])
        #expect(
            h.send(s, #"{"execute":"nonexistent","id":"a"}"#) == [
                #"{"id": "a", "error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}}"#
            ]
        )
        #expect(
            h.send(s, #"{"exec-oob":"query-status","id":2}"#) == [
                #"{"id": 2, "error": {"class": "GenericError", "desc": "QMP input member 'exec-oob' is unexpected"}}"#
            ]
        )
        #expect(
            h.send(s, #"{"execute":"qmp_capabilities","arguments":{"enable":["foo"]},"id":3}"#) == [
                #"{"id": 3, "error": {"class": "GenericError", "desc": "Parameter 'null' does not accept value 'foo'"}}"#
            ]
        )
        #expect(
            h.send(s, #"{"execute":"qmp_capabilities","arguments":{"foo":1},"id":5}"#) == [
                #"{"id": 5, "error": {"class": "GenericError", "desc": "Parameter 'foo' is unexpected"}}"#
            ]
        )
        #expect(s.mode == .negotiating)
        #expect(
            h.send(s, #"{"execute":"qmp_capabilities","arguments":{"enable":["oob","oob"]},"id":4}"#) == [
                #"{"return": {}, "id": 4}"#
            ]
        )
        #expect(s.mode == .command && s.outOfBandEnabled)
        #expect(
            h.send(s, #"{"execute":"qmp_capabilities","id":6}"#) == [
                #"{"id": 6, "error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is already complete, command ignored"}}"#
            ]
        )
    }

    @Test func commandModeErrors() {
        let h = SessionHarness()
        let s = h.negotiated(oob: true)
        #expect(
            h.send(s, #"{"execute":"nonexistent","id":"a"}"#) == [
                #"{"id": "a", "error": {"class": "CommandNotFound", "desc": "The command nonexistent has not been found"}}"#
            ]
        )
        #expect(
            h.send(s, #"{"exec-oob":"query-status","id":9}"#) == [
                #"{"id": 9, "error": {"class": "GenericError", "desc": "The command query-status does not support OOB"}}"#
            ]
        )
        #expect(
            h.send(s, #"{"exec-oob":"nonexist"}"#) == [
                #"{"error": {"class": "CommandNotFound", "desc": "The command nonexist has not been found"}}"#
            ]
        )
        #expect(
            h.send(s, #"{"execute":"query-status","arguments":{"x":1},"id":14}"#) == [
                #"{"id": 14, "error": {"class": "GenericError", "desc": "Parameter 'x' is unexpected"}}"#
            ]
        )
        #expect(
            h.send(s, #"{"execute": }"#) == [
                #"{"error": {"class": "GenericError", "desc": "JSON parse error, expecting value"}}"#
            ]
        )
        #expect(
            h.send(s, #"{"execute":"query-name","id":1,"id":2}"#) == [
                #"{"error": {"class": "GenericError", "desc": "JSON parse error, duplicate key"}}"#
            ]
        )
        #expect(
            h.send(s, "\u{01}") == [
                #"{"error": {"class": "GenericError", "desc": "JSON parse error, stray '\u0001'"}}"#
            ]
        )
        #expect(
            h.send(s, "[1,2]") == [#"{"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}}"#]
        )
    }

    @Test func idEchoedAsAnyJSONValue() {
        let h = SessionHarness()
        let s = h.negotiated()
        let cases: [(String, String)] = [
            (#"[1,{"a":null}]"#, #"[1, {"a": null}]"#), ("null", "null"), ("1.0", "1"), ("true", "true"),
            (#""caf\u00e9""#, #""caf\u00E9""#), ("18446744073709551615", "18446744073709551615"), ("-0", "0"),
            (#"{"b":1,"a":2}"#, #"{"a": 2, "b": 1}"#),  // QDict order
            ("'sq'", #""sq""#),
        ]
        for (id, echoed) in cases {
            #expect(h.send(s, #"{"execute":"query-name","id":\#(id)}"#) == [#"{"return": {}, "id": \#(echoed)}"#])
        }
        #expect(h.send(s, #"{"execute":"query-name"}"#) == [#"{"return": {}}"#])
    }

    @Test func pipelinedAndSplitMessagesAnswerInOrder() {
        let h = SessionHarness()
        let s = h.negotiated()
        #expect(
            h.send(s, #"{"execute":"query-name","id":1}{"execute":"query-name","id":2}"#) == [
                #"{"return": {}, "id": 1}"#, #"{"return": {}, "id": 2}"#,
            ]
        )
        #expect(h.send(s, "{\"execute\":\"query-name\",\n\"id\":\"split\"") == [])
        #expect(h.send(s, "}") == [#"{"return": {}, "id": "split"}"#])
    }

    @Test func statusPerProfile() {
        let running = SessionHarness(version: "8.2.0")
        let s = running.negotiated()
        #expect(
            running.send(s, #"{"execute":"query-status"}"#) == [
                #"{"return": {"status": "running", "singlestep": false, "running": true}}"#
            ]
        )
        let modern = SessionHarness(version: "10.0.0", paused: true)
        let m = modern.negotiated()
        #expect(
            modern.send(m, #"{"execute":"query-status"}"#) == [
                #"{"return": {"status": "prelaunch", "running": false}}"#
            ]
        )
    }

    @Test func stopAndContEmitEventsBeforeReply() {
        let h = SessionHarness()
        let s = h.negotiated()
        let stop = #"{"timestamp": {"seconds": 100, "microseconds": 5}, "event": "STOP"}"#
        let resume = #"{"timestamp": {"seconds": 100, "microseconds": 5}, "event": "RESUME"}"#
        #expect(h.send(s, #"{"execute":"stop","id":6}"#) == [stop, #"{"return": {}, "id": 6}"#])
        #expect(h.send(s, #"{"execute":"stop"}"#) == [#"{"return": {}}"#])
        #expect(h.core.machine.runState == .paused)
        #expect(h.send(s, #"{"execute":"cont"}"#) == [resume, #"{"return": {}}"#])
        #expect(h.send(s, #"{"execute":"cont"}"#) == [#"{"return": {}}"#])
    }

    @Test func prelaunchStopIsANoOp() {
        let h = SessionHarness(paused: true)
        let s = h.negotiated()
        #expect(h.send(s, #"{"execute":"stop"}"#) == [#"{"return": {}}"#])
        #expect(h.core.machine.runState == .prelaunch)
    }

    @Test func eventsOnlyReachNegotiatedSessions() {
        let h = SessionHarness()
        let a = h.negotiated("one")
        let b = h.open("one")
        _ = h.take(b)
        let c = h.negotiated("two")
        h.send(a, #"{"execute":"stop"}"#)
        #expect(h.take(b) == [])
        #expect(h.take(c) == [#"{"timestamp": {"seconds": 100, "microseconds": 5}, "event": "STOP"}"#])
        #expect(h.send(b, #"{"execute":"qmp_capabilities"}"#) == [#"{"return": {}}"#])
    }

    @Test func quitSendsShutdownThenReplyAndStopsInput() {
        let h = SessionHarness()
        let s = h.negotiated()
        let other = h.negotiated()
        let lines = h.send(s, #"{"execute":"quit","id":"q"}{"execute":"query-name"}"#)
        #expect(
            lines == [
                #"{"timestamp": {"seconds": 100, "microseconds": 5}, "event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}}"#,
                #"{"return": {}, "id": "q"}"#,
            ]
        )
        #expect(h.core.shutdownRequest == .quit)
        #expect(h.take(other).count == 1)
    }

    @Test func queryCommandsListsTheTable() {
        let h = SessionHarness(name: "vm1")
        let s = h.negotiated()
        let names = [
            "human-monitor-command", "query-cpu-model-expansion", "query-command-line-options", "query-machines",
            "qom-list-properties", "device-list-properties", "qom-list-types", "query-kvm", "migrate-set-capabilities",
            "query-migrate-capabilities", "query-sgx-capabilities", "query-sev-capabilities", "query-tpm-types",
            "query-tpm-models", "query-cpu-definitions", "query-target", "query-memory-size-summary",
            "query-memory-devices", "query-iothreads", "query-memdev",
            "object-del", "object-add", "query-chardev",
            "chardev-remove", "chardev-add", "block_resize", "query-blockstats", "query-block",
            "query-named-block-nodes", "blockdev-del", "blockdev-add", "netdev_del", "netdev_add", "query-fdsets",
            "remove-fd", "add-fd", "closefd", "getfd", "system_powerdown", "system_reset", "qom-get", "qom-list",
            "query-pci", "x-query-hotplug", "device_del", "device_add",
            "quit", "cont", "stop", "query-acpi-ospm-status", "query-cpus-fast", "query-hotpluggable-cpus",
            "query-uuid", "query-name", "query-status", "query-qmp-schema",
            "query-commands", "query-version",
            "qmp_capabilities",
        ]
        #expect(
            h.send(s, #"{"execute":"query-commands"}"#) == [
                "{\"return\": [" + names.map { #"{"name": "\#($0)"}"# }.joined(separator: ", ") + "]}"
            ]
        )
        #expect(h.send(s, #"{"execute":"query-name"}"#) == [#"{"return": {"name": "vm1"}}"#])
        #expect(
            h.send(s, #"{"execute":"query-version"}"#) == [
                #"{"return": {"qemu": {"micro": 0, "minor": 2, "major": 8}, "package": "qmp-mock test"}}"#
            ]
        )
    }

    @Test func guestRegisterWriteEventsRenderLikeTheirObjects() {
        let harness = SessionHarness()
        let control = harness.core.openSession(monitor: "c", role: .control, transport: harness.transport)
        _ = harness.take(control)
        harness.send(control, #"{"execute":"qmp_capabilities"}"#)
        let writes = [
            GuestRegisterWrite(controller: "pci.1", register: "slot-status", written: 16, old: 80, new: 64),
            GuestRegisterWrite(
                controller: "/machine/peripheral-anon/device[3]",
                register: "shpc-command",
                target: 7,
                written: 0x48,
                old: 0,
                new: 0xFFFF_FFFF
            ),
        ]
        for write in writes {
            harness.core.guestRegisterWrite(write)
            var data = JSONObject()
            data.append("controller", .string(write.controller))
            data.append("register", .string(write.register))
            if let target = write.target { data.append("target", .int(Int64(target))) }
            data.append("value", .int(Int64(write.written)))
            data.append("old", .int(Int64(write.old)))
            data.append("new", .int(Int64(write.new)))
            var expected: [UInt8] = []
            QMPMessage.appendLine(
                QMPMessage.event("GUEST_REGISTER_WRITE", data: data, seconds: 100, microseconds: 5),
                to: &expected
            )
            #expect(harness.take(control) == [String(decoding: expected.dropLast(2), as: UTF8.self)])
        }
    }
}
