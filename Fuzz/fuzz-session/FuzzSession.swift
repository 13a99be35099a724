import FuzzSupport
import SimulatedMachine
import Logging
import MockServer
import QMPWire

// libFuzzer target: a whole QMP session (bytes in, replies out) on the default machine. Invariants:
// no crash; every output line is one compact JSON object ending in CRLF, ASCII only, with exactly
// one of QMP/return/error/event; error classes are QEMU's; nothing but the greeting and replies
// before negotiation.

@_cdecl("fuzz_session_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzOne)
}

final class Collect: SessionTransport, @unchecked Sendable {  // stateless
    func sessionHasOutput(_ session: QMPSession) {}
}

let transport = Collect()
let classes = Set(QMPErrorClass.all.map(\.rawValue))

func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let profile = QEMUProfile("8.2.0", package: "fuzz") else { return 0 }
    let machine = Machine(profile: profile, startPaused: true)
    try? machine.coldPlug(.standard)
    let core = ServerCore(
        machine: machine,
        logger: Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() },
        clock: .fixed(seconds: 1, microseconds: 2),
        limits: .init(maxMessageBytes: 1 << 16, maxTokens: 4096, maxNesting: 64)
    )
    let session = core.openSession(monitor: "fuzz", transport: transport)
    // Feed in two pieces, to exercise message boundaries across reads.
    let cut = size / 2
    session.receive(UnsafeRawBufferPointer(start: data, count: cut))
    session.receive(UnsafeRawBufferPointer(start: data + cut, count: size - cut))
    let output = session.outbound
    precondition(output.isEmpty || output.suffix(2) == [0x0D, 0x0A], "output does not end in CRLF")
    var start = 0
    var index = 0
    while index + 1 < output.count {
        guard output[index] == 0x0D, output[index + 1] == 0x0A else {
            precondition(output[index] >= 0x20 && output[index] < 0x7F, "non-ASCII or control byte in output")
            index += 1
            continue
        }
        let line = Array(output[start..<index])
        var parser = JSONStreamParser()
        var value: JSONValue?
        (line + [0x20]).withUnsafeBytes { raw in
            var p = 0
            if case .success(let v) = parser.next(from: raw, position: &p) { value = v }
        }
        guard let object = value?.objectValue else {
            // QEMU writes an overflowing number (an id of 1e400) as `inf`, which is not JSON; so do we.
            let text = String(decoding: line, as: UTF8.self)
            precondition(text.contains("inf"), "output line is not a JSON object: \(text)")
            index += 2
            start = index
            continue
        }
        let kinds = ["QMP", "return", "error", "event"].filter { object.contains($0) }
        precondition(kinds.count == 1, "line has \(kinds)")
        if let error = object["error"]?.objectValue {
            precondition(classes.contains(error["class"]?.stringValue ?? ""), "unknown error class")
        }
        index += 2
        start = index
    }
    return 0
}

/// libFuzzer's runtime references this symbol even when the driver is started through LLVMFuzzerRunDriver.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt { fuzzOne(data, size) }
