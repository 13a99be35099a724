import GuestSim
import QMPWire
import SimulatedMachine
import Testing

/// The `guest:` section of the YAML configuration and the control plane's persona parsing.
@Suite struct GuestConfigurationTests {
    static let example = """
        machine: q35
        guest:
          persona: linux
          latencies: {button-ms: 5000, link-ms: 100, power-off-ms: 1000, shpc-enable-ms: 1000}
          slots:
            - {controller: pci.2, persona: never-ack}
            - {controller: pci.3, persona: slow, factor: 4}
            - {controller: pci.7, slot: 3, persona: booting, boot-ms: 30000, boot-scan-removes: true}
            - controller: pci.4
              persona: script
              steps: [{wait-ms: 200}, {write-slot-control: 0x2c0}, {wait-for: presence}, {write-slot-control: 0x1c0}]
        """

    @Test func readsTheExample() throws {
        let configuration = try GuestHarness.configuration(yaml: Self.example)
        #expect(configuration.persona == .linux)
        #expect(configuration.latencies == GuestLatencies())
        #expect(
            configuration.assignments == [
                GuestPersonaAssignment(controller: "pci.2", persona: .neverAck),
                GuestPersonaAssignment(controller: "pci.3", persona: .slow(factor: 4)),
                GuestPersonaAssignment(
                    controller: "pci.7",
                    slot: 3,
                    persona: .booting(untilNanoseconds: 30_000_000_000, scanTreatsNewDeviceAsRemoval: true)
                ),
                GuestPersonaAssignment(
                    controller: "pci.4",
                    persona: .script([
                        .wait(200_000_000), .writeSlotControl(0x2C0), .waitFor(.presence), .writeSlotControl(0x1C0),
                    ])
                ),
            ]
        )
    }

    /// The example again, written with an anchor, aliases, a merge key, a tag and a multi-line flow
    /// sequence: the same configuration.
    @Test func readsTheExampleWithAnchorsMergeKeysAndTags() throws {
        let text = """
            machine: q35
            guest:
              persona: linux
              latencies: &latencies
                button-ms: 5000
                link-ms: 100
                <<: {power-off-ms: 1000, shpc-enable-ms: 1000}
              slots:
                - &pci2 {controller: pci.2, persona: never-ack}
                - {<<: *pci2, controller: !!str pci.3, persona: slow, factor: !!int "4"}
                - {controller: pci.7, slot: 3, persona: booting, boot-ms: 30000, boot-scan-removes: !!bool yes}
                - controller: pci.4
                  persona: script
                  steps: [
                    {wait-ms: 200}, {write-slot-control: 0x2c0},
                    {wait-for: presence}, {write-slot-control: 0x1c0},
                  ]
            """
        #expect(try GuestHarness.configuration(yaml: text) == GuestHarness.configuration(yaml: Self.example))
    }

    @Test func scriptPersonaFromYAMLDrivesThePort() throws {
        let h = try GuestHarness(configuration: GuestHarness.configuration(yaml: Self.example))
        #expect(h.guest.state(controller: "pci.4") == "script-waiting")
        #expect(h.guest.state(controller: "pci.2") == "never-ack")
        #expect(h.guest.state(controller: "pci.7", slot: 3) == "booting")
        h.advance(ms: 1_000)
        _ = h.add(rng("hp4", bus: "pci.4"))  // the first notification starts the script
        #expect(h.guest.state(controller: "pci.4") == "script-step-1")
        h.advance(ms: 199)
        #expect(h.takeEvents() == [])
        h.advance(ms: 1)
        #expect(h.takeEvents() == ["X_DEVICE_ON hp4@1200"])
        #expect(h.guest.state(controller: "pci.4") == "script-done")
        #expect(try h.slotControl("pci.4") == 0x1C0)  // exactly what the script wrote
        // The slow port of the same configuration.
        _ = h.add(rng("hp3", bus: "pci.3"))
        h.advance(ms: 400)
        #expect(h.takeEvents() == ["X_DEVICE_ON hp3@1600"])
    }

    @Test func scriptWaitsForItsCondition() throws {
        let h = try GuestHarness()
        let steps: [GuestScriptStep] = [
            .acknowledgeEvents, .writeSlotControl(0x01F9), .waitFor(.attentionButton), .acknowledgeEvents,
            .writeSlotControl(0x06F9), .wait(500_000_000), .writeSlotControl(0x07F9),
        ]
        #expect(h.setPersona(.script(steps), controller: "pci.2") == nil)
        h.advance(ms: 1_000)
        #expect(h.guest.state(controller: "pci.2") == "script-waiting")
        _ = h.add(rng("hp2", bus: "pci.2"))  // starts the script: power on, indicator on
        #expect(h.takeEvents() == ["X_DEVICE_ON hp2@1000"])
        #expect(try h.slotStatus("pci.2") & 0x9 == 0)
        h.advance(ms: 2_000)
        #expect(h.guest.state(controller: "pci.2") == "script-step-3")
        #expect(h.del("hp2") == nil)
        #expect(h.guest.state(controller: "pci.2") == "script-step-3")
        h.advance(ms: 10)  // the next poll sees the press
        #expect(h.guest.state(controller: "pci.2") == "script-step-6")
        #expect(try h.slotStatus("pci.2") & 0x9 == 0)  // ABP acknowledged (CC is set by the script's write)
        h.advance(ms: 500)
        #expect(h.takeEvents() == deleted("hp2", at: "3510"))
        #expect(h.guest.state(controller: "pci.2") == "script-done")
    }

    @Test func defaultPersonaOptionsAndLatencies() throws {
        let configuration = try GuestHarness.configuration(
            yaml: """
                guest:
                  persona: slow
                  factor: 2.5
                  latencies: {interrupt-ms: 1, second-press-ms: 20000, poll-ms: 5}
                """
        )
        #expect(configuration.persona == .slow(factor: 2.5))
        #expect(configuration.latencies.interrupt == 1_000_000)
        #expect(configuration.latencies.secondPressWindow == 20_000_000_000)
        #expect(configuration.latencies.scriptPoll == 5_000_000)
        #expect(configuration.latencies.buttonWindow == 5_000_000_000)
        #expect(try GuestHarness.configuration(yaml: "guest:\n") == GuestConfiguration())
    }

    @Test(
        arguments: [
            (
                "guest:\n  persona: linx\n",
                "line 2, column 12: unknown persona 'linx' (expected one of: linux, never-ack, slow, booting, cancel-on-second-press, manual, script)"
            ),
            (
                "guest:\n  persona: slow\n",
                "line 2, column 3: missing required key 'factor' for persona 'slow' (a number greater than 0)"
            ),
            ("guest:\n  persona: slow\n  factor: 0\n", "line 3, column 11: 'factor' must be greater than 0 (got 0.0)"),
            (
                "guest:\n  persona: linux\n  factor: 2\n",
                "line 3, column 3: option 'factor' applies only to persona 'slow', not 'linux'"
            ),
            (
                "guest:\n  personna: linux\n",
                "line 2, column 3: unknown key 'personna' in the 'guest' section (expected one of: persona, latencies, refuse-cpu-offline, memory-removal, slots)"
            ),
            (
                "guest:\n  latencies: {link-ms: -1}\n",
                "line 2, column 24: 'link-ms' must be between 0 and 9e12 (got -1.0)"
            ),
            (
                "guest:\n  latencies: {lnk-ms: 1}\n",
                "line 2, column 15: unknown key 'lnk-ms' in 'latencies' (expected one of: interrupt-ms, button-ms, link-ms, power-off-ms, shpc-enable-ms, second-press-ms, poll-ms, acpi-eject-ms, cpu-attach-ms, cpu-offline-ms, memory-add-ms, memory-offline-ms, shutdown-ms)"
            ),
            (
                "guest:\n  slots:\n    - {persona: linux}\n",
                "line 3, column 7: missing required key 'controller' in a 'slots' entry"
            ),
            (
                "guest:\n  slots:\n    - {controller: pci.7, slot: 32, persona: linux}\n",
                "line 3, column 33: 'slot' must be between 1 and 31 (got 32)"
            ),
            (
                "guest:\n  slots:\n    - {controller: pci.7, persona: booting}\n",
                "line 3, column 7: missing required key 'boot-ms' for persona 'booting' (virtual milliseconds)"
            ),
            (
                "guest:\n  slots:\n    - controller: pci.4\n      persona: script\n      steps: []\n",
                "line 5, column 14: persona 'script' needs at least one step"
            ),
            (
                "guest:\n  slots:\n    - controller: pci.4\n      persona: script\n      steps:\n        - {wait-for: presense}\n",
                "line 6, column 22: unknown condition 'presense' (expected one of: presence, absence, attention-button, presence-changed, power-on, power-off, slot-on, slot-off, power-led-on, power-led-blinking, power-led-off, attention-led-on, attention-led-blinking, attention-led-off, sci)"
            ),
            (
                "guest:\n  slots:\n    - controller: pci.4\n      persona: script\n      steps:\n        - {wait-ms: 1}\n        - {write-slot-control: 0x10000}\n",
                "line 7, column 32: 'write-slot-control' must be between 0 and 65535 (got 65536)"
            ),
            (
                "guest:\n  slots:\n    - controller: pci.4\n      persona: script\n      steps:\n        - {sleep: 1}\n",
                "line 6, column 12: unknown script step 'sleep' (expected one of: wait-ms, write-slot-control, write-slot-status, shpc-command, wait-for, ack-events)"
            ),
            (
                "guest:\n  slots:\n    - controller: pci.4\n      persona: script\n      steps:\n        - {wait-ms: 1, shpc-command: 1}\n",
                "line 6, column 11: a script step must have exactly one key (expected one of: wait-ms, write-slot-control, write-slot-status, shpc-command, wait-for, ack-events)"
            ),
            ("guest:\n  slots: {controller: pci.2}\n", "line 2, column 10: 'slots' must be a list"),
            (
                "guest:\n  slots:\n    - controller: acpi\n      persona: script\n      steps:\n        - {write-slot-control: 0x2c0}\n",
                "line 6, column 12: script step 'write-slot-control' does not apply to the ACPI side (controller 'acpi'): its steps are wait-ms, io-write, io-read, config-write, wait-for, wait-for-io"
            ),
            (
                "guest:\n  slots:\n    - controller: acpi\n      persona: script\n      steps: [ack-events]\n",
                "line 5, column 15: script step 'ack-events' does not apply to the ACPI side (controller 'acpi'): its steps are wait-ms, io-write, io-read, config-write, wait-for, wait-for-io"
            ),
            (
                "guest:\n  slots:\n    - controller: acpi\n      persona: script\n      steps: [{wait-for: presence}]\n",
                "line 5, column 16: condition 'presence' reads slot registers and does not apply to the ACPI side (controller 'acpi'): use 'wait-for: sci' or 'wait-for-io'"
            ),
            (
                "guest:\n  slots:\n    - controller: pci.4\n      persona: script\n      steps: [{io-write: {port: 0x620, size: 1, value: 2}}]\n",
                "line 5, column 16: script step 'io-write' applies only to a script for the ACPI side (controller 'acpi')"
            ),
            (
                "guest:\n  persona: script\n  steps: [{wait-for: sci}]\n",
                "line 3, column 12: condition 'sci' applies only to a script for the ACPI side (controller 'acpi')"
            ),
            (
                "guest:\n  slots:\n    - controller: acpi\n      persona: script\n      steps: [{io-write: {port: 0x620, size: 3, value: 2}}]\n",
                "line 5, column 46: 'size' in 'io-write' must be 1, 2 or 4 (got 3)"
            ),
            (
                "guest:\n  slots:\n    - controller: acpi\n      persona: script\n      steps: [{io-write: {port: 0x620, size: 1, value: 0x100}}]\n",
                "line 5, column 56: 'value' in 'io-write' must be between 0 and 255 (got 256)"
            ),
            (
                "guest:\n  slots:\n    - controller: acpi\n      persona: script\n      steps: [{io-read: {port: 0x620}}]\n",
                "line 5, column 25: missing required key 'size' in 'io-read' (1, 2 or 4)"
            ),
            (
                "guest:\n  slots:\n    - controller: acpi\n      persona: script\n      steps: [{config-write: {address: 1f.0, offset: 0x40, size: 4, value: 0}}]\n",
                "line 5, column 40: 'address' in 'config-write' must be bus:slot.function in hex, e.g. \"00:1f.0\" (got '1f.0')"
            ),
            (
                "guest:\n  slots:\n    - controller: acpi\n      persona: script\n      steps: [{wait-for-io: {port: 0x620, size: 1, mask: 1, valu: 1}}]\n",
                "line 5, column 29: missing required key 'value' in 'wait-for-io'"
            ),
        ]
    )
    func errorsNameTheLine(yaml: String, message: String) {
        #expect(throws: MachineConfigurationError.self) { try GuestHarness.configuration(yaml: yaml) }
        do {
            _ = try GuestHarness.configuration(yaml: yaml)
        } catch {
            #expect(String(describing: error) == message)
        }
    }

    @Test func readsAnACPIScript() throws {
        let yaml = """
            guest:
              slots:
                - controller: acpi
                  persona: script
                  steps:
                    - {config-write: {address: "00:1f.0", offset: 0x40, size: 4, value: 0x600}}
                    - {io-write: {port: 0x628, size: 1, value: 2}}
                    - {wait-for: sci}
                    - {io-read: {port: 0xcc0, size: 4}}
                    - {wait-for-io: {port: 0xcc4, size: 4, value: 1}}
                    - {wait-ms: 5}
            """
        let configuration = try GuestHarness.configuration(yaml: yaml)
        let steps: [GuestScriptStep] = [
            .configWrite(bus: 0, slot: 31, function: 0, offset: 0x40, size: 4, value: 0x600),
            .ioWrite(port: 0x628, size: 1, value: 2), .waitForSCI, .ioRead(port: 0xCC0, size: 4),
            .waitForIO(port: 0xCC4, size: 4, mask: 0xFFFF_FFFF, value: 1), .wait(5_000_000),
        ]
        #expect(configuration.assignments == [GuestPersonaAssignment(controller: "acpi", persona: .script(steps))])
        #expect(
            GuestPersona.script(Array(steps.prefix(3))).description
                == "script([config-write: {address: \"00:1f.0\", offset: 0x40, size: 4, value: 0x600}, "
                + "io-write: {port: 0x628, size: 1, value: 0x2}, wait-for: sci])"
        )
    }

    @Test func controlPlaneScriptsAreCheckedAgainstTheirController() throws {
        let acpi: JSONValue = [["io-write": ["port": 0x628, "size": 1, "value": 2]], ["wait-for": "sci"]]
        #expect(
            try GuestPersona.parse(name: "script", options: ["steps": acpi, "controller": "acpi"])
                == .script([.ioWrite(port: 0x628, size: 1, value: 2), .waitForSCI])
        )
        for (steps, controller, message) in [
            (acpi, "pci.2", "script step 'io-write' applies only to a script for the ACPI side (controller 'acpi')"),
            (
                ["ack-events"] as JSONValue, "acpi",
                "script step 'ack-events' does not apply to the ACPI side (controller 'acpi'): its steps are wait-ms, io-write, io-read, config-write, wait-for, wait-for-io"
            ),
            (
                [["shpc-command": 1]] as JSONValue, "acpi",
                "script step 'shpc-command' does not apply to the ACPI side (controller 'acpi'): its steps are wait-ms, io-write, io-read, config-write, wait-for, wait-for-io"
            ),
        ] as [(JSONValue, String, String)] {
            do {
                _ = try GuestPersona.parse(
                    name: "script",
                    options: ["steps": steps, "controller": .string(controller)]
                )
                Issue.record("no error for \(controller)")
            } catch {
                #expect(error.message == message)
            }
        }
        // Machine-wide (no controller): the native steps.
        #expect(throws: MachineConfigurationError.self) {
            try GuestPersona.parse(name: "script", options: ["steps": acpi])
        }
    }

    // MARK: Control plane

    @Test func parsesControlPlaneArguments() throws {
        #expect(try GuestPersona.parse(name: "linux") == .linux)
        #expect(
            try GuestPersona.parse(name: "never-ack", options: ["persona": "never-ack", "controller": "pci.2"])
                == .neverAck
        )
        #expect(try GuestPersona.parse(name: "slow", options: ["factor": 2]) == .slow(factor: 2))
        #expect(try GuestPersona.parse(name: "slow", options: ["factor": 0.5]) == .slow(factor: 0.5))
        #expect(
            try GuestPersona.parse(name: "booting", options: ["boot-ms": 1500, "boot-scan-removes": true])
                == .booting(untilNanoseconds: 1_500_000_000, scanTreatsNewDeviceAsRemoval: true)
        )
        let steps: JSONValue = [
            ["wait-ms": 1.5], ["write-slot-control": "0x2c0"], ["shpc-command": 4], "ack-events",
            ["wait-for": "power-led-off"],
        ]
        #expect(
            try GuestPersona.parse(name: "script", options: ["steps": steps])
                == .script([
                    .wait(1_500_000), .writeSlotControl(0x2C0), .shpcCommand(code: 4), .acknowledgeEvents,
                    .waitFor(.powerLED(.off)),
                ])
        )
        for persona in [GuestPersona.linux, .neverAck, .cancelOnSecondPress, .manual] {
            #expect(try GuestPersona.parse(name: persona.name) == persona)
        }
    }

    @Test(
        arguments: [
            ("slow", JSONObject(), "missing required key 'factor' for persona 'slow' (a number greater than 0)"),
            ("slow", ["factor": "fast"], "'factor' must be a number"),
            ("slow", ["factor": -1], "'factor' must be greater than 0 (got -1.0)"),
            ("linux", ["factor": 2], "option 'factor' applies only to persona 'slow', not 'linux'"),
            ("booting", ["boot-ms": 10, "boot-scan-removes": "yes"], "'boot-scan-removes' must be true or false"),
            ("manual", ["speed": 1], "unknown key 'speed' for persona 'manual' (no keys expected)"),
            (
                "nervous", JSONObject(),
                "unknown persona 'nervous' (expected one of: linux, never-ack, slow, booting, cancel-on-second-press, manual, script)"
            ),
            ("script", ["steps": "wait"], "'steps' must be a list"),
        ] as [(String, JSONObject, String)]
    )
    func controlPlaneErrors(name: String, options: JSONObject, message: String) {
        do {
            _ = try GuestPersona.parse(name: name, options: options)
            Issue.record("no error for \(name)")
        } catch {
            #expect(error.message == message)
            #expect(error.line == nil)
        }
    }

    @Test func personaDescriptions() {
        #expect(GuestPersona.slow(factor: 4).description == "slow(factor: 4.0)")
        #expect(
            GuestPersona.script([.wait(200_000_000), .writeSlotControl(0x2C0), .waitFor(.presence)]).description
                == "script([wait-ms: 200, write-slot-control: 0x2c0, wait-for: presence])"
        )
        #expect(GuestPersona.names.count == 7)
        #expect(GuestCondition.names.allSatisfy { GuestCondition(name: $0)?.name == $0 })
    }
}
