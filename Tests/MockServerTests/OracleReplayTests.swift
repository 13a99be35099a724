import MockServer
import QMPWire
import SimulatedMachine
import Testing

// Differential replay of golden transcripts recorded from real QEMU 7.2 (`../shared/oracle`, copied to
// `Fixtures/`) against the pure engine, in process: a ``Machine`` rebuilt from QEMU's argv (`-machine`,
// `-S`, every `-device` in order), a ``ServerCore`` and one ``QMPSession``.
//
// - Every `c2s` is fed raw, in order; the lines QEMU sent until the next action (QMP request or
//   modelled guest write) must equal what the session queued, byte for byte after masking event
//   timestamps and the greeting's / `query-version`'s `package` and `micro`. A difference in member
//   order only is reported as `member-order` and still fails.
// - Guest Slot Control / Slot Status writes and SHPC BAR0 writes go to the machine's guest API (the
//   BAR0 base comes from the guest's BAR programming); the events QEMU emitted after such a write must
//   come out of the mock at that write. Reads of SLTCTL/SLTSTA/LNKSTA/SLTCAP, of the SHPC register file
//   (BAR0, and the capability's DWORD window) and of endpoints' vendor/device word are compared.
// - Ignored guest accesses (the mock has no config space for them): bus numbers, memory windows,
//   COMMAND, BAR programming (used only to locate BAR0), SHPC DWORD_SELECT and DWORD_DATA writes.
@Suite struct OracleReplayTests {
    /// The replayed transcripts: PCIe native hotplug (b*) and SHPC (c*) scenarios.
    static let transcripts = [
        "b1_pcie_hotplug_flow", "b2_pcie_del_powered_off", "b3_pcie_errors", "b4_pcie_nested_unplug",
        "b5_pcie_pending_expiry_running", "c1_shpc_flow", "c2_shpc_errors", "c3_shpc_pcie_pci_bridge",
        "c4_shpc_pc_native",
    ]

    /// Documented, intended differences. Everything not listed here must match QEMU.
    static let knownDifferences: [OracleKnownDifference] = [
        .extraEvent(
            "X_DEVICE_ON",
            reason: """
                the v8 "pci hotplug tracking" event, which qmp-mock emits in every profile (README: \
                "x-query-hotplug and X_DEVICE_ON exist in every profile: they are what qmp-mock is for"); \
                QEMU 7.2 has no equivalent
                """
        ),
        .replyProjection(
            command: "query-pci",
            projection: .pciIdentity,
            reason: """
                the mock reports firmware-numbered buses and lists the devices behind every bridge \
                (README "query-pci"); QEMU at -S leaves bus numbers to the guest and lists a bridge's devices \
                only once the guest programmed them; regions, IRQs and windows are not modelled. Only the \
                identity of every listed device (slot, function, qdev_id, class, vendor:device) is compared
                """
        ),
        .registerRead(
            transcript: "c2_shpc_errors",
            seq: 33,
            reason: """
                the mock does not model the SHPC DWORD window writes of config space; QEMU 7.2's buggy window \
                write (seq 31) executed command 0x0f on target 13 (findings: value taken from the register \
                file at cap+4), so the command register reads 0xd0f there
                """
        ),
        .registerRead(
            transcript: "c2_shpc_errors",
            seq: 34,
            reason: "same register as seq 33 (SHPC_CMD + status) read through BAR0 after the unmodelled window write"
        ),
    ]

    /// Commands the mock does not implement (none of them occurs in the replayed transcripts; kept so a
    /// re-recorded transcript that uses them compares the rest).
    static let notImplemented: [String: String] = [
        "query-qmp-schema": "the answer is restricted to what the mock implements (README), not QEMU's whole schema"
    ]

    /// Commands whose `return` array is compared as a set.
    static let unorderedReplies: [String: String] = [
        "qom-list": "QEMU lists members in GLib hash-table order, the mock in its own order (README)"
    ]

    static let rules = OracleReplayRules(
        knownDifferences: knownDifferences,
        notImplemented: notImplemented,
        unorderedReplies: unorderedReplies
    )

    @Test(arguments: transcripts)
    func replay(_ name: String) throws {
        let entries = try OracleFixtures.load(name)
        let replayer = OracleReplayer(name: name, rules: Self.rules)
        let report = try replayer.run(entries)
        if !replayer.traceText.isEmpty { print(replayer.traceText) }
        print(report.summary)
        for mismatch in report.mismatches {
            Issue.record("\(mismatch.description)")
        }
    }

    /// The argv parser rebuilds QEMU's `-device` list as QemuOpts hands it over (every value a string).
    @Test func launchParsing() throws {
        let launch = try OracleLaunch.parse([
            "qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-nodefaults", "-S",
            "-device", "pci-bridge,id=pb1,bus=pci.0,chassis_nr=9,addr=07.0,shpc=on",
            "-global", "PIIX4_PM.acpi-pci-hotplug-with-bridge-support=off",
        ])
        #expect(launch.machineType == .pc && launch.startPaused)
        #expect(
            launch.devices == [
                DeviceSpec(
                    driver: "pci-bridge",
                    id: "pb1",
                    bus: "pci.0",
                    properties: ["chassis_nr": "9", "addr": "07.0", "shpc": "on"]
                )
            ]
        )
        #expect(throws: OracleReplaySetupError.self) {
            try OracleLaunch.parse(["qemu", "-machine", "q35", "-S"])  // ACPI hotplug mode
        }
    }

    /// The comparison helpers: masking keeps everything but the masked values; sets ignore order only.
    @Test func lineHelpers() {
        #expect(
            OracleLine.masked(#"{"timestamp": {"seconds": 17, "microseconds": 93090}, "event": "STOP"}"#)
                == #"{"timestamp": {"seconds": <masked>, "microseconds": <masked>}, "event": "STOP"}"#
        )
        #expect(
            OracleLine.masked(
                #"{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2"}, "capabilities": ["oob"]}}"#
            )
                == #"{"QMP": {"version": {"qemu": {"micro": <masked>, "minor": 2, "major": 7}, "package": "<masked>"}, "capabilities": ["oob"]}}"#
        )
        #expect(
            OracleLine.sortingReturnArray(#"{"return": [{"name": "b", "x": [1, 2]}, {"name": "a"}]}"#)
                == #"{"return": [{"name": "a"}, {"name": "b", "x": [1, 2]}]}"#
        )
        #expect(OracleLineDiffKind.of(expected: #"{"a": 1, "b": 2}"#, got: #"{"b": 2, "a": 1}"#) == .memberOrder)
        #expect(OracleLineDiffKind.of(expected: #"{"a": 1}"#, got: #"{"a": 1.0}"#) == .content)
    }
}
