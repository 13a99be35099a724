import MockServer
import QMPWire
import SimulatedMachine
import Testing

/// `human-monitor-command`: QEMU's text output (outputs recorded from QEMU 7.2.22 and 10.0.2; the
/// conformance scenario `hmp` compares the same lines with a running QEMU).
@Suite struct HumanMonitorTests {
    private func hmp(_ h: SessionHarness, _ s: QMPSession, _ line: String) -> [String] {
        h.send(
            s,
            #"{"execute": "human-monitor-command", "arguments": {"command-line": \#(JSONValue.string(line).jsonText)}}"#
        )
    }

    private func text(_ value: String) -> String { #"{"return": \#(JSONValue.string(value).jsonText)}"# }

    @Test func infoCommands() {
        let h = SessionHarness(version: "7.2.0", name: "vm1")
        let s = h.negotiated()
        #expect(hmp(h, s, "info status") == [text("VM status: running\r\n")])
        #expect(hmp(h, s, "  info   name  ") == [text("vm1\r\n")])
        #expect(hmp(h, s, "info version") == [text("7.2.0qmp-mock test\r\n")])
        #expect(
            hmp(h, s, "info version x") == [
                text(
                    "version: extraneous characters at the end of line\r\nTry \"help info version\" for more information\r\n"
                )
            ]
        )
        #expect(hmp(h, s, "info bogus") == [text("unknown command: 'info bogus'\r\n")])
        #expect(hmp(h, s, "bogus") == [text("unknown command: 'bogus'\r\n")])
        #expect(hmp(h, s, "") == [text("")])
        #expect(hmp(h, s, "info pci").first?.contains(#"Host bridge: PCI device 8086:29c0\r\n"#) == true)
    }

    @Test func errorsArePartOfTheText() {
        let h = SessionHarness()
        let s = h.negotiated()
        #expect(hmp(h, s, "device_add") == [text("Error: Parameter 'driver' is missing\r\n")])
        #expect(
            hmp(h, s, "device_add virtio-net-pci,,x") == [
                text("Error: 'virtio-net-pci,x' is not a valid device model name\r\n")
            ]
        )
        #expect(
            hmp(h, s, "device_add virtio-rng-pci,id=1r") == [text("Try \"help device_add\" for more information\r\n")]
        )
        #expect(
            hmp(h, s, "device_del") == [
                text("device_del: string expected\r\nTry \"help device_del\" for more information\r\n")
            ]
        )
        #expect(hmp(h, s, "device_del nope") == [text("Error: Device 'nope' not found\r\n")])
        #expect(
            hmp(h, s, "s x") == [
                text("stop|s: extraneous characters at the end of line\r\nTry \"help s\" for more information\r\n")
            ]
        )
    }

    @Test func deviceAddTakesTextValuesInEveryProfile() throws {
        for version in ["7.2.0", "10.0.0"] {
            let h = SessionHarness(version: version, board: MachineConfiguration.standard.board)
            try h.core.machine.coldPlug(.standard)
            let s = h.negotiated()
            #expect(hmp(h, s, "device_add virtio-net-pci,bus=pci.1,id=n1,mq=on,addr=0x0") == [text("")])
            #expect(
                h.send(s, #"{"execute": "qom-get", "arguments": {"path": "/machine/peripheral/n1", "property": "mq"}}"#)
                    == [#"{"return": true}"#]
            )
        }
    }

    @Test func stopAndContRaiseTheirEventsBeforeTheText() {
        let h = SessionHarness()
        let s = h.negotiated()
        let stopped = hmp(h, s, "stop")
        #expect(stopped.count == 2 && stopped[0].contains(#""event": "STOP""#) && stopped[1] == text(""))
        #expect(hmp(h, s, "info status") == [text("VM status: paused\r\n")])
        #expect(hmp(h, s, "system_reset").last == text(""))
        #expect(hmp(h, s, "info status") == [text("VM status: paused (prelaunch)\r\n")])
        #expect(
            h.send(s, #"{"execute": "human-monitor-command", "arguments": {"command-line": "c", "cpu-index": 1}}"#) == [
                #"{"error": {"class": "GenericError", "desc": "Parameter 'cpu-index' expects a CPU number"}}"#
            ]
        )
    }
}
