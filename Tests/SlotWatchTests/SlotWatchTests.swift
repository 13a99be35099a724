import QMPWire
import SlotWatch
import Testing

/// `machine-state` read into slots, the plain line format and its diffs, event summaries and the
/// terminal frame: what `qmp-mockctl watch` shows, without a daemon.
@Suite struct SlotWatchTests {
    /// A `machine-state` reply: pci.1 with hp1 (pending unplug 4.2 s), an empty pci.2, SHPC pci.7 slot 3.
    static let state = JSONValue(
        parsing: """
            {"name": "vm1", "run-state": "running", "now-ns": 5000000000, "clock": "manual",
             "devices": [{"id": "hp1", "path": "/machine/peripheral/hp1", "pending-unplug-ns": 4200000000},
                         {"path": "/machine/peripheral-anon/device[0]"}],
             "slots": [
               {"controller": "pci.1", "type": "pcie-native", "device": "hp1", "present": true, "power-on": true,
                "power-led": "blinking", "attention-led": "off", "persona": "linux"},
               {"controller": "pci.2", "type": "pcie-native", "present": false, "power-on": false,
                "power-led": "off", "attention-led": "off"},
               {"controller": "pci.7", "type": "shpc", "slot": 3, "device": "/machine/peripheral-anon/device[0]",
                "slot-state": "enabled", "power-led": "on", "attention-led": "bogus"}]}
            """
    )

    func snapshot() throws -> MachineSnapshot {
        let state = try #require(Self.state)
        return try #require(MachineSnapshot(state: state))
    }

    @Test func readsMachineState() throws {
        let s = try snapshot()
        #expect(s.name == "vm1" && s.runState == "running" && s.nowNanoseconds == 5_000_000_000 && s.clock == "manual")
        #expect(s.slots.map(\.name) == ["pci.1", "pci.2", "pci.7 slot 3"])
        #expect(s.slots[0].pendingNanoseconds == 4_200_000_000 && s.slots[0].powerLED == .blinking)
        #expect(s.slots[2].present && s.slots[2].power == "enabled" && s.slots[2].attentionLED == .reserved)
        #expect(!s.timeFlows)
        #expect(MachineSnapshot(state: .object(JSONObject())) == nil)
    }

    @Test func plainLines() throws {
        #expect(
            PlainFormat.snapshot(try snapshot()) == [
                "t=5.000s machine: name vm1, run-state running, clock manual",
                "t=5.000s pci.1: device hp1, present yes, power on, power-led ◐ blinking, attention-led ○ off, pending 4.200s, persona linux",
                "t=5.000s pci.2: device -, present no, power off, power-led ○ off, attention-led ○ off",
                "t=5.000s pci.7 slot 3: device /machine/peripheral-anon/device[0], present yes, slot enabled, power-led ● on, attention-led ? reserved",
            ]
        )
        #expect(PlainFormat.seconds(0) == "0.000s" && PlainFormat.seconds(61_234_999_999) == "61.234s")
    }

    @Test func changesAreTheSlotsThatReadDifferently() throws {
        let old = try snapshot()
        var new = old.advanced(by: 1_000_000_000)
        #expect(new.slots[0].pendingNanoseconds == 3_200_000_000)
        new.slots[1].powerLED = .on
        new.runState = "paused"
        new.slots.remove(at: 2)
        #expect(
            PlainFormat.changes(from: old, to: new) == [
                "t=6.000s machine: name vm1, run-state paused, clock manual",
                "t=6.000s pci.1: device hp1, present yes, power on, power-led ◐ blinking, attention-led ○ off, pending 3.200s, persona linux",
                "t=6.000s pci.2: device -, present no, power off, power-led ● on, attention-led ○ off",
                "t=6.000s pci.7 slot 3: gone",
            ]
        )
        #expect(PlainFormat.changes(from: old, to: old).isEmpty)
        // A countdown that runs out disappears, as machine-state leaves it out.
        #expect(old.advanced(by: 4_200_000_000).slots[0].pendingNanoseconds == nil)
    }

    @Test func eventSummaries() throws {
        func event(_ text: String) throws -> WatchEvent? {
            let message = try #require(JSONValue(parsing: text))
            return WatchEvent(message: message)
        }
        let write = try event(
            #"{"event": "GUEST_REGISTER_WRITE", "data": {"controller": "pci.1", "register": "slot-control", "value": 448, "old": 704, "new": 448}}"#
        )
        #expect(write == WatchEvent(text: "guest pci.1 slot-control 0x2c0 -> 0x1c0 (wrote 0x1c0)", refreshes: true))
        let command = try event(
            #"{"event": "GUEST_REGISTER_WRITE", "data": {"controller": "pci.7", "register": "shpc-command", "target": 3, "value": 58, "old": 0, "new": 58}}"#
        )
        #expect(command?.text == "guest pci.7 shpc-command[3] 0x0 -> 0x3a (wrote 0x3a)")
        let on = try event(
            #"{"event": "MONITOR_EVENT", "data": {"event": "X_DEVICE_ON", "data": {"device": "hp1", "path": "/machine/peripheral/hp1"}}}"#
        )
        #expect(on?.text == "event X_DEVICE_ON device=hp1 path=/machine/peripheral/hp1")
        #expect(try event(#"{"event": "MONITOR_EVENT", "data": {"event": "STOP"}}"#)?.text == "event STOP")
        let del = try event(
            #"{"event": "MONITOR_COMMAND", "data": {"command": "device_del", "arguments": {"id": "hp1"}, "session": 1}}"#
        )
        #expect(del == WatchEvent(text: "monitor device_del id=hp1", refreshes: true))
        #expect(try event(#"{"event": "MONITOR_COMMAND", "data": {"command": "query-status", "session": 1}}"#) == nil)
        #expect(try event(#"{"event": "CLOCK_ADVANCED", "data": {"now-ns": 1}}"#)?.text == "clock advanced")
        #expect(try event(#"{"return": {}}"#) == nil)
    }

    @Test func frameFitsTheTerminal() throws {
        let events = (1...30).map { "t=5.000s event \($0)" }
        let frame = ScreenFrame(snapshot: try snapshot(), events: events, columns: 200, rows: 12)
        #expect(frame.lines.count == 12)
        #expect(frame.lines[0] == "vm1  running  t=5.000s  clock manual  (qmp-mockctl watch)")
        #expect(frame.lines[2].hasPrefix("SLOT          DEVICE"))
        #expect(frame.lines[3].contains("◐ blinking") && frame.lines[3].contains("4.200s"))
        #expect(frame.lines[7] == "last events:")
        #expect(
            frame.lines[8...] == ["t=5.000s event 27", "t=5.000s event 28", "t=5.000s event 29", "t=5.000s event 30"]
        )
        let narrow = ScreenFrame(snapshot: try snapshot(), events: events, columns: 10, rows: 4)
        #expect(narrow.lines.count == 4 && narrow.lines.allSatisfy { $0.count <= 10 })
        #expect(narrow.lines[3] == "… 3 more s")
    }
}
