import FuzzSupport
import Glibc
import SimulatedMachine
import Logging
import MockServer
import QMPWire

// libFuzzer target: a whole QMP session (bytes in, replies out) on the default machine, HMP
// (`human-monitor-command`) included. Invariants: no crash; every output line is one compact JSON
// object ending in CRLF, ASCII only, with exactly one of QMP/return/error/event; error classes are
// QEMU's; nothing but the greeting and replies before negotiation. Descriptors: the transport hands
// `getfd`/`add-fd` fake numbers; each is released at most once, only one handed out, and handed out
// = released + held at the end (also after the session closed).
//
// Made once per process: the profile, the no-op logger, the cold-plugged machine. Per input: a copy
// of that machine and a fresh ServerCore; bounded work: at most `maxInput` bytes are fed.

@_cdecl("fuzz_session_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzOne)
}

/// Hands every descriptor-taking command a fresh fake descriptor (``FakeDescriptors``, which also
/// records the machine's releases).
final class Transport: SessionTransport {  // one per process, fuzzing thread only; reset per input
    let fds = FakeDescriptors()
    func sessionHasOutput(_ session: QMPSession) {}
    func takePassedDescriptor() -> Int32? { fds.take() }
}

nonisolated(unsafe) let transport = Transport()  // the fuzzing thread only
let classes = Set(QMPErrorClass.all.map(\.rawValue))
let profile = QEMUProfile("8.2.0", package: "fuzz")!
/// The default machine (standard configuration, paused), built once: every input starts from a
/// copy of it (`Machine.copy`, which a test checks against a freshly built machine), not from a
/// machine built again (cold plug was 40 % of an input's fixed cost).
nonisolated(unsafe) let prototype: Machine = {  // the fuzzing thread only
    let machine = Machine(profile: profile, startPaused: true, board: MachineConfiguration.standard.board)
    try? machine.coldPlug(.standard)
    return machine
}()
let logger = Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() }
let limits = JSONStreamParser.Limits(maxMessageBytes: 1 << 16, maxTokens: 4096, maxNesting: 64)
/// Long output lines already checked (the same bytes pass the same checks): re-parsing
/// query-qmp-schema's ~100 KB answer in every input that asks for it dominated the target. Bucketed
/// by a fingerprint of a line's length and a sample of its bytes; a line is skipped only when all
/// its bytes equal a checked one's (a `Set` of the lines hashed all ~100 KB for every look-up: 16 %
/// of the target).
nonisolated(unsafe) var checkedLines: [Int: [[UInt8]]] = [:]
nonisolated(unsafe) var checkedLineCount = 0
/// FUZZ_SESSION_PRINT=1: the session's output goes to stderr (to read what an input does).
let printOutput = getenv("FUZZ_SESSION_PRINT") != nil
/// Bounded work: longer inputs are cut (libFuzzer's -max_len is 4096 by default anyway).
let maxInput = 8192

func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let size = min(size, maxInput)
    transport.fds.reset()
    let machine = prototype.copy { 0 }
    let core = ServerCore(machine: machine, logger: logger, clock: .fixed(seconds: 1, microseconds: 2), limits: limits)
    machine.descriptors.release = { transport.fds.release($0) }
    let session = core.openSession(monitor: "fuzz", transport: transport)
    // Feed in two pieces, to exercise message boundaries across reads.
    let cut = size / 2
    session.receive(UnsafeRawBufferPointer(start: data, count: cut))
    session.receive(UnsafeRawBufferPointer(start: data + cut, count: size - cut))
    if printOutput { session.outbound.withUnsafeBufferPointer { _ = write(2, $0.baseAddress, $0.count) } }
    checkOutput(session.outbound)
    transport.fds.requireBalanced(held: machine.descriptors.count)
    core.closeSession(session, reason: "end of input")
    transport.fds.requireBalanced(held: machine.descriptors.count, " after close")
    return 0
}

func checkOutput(_ output: [UInt8]) {
    require(output.isEmpty || (output.count >= 2 && output[output.count - 2] == 0x0D && output[output.count - 1] == 0x0A), "output does not end in CRLF")
    output.withUnsafeBytes { raw in
        var start = 0
        var index = 0
        var parser = JSONStreamParser()
        while index + 1 < raw.count {
            guard raw[index] == 0x0D, raw[index + 1] == 0x0A else {
                if raw[index] < 0x20 || raw[index] >= 0x7F { fatalError("non-ASCII or control byte in output") }
                index += 1
                continue
            }
            let line = UnsafeRawBufferPointer(rebasing: raw[start..<index])
            // A line of 64 bytes or more seen before (the greeting, query answers, events) was checked
            // then: the same bytes pass the same checks. Parsing them again dominated the target.
            let key = line.count >= 64 ? fingerprint(line) : nil
            if let key, wasChecked(line, key: key) {
                index += 2
                start = index
                continue
            }
            var value: JSONValue?
            // The line and the CR after it (whitespace ends a number at the line's end).
            var p = 0
            parser.reset()
            if case .success(let v) = parser.next(from: UnsafeRawBufferPointer(rebasing: raw[start...index]), position: &p) {
                value = v
            }
            guard let object = value?.objectValue else {
                // QEMU writes an overflowing number (an id of 1e400) as `inf`, which is not JSON; so do we.
                let text = String(decoding: line, as: UTF8.self)
                require(text.contains("inf"), "output line is not a JSON object: \(text)")
                index += 2
                start = index
                continue
            }
            let kinds = ["QMP", "return", "error", "event"].filter { object.contains($0) }
            require(kinds.count == 1, "line has \(kinds)")
            if let error = object["error"]?.objectValue {
                require(classes.contains(error["class"]?.stringValue ?? ""), "unknown error class")
            }
            if let key {
                if checkedLineCount >= 4096 {
                    checkedLines.removeAll(keepingCapacity: true)
                    checkedLineCount = 0
                }
                checkedLines[key, default: []].append(Array(line))
                checkedLineCount += 1
            }
            index += 2
            start = index
        }
    }
}

/// A line's bucket in ``checkedLines``: its length and every 97th byte and its last 32 bytes.
func fingerprint(_ line: UnsafeRawBufferPointer) -> Int {
    var hasher = Hasher()
    hasher.combine(line.count)
    var i = 0
    while i < line.count {
        hasher.combine(line[i])
        i += 97
    }
    hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: line[(line.count - min(line.count, 32))...]))
    return hasher.finalize()
}

/// Whether a line with exactly these bytes was checked before.
func wasChecked(_ line: UnsafeRawBufferPointer, key: Int) -> Bool {
    guard let bucket = checkedLines[key], let bytes = line.baseAddress else { return false }
    return bucket.contains { seen in
        seen.count == line.count && seen.withUnsafeBytes { $0.baseAddress.map { memcmp($0, bytes, line.count) == 0 } ?? false }
    }
}

/// libFuzzer's runtime references this symbol even when the driver is started through LLVMFuzzerRunDriver.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt { fuzzOne(data, size) }
