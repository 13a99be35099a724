import Logging
import MockServer
import QMPWire
import SimulatedMachine

#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// A documented, intended difference between the mock and QEMU 7.2 (listed in the test's table).
enum OracleKnownDifference: Sendable {
    /// The mock emits this event where QEMU 7.2 emits nothing: such lines are taken out of the mock's
    /// output before comparing, and counted.
    case extraEvent(String, reason: String)
    /// Replies (`return` lines) of this command are compared through a projection only.
    case replyProjection(command: String, projection: OracleProjection, reason: String)
    /// This guest register read (transcript entry `seq`) differs for a reason outside the mock's model.
    /// The difference must still occur: an entry that no longer applies is reported.
    case registerRead(transcript: String, seq: Int, reason: String)
}

/// What the replayer treats specially; everything else must match QEMU.
struct OracleReplayRules: Sendable {
    var knownDifferences: [OracleKnownDifference]
    /// Commands the mock does not implement (command -> reason): QEMU's single reply line is replaced by
    /// QEMU's `CommandNotFound` answer before comparing.
    var notImplemented: [String: String]
    /// Commands whose `return` array is compared as a set of elements (command -> reason).
    var unorderedReplies: [String: String]
}

/// One difference between QEMU and the mock.
struct OracleMismatch: CustomStringConvertible {
    var transcript: String
    var step: String
    var notes: [String]
    /// What was sent (QMP text) or done (guest access).
    var action: String
    var kind: String
    var expected: String
    var got: String

    var description: String {
        var lines = ["\(transcript) \(step) [\(kind)]"]
        for n in notes { lines.append("  note:     \(n)") }
        lines.append("  sent:     \(action)")
        lines.append("  expected: \(expected)")
        lines.append("  got:      \(got)")
        return lines.joined(separator: "\n")
    }
}

/// Counts and differences of one replayed transcript.
struct OracleReplayReport {
    var name: String
    var qmpSteps = 0
    var guestWriteSteps = 0
    var linesCompared = 0
    var linesIdentical = 0
    var lineDiffs: [String: Int] = [:]
    var readsCompared = 0
    var readsMatched = 0
    /// Guest accesses the mock does not model, by kind.
    var ignored: [String: Int] = [:]
    /// QEMU options that do not shape the simulated machine.
    var ignoredOptions: [String] = []
    var knownApplied: [String: Int] = [:]
    var mismatches: [OracleMismatch] = []

    var summary: String {
        func list(_ d: [String: Int]) -> String {
            d.isEmpty ? "none" : d.keys.sorted().map { "\($0) x\(d[$0] ?? 0)" }.joined(separator: ", ")
        }
        return """
            \(name): \(qmpSteps) QMP steps (greeting included) + \(guestWriteSteps) guest-write steps; \
            \(linesCompared) s2c lines compared, \(linesIdentical) identical (differences: \(list(lineDiffs))); \
            \(readsCompared) register reads compared, \(readsMatched) matched; \
            known differences applied: \(list(knownApplied)); ignored guest accesses: \(list(ignored)); \
            ignored QEMU options: \(ignoredOptions.joined(separator: " "))
            """
    }
}

/// Replays one golden transcript against the pure engine: a ``Machine`` built from QEMU's argv, a
/// ``ServerCore`` and one ``QMPSession``; guest register accesses go to the machine's guest API.
final class OracleReplayer {
    /// The host time behind the machine's virtual clock: the transcript's `t` of the entry being replayed.
    final class HostClock {
        var nanoseconds: Int64 = 0
    }

    private struct Step {
        var title: String
        var notes: [String]
        var action: String
        var command: String?
        var request: JSONObject?
        var expected: [String] = []
    }

    let name: String
    let rules: OracleReplayRules
    private let host = HostClock()
    private var machine: Machine?
    private var core: ServerCore?
    private var session: QMPSession?
    private var current: Step?
    private var stepCount = 0
    private var notes: [String] = []
    private var barLow: [String: UInt64] = [:]
    private var barHigh: [String: UInt64] = [:]
    private var usedKnownReads: Set<Int> = []
    private(set) var report: OracleReplayReport
    /// `ORACLE_REPLAY_VERBOSE=1`: print every step, line pair and register read (to check the replay itself).
    private let verbose = getenv("ORACLE_REPLAY_VERBOSE").map { String(cString: $0) == "1" } ?? false
    private var trace: [String] = []
    /// The verbose trace, when enabled.
    var traceText: String { trace.joined(separator: "\n") }

    init(name: String, rules: OracleReplayRules) {
        self.name = name
        self.rules = rules
        report = OracleReplayReport(name: name)
    }

    // MARK: Driving

    func run(_ entries: [OracleEntry]) throws(OracleReplaySetupError) -> OracleReplayReport {
        let spawns = entries.filter { $0.direction == "proc" && $0.string("event") == "spawn" }
        guard spawns.count == 1 else { throw .init("\(name): expected one spawn, found \(spawns.count)") }
        for entry in entries {
            host.nanoseconds = Int64((entry.time * 1e9).rounded())
            switch entry.direction {
            case "proc":
                if entry.string("event") == "spawn" { try start(entry) }
            case "note":
                notes.append(entry.string("text") ?? "")
            case "c2s":
                try send(entry)
            case "s2c":
                guard current != nil, let raw = entry.string("raw") else {
                    throw .init("\(name) seq \(entry.seq): s2c before the spawn, or without raw")
                }
                current?.expected.append(raw)
            case "guest":
                try guest(entry)
            default:
                throw .init("\(name) seq \(entry.seq): unknown dir \(entry.direction)")
            }
        }
        finishStep()
        for case .registerRead(let transcript, let seq, let reason) in rules.knownDifferences
        where transcript == name && !usedKnownReads.contains(seq) {
            report.mismatches.append(
                OracleMismatch(
                    transcript: name,
                    step: "seq \(seq)",
                    notes: [],
                    action: "knownDifferences entry",
                    kind: "stale-known-difference",
                    expected: "a register read that differs (\(reason))",
                    got: "no such difference at seq \(seq): remove the entry"
                )
            )
        }
        return report
    }

    private func start(_ entry: OracleEntry) throws(OracleReplaySetupError) {
        let argv = (entry.object["argv"]?.arrayValue ?? []).compactMap(\.stringValue)
        let launch = try OracleLaunch.parse(argv)
        report.ignoredOptions = launch.ignoredOptions.map { String($0.split(separator: " ")[0]) }
        guard let profile = QEMUProfile("7.2.0", package: "qmp-mock oracle replay") else {
            throw .init("QEMU profile 7.2.0 not supported")
        }
        let host = self.host
        let machine = Machine(
            profile: profile,
            name: nil,
            startPaused: launch.startPaused,
            machineType: launch.machineType,
            // The launch parser accepts only the native-mode global (see `nativeModeGlobals`).
            board: .nativePCIHotplug(launch.machineType),
            hostClock: { host.nanoseconds }
        )
        do {
            var configuration = MachineConfiguration(machineType: launch.machineType, devices: launch.devices)
            configuration.board = .nativePCIHotplug(launch.machineType)
            try machine.coldPlug(configuration)
        } catch {
            throw .init("\(name): the mock refuses QEMU's command line: \(error)")
        }
        let core = ServerCore(
            machine: machine,
            logger: Logger(label: "oracle-replay") { _ in SwiftLogNoOpLogHandler() },
            clock: .fixed(seconds: 1_795_634_776, microseconds: 0)
        )
        self.machine = machine
        self.core = core
        session = core.openSession(monitor: "oracle", transport: nil)
        beginStep(entry, action: "(connect: greeting)", command: nil, request: nil)
        report.qmpSteps += 1
    }

    private func send(_ entry: OracleEntry) throws(OracleReplaySetupError) {
        guard let session else { throw .init("\(name) seq \(entry.seq): c2s before the spawn") }
        let bytes = try entry.sentBytes()
        let request = entry.object["msg"]?.objectValue
        let command = request?["execute"]?.stringValue ?? request?["exec-oob"]?.stringValue
        let shown = String(decoding: bytes, as: UTF8.self).replacing("\n", with: "\\n")
        beginStep(entry, action: shown, command: command, request: request)
        report.qmpSteps += 1
        bytes.withUnsafeBytes { session.receive($0) }
    }

    // MARK: Guest accesses

    private func guest(_ entry: OracleEntry) throws(OracleReplaySetupError) {
        guard let machine else { throw .init("\(name) seq \(entry.seq): guest access before the spawn") }
        let op = entry.string("op") ?? "?"
        let dev = entry.string("dev") ?? ""
        let reg = entry.string("reg") ?? "?"
        let size = Int(entry.integer("size") ?? 0)
        let value = entry.integer("val") ?? 0
        let where_ = entry.string("bdf") ?? entry.integer("addr").map { "0x" + String($0, radix: 16) } ?? ""
        let shown = "guest \(op) \(dev) \(where_) \(reg) = 0x\(String(value, radix: 16)) (size \(size))"
        do throws(QMPError) {
            switch (op, reg) {
            case ("cfg_write", "SLTCTL"), ("cfg_write", "SLTSTA"):
                guard size == 2 else { throw QMPError.generic("unexpected \(size)-byte slot register write") }
                beginStep(entry, action: shown, command: nil, request: nil)
                report.guestWriteSteps += 1
                if reg == "SLTCTL" {
                    try machine.writeSlotControl(port: dev, value: UInt16(truncatingIfNeeded: value))
                } else {
                    try machine.writeSlotStatus(port: dev, value: UInt16(truncatingIfNeeded: value))
                }
            case ("cfg_write", "BAR0"):
                barLow[dev] = value
                report.ignored["cfg_write BAR0/BAR0_HI (kept as the SHPC BAR base)", default: 0] += 1
            case ("cfg_write", "BAR0_HI"):
                barHigh[dev] = value
                report.ignored["cfg_write BAR0/BAR0_HI (kept as the SHPC BAR base)", default: 0] += 1
            case ("cfg_read", "SLTCTL"), ("cfg_read", "SLTSTA"), ("cfg_read", "LNKSTA"), ("cfg_read", "SLTCAP"):
                let slot = try machine.slotRegisters(port: dev)
                let got: UInt64 =
                    switch reg {
                    case "SLTCTL": UInt64(slot.slotControl)
                    case "SLTSTA": UInt64(slot.slotStatus)
                    case "LNKSTA": UInt64(slot.linkStatus)
                    default: UInt64(slot.slotCapabilities)
                    }
                compareRead(entry, shown: shown, size: size, expected: value, got: got)
            case ("cfg_read", "VENDOR_DEVICE"):
                compareRead(entry, shown: shown, size: size, expected: value, got: UInt64(configIdentity(of: dev)))
            case ("cfg_read", _) where reg.hasPrefix("SHPC_DWORD_DATA["):
                // The SHPC capability's DWORD window reads the register file at 4 x DWORD_SELECT.
                guard let n = Int(reg.dropFirst("SHPC_DWORD_DATA[".count).dropLast()), size == 4 else {
                    throw QMPError.generic("cannot decode \(reg)")
                }
                let got = try machine.shpcRead(bridge: dev, offset: 4 * n, size: 4)
                compareRead(entry, shown: shown, size: size, expected: value, got: UInt64(got))
            case ("mmio_write", _):
                let offset = try shpcOffset(entry, dev: dev)
                beginStep(entry, action: shown, command: nil, request: nil)
                report.guestWriteSteps += 1
                try machine.shpcWrite(bridge: dev, offset: offset, size: size, value: UInt32(truncatingIfNeeded: value))
            case ("mmio_read", _):
                let offset = try shpcOffset(entry, dev: dev)
                let got = try machine.shpcRead(bridge: dev, offset: offset, size: size)
                compareRead(entry, shown: shown, size: size, expected: value, got: UInt64(got))
            default:
                report.ignored["\(op) \(reg)", default: 0] += 1
            }
        } catch {
            report.mismatches.append(
                OracleMismatch(
                    transcript: name,
                    step: title(entry),
                    notes: notes,
                    action: shown,
                    kind: "guest-access-failed",
                    expected: "the access succeeds",
                    got: "\(error.errorClass): \(error.desc)"
                )
            )
        }
    }

    /// The offset inside the SHPC register file: the address minus the BAR0 base the guest programmed.
    private func shpcOffset(_ entry: OracleEntry, dev: String) throws(QMPError) -> Int {
        guard let address = entry.integer("addr"), let low = barLow[dev] else {
            throw .generic("no BAR0 programmed for '\(dev)' before this MMIO access")
        }
        let base = (barHigh[dev] ?? 0) << 32 | (low & ~0xF)
        guard address >= base, address - base < 256 else {
            throw .generic("address 0x\(String(address, radix: 16)) outside BAR0 of '\(dev)'")
        }
        return Int(address - base)
    }

    /// What a config read of the device's vendor/device id word gives in the mock: the model's ids
    /// (modern id on a PCIe bus) while the device exists and, behind a PCIe port, the slot is powered
    /// (``PCIeSlot/powerOn``, `pcie_cap_update_power`); all ones otherwise.
    private func configIdentity(of id: String) -> UInt32 {
        machine?.vendorDeviceRead(of: id) ?? 0xFFFF_FFFF
    }

    private func compareRead(_ entry: OracleEntry, shown: String, size: Int, expected: UInt64, got: UInt64) {
        let mask: UInt64 = size >= 8 ? ~0 : (1 << (8 * UInt64(max(size, 1)))) - 1
        report.readsCompared += 1
        if verbose {
            trace.append("    read \(shown): mock 0x\(String(got & mask, radix: 16))")
        }
        if expected & mask == got & mask {
            report.readsMatched += 1
            return
        }
        for case .registerRead(let transcript, let seq, _) in rules.knownDifferences
        where transcript == name && seq == entry.seq {
            usedKnownReads.insert(seq)
            report.knownApplied["register read seq \(seq)", default: 0] += 1
            return
        }
        report.mismatches.append(
            OracleMismatch(
                transcript: name,
                step: title(entry),
                notes: notes,
                action: shown.replacing(" = 0x\(String(expected, radix: 16))", with: ""),
                kind: "register",
                expected: "0x" + String(expected & mask, radix: 16),
                got: "0x" + String(got & mask, radix: 16)
            )
        )
    }

    // MARK: Steps and line comparison

    private func title(_ entry: OracleEntry) -> String {
        var t = String(Int((entry.time * 10000).rounded()))
        while t.count < 5 { t = "0" + t }
        return "seq \(entry.seq) (t=\(t.dropLast(4)).\(t.suffix(4)))"
    }

    private func takeNotes() -> [String] {
        defer { notes.removeAll() }
        return notes
    }

    private func beginStep(_ entry: OracleEntry, action: String, command: String?, request: JSONObject?) {
        finishStep()
        stepCount += 1
        if verbose { trace.append("step \(stepCount) \(title(entry)): \(action)") }
        current = Step(
            title: "step \(stepCount) \(title(entry))",
            notes: takeNotes(),
            action: action,
            command: command,
            request: request
        )
    }

    /// Compares what QEMU sent after the step's action with what the session queued since.
    private func finishStep() {
        guard let step = current, let session else { return }
        current = nil
        let output = session.outbound
        session.outbound.removeAll()
        var got: [(text: String, terminated: Bool)] = []
        var start = 0
        var i = 0
        while i < output.count {
            if output[i] == 0x0D, i + 1 < output.count, output[i + 1] == 0x0A {
                got.append((String(decoding: output[start..<i], as: UTF8.self), true))
                i += 2
                start = i
            } else {
                i += 1
            }
        }
        if start < output.count { got.append((String(decoding: output[start...], as: UTF8.self), false)) }

        // Documented mock-only events.
        let extraEvents = rules.knownDifferences.compactMap { d -> String? in
            if case .extraEvent(let e, _) = d { return e }
            return nil
        }
        got.removeAll { line in
            guard case .object(let o)? = OracleLine.parse(line.text), let event = o["event"]?.stringValue,
                extraEvents.contains(event), !step.expected.contains(where: { $0.contains("\"\(event)\"") })
            else { return false }
            report.knownApplied["mock-only event \(event)", default: 0] += 1
            return true
        }

        var expected = step.expected
        if let command = step.command, rules.notImplemented[command] != nil, expected.count == 1 {
            expected = [commandNotFound(command, request: step.request)]
            report.knownApplied["not implemented: \(command)", default: 0] += 1
        }

        var projection: OracleProjection?
        for case .replyProjection(let command, let p, _) in rules.knownDifferences where command == step.command {
            projection = p
        }
        let unordered = step.command.map { rules.unorderedReplies[$0] != nil } ?? false

        report.linesCompared += expected.count
        if verbose {
            trace.append("  output of \(step.title):")
            for e in expected { trace.append("    qemu: \(e)") }
            for g in got { trace.append("    mock: \(g.text)") }
        }
        for index in 0..<max(expected.count, got.count) {
            let e = index < expected.count ? expected[index] : nil
            let g = index < got.count ? got[index] : nil
            guard let e else {
                record(step, .extra, expected: "(nothing)", got: g?.text ?? "")
                continue
            }
            guard let g else {
                record(step, .missing, expected: e, got: "(nothing)")
                continue
            }
            if let projection, OracleLine.parse(e)?.objectValue?["return"] != nil {
                let bridges = projection.expandedBridges(e)
                let pe = projection.apply(e, expanding: bridges) ?? [e]
                let pg = projection.apply(g.text, expanding: bridges) ?? [g.text]
                if verbose {
                    trace.append("    \(projection.rawValue) of qemu: \(pe.joined(separator: " | "))")
                    trace.append("    \(projection.rawValue) of mock: \(pg.joined(separator: " | "))")
                }
                if pe == pg && g.terminated {
                    report.knownApplied["\(step.command ?? "") reply compared as \(projection.rawValue)", default: 0] +=
                        1
                } else {
                    record(
                        step,
                        kind: "content (\(projection.rawValue) projection)",
                        expected: pe.joined(separator: " | "),
                        got: pg.joined(separator: " | ")
                    )
                }
                continue
            }
            var me = OracleLine.masked(e)
            var mg = OracleLine.masked(g.text)
            if unordered, let se = OracleLine.sortingReturnArray(me), let sg = OracleLine.sortingReturnArray(mg) {
                me = se
                mg = sg
            }
            if let kind = OracleLineDiffKind.of(expected: me, got: mg) {
                record(step, kind, expected: e, got: g.text)
            } else if !g.terminated {
                record(step, .terminator, expected: e, got: g.text + "  (no CRLF)")
            } else {
                report.linesIdentical += 1
            }
        }
    }

    /// QEMU's answer to a command that does not exist, with the request's id.
    private func commandNotFound(_ command: String, request: JSONObject?) -> String {
        var error = JSONObject()
        error.append("class", "CommandNotFound")
        error.append("desc", .string("The command \(command) has not been found"))
        var reply = JSONObject()
        if let id = request?["id"] { reply.append("id", id) }
        reply.append("error", .object(error))
        return JSONValue.object(reply).jsonText
    }

    private func record(_ step: Step, _ kind: OracleLineDiffKind, expected: String, got: String) {
        record(step, kind: kind.rawValue, expected: expected, got: got)
    }

    private func record(_ step: Step, kind: String, expected: String, got: String) {
        report.lineDiffs[kind, default: 0] += 1
        report.mismatches.append(
            OracleMismatch(
                transcript: name,
                step: step.title,
                notes: step.notes,
                action: step.action,
                kind: kind,
                expected: expected,
                got: got
            )
        )
    }
}
