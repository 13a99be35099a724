import FuzzSupport
import QMPWire

#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

// libFuzzer target: QEMU's JSON pipeline on raw bytes. Invariants: no crash; every error is one of
// the parser's GenericError texts; every parsed value survives a write and a re-parse unchanged
// (numbers compared by value: QEMU writes -0.0 as "-0", which reads back as the integer 0).

@_cdecl("fuzz_wire_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzOne)
}

func sameValue(_ a: JSONValue, _ b: JSONValue) -> Bool {
    func number(_ v: JSONValue) -> Double? {
        switch v {
        case .int(let i): return Double(i)
        case .uint(let u): return Double(u)
        case .double(let d): return d
        default: return nil
        }
    }
    if let x = number(a), let y = number(b) { return x == y || (x.isNaN && y.isNaN) }
    switch (a, b) {
    case (.array(let x), .array(let y)):
        return x.count == y.count && zip(x, y).allSatisfy { sameValue($0, $1) }
    case (.object(let x), .object(let y)):
        return x.count == y.count && x.members.allSatisfy { m in y[m.key].map { sameValue(m.value, $0) } ?? false }
    default:
        return a == b
    }
}

func containsInfinity(_ v: JSONValue) -> Bool {
    switch v {
    case .double(let d): return !d.isFinite
    case .array(let a): return a.contains(where: containsInfinity)
    case .object(let o): return o.members.contains { containsInfinity($0.value) }
    default: return false
    }
}

/// The parser's error texts begin with one of these.
let allowedErrorPrefixes: [[UInt8]] = [
    "JSON parse error, ", "JSON nesting depth limit exceeded", "JSON token count limit exceeded",
    "JSON token size limit exceeded",
].map { Array($0.utf8) }

/// Whether `text` starts with one of ``allowedErrorPrefixes``. Compared with `memcmp` (not
/// instrumented): a generic `starts(with:)` specialised here made traced comparisons per byte, ~17 %
/// of the target on garbage input (an error per stray byte).
func hasAllowedPrefix(_ text: String) -> Bool {
    var text = text
    return text.withUTF8 { utf8 in
        guard let base = utf8.baseAddress else { return false }
        for prefix in allowedErrorPrefixes where utf8.count >= prefix.count {
            let same = prefix.withUnsafeBufferPointer { p in p.baseAddress.map { memcmp(base, $0, p.count) == 0 } }
            if same == true { return true }
        }
        return false
    }
}

/// State made once per process and reset per input (each input still starts from a fresh parser
/// state: `reset()` forgets everything, only the buffers' capacity is kept).
enum Wire {
    nonisolated(unsafe) static var parser = JSONStreamParser(
        limits: .init(maxMessageBytes: 1 << 16, maxTokens: 4096, maxNesting: 64)
    )
    nonisolated(unsafe) static var again = JSONStreamParser()
    nonisolated(unsafe) static var text: [UInt8] = []
}

func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    run(UnsafeRawBufferPointer(start: data, count: size), &Wire.parser, &Wire.again, &Wire.text)
    return 0
}

func run(
    _ buffer: UnsafeRawBufferPointer,
    _ parser: inout JSONStreamParser,
    _ again: inout JSONStreamParser,
    _ text: inout [UInt8]
) {
    parser.reset()
    var position = 0
    while let result = parser.next(from: buffer, position: &position) {
        switch result {
        case .failure(let error):
            require(error.errorClass == .genericError, "error class \(error.errorClass)")
            require(hasAllowedPrefix(error.desc), "unexpected text: \(error.desc)")
        case .success(let value):
            if containsInfinity(value) { continue }  // QEMU writes inf, which is not JSON
            text.removeAll(keepingCapacity: true)
            JSONWriter.write(value, into: &text)
            require(text.allSatisfy { $0 >= 0x20 && $0 < 0x7F }, "writer emitted a non-ASCII or control byte")
            text.append(0x20)
            again.reset()
            var reparsed: JSONValue?
            text.withUnsafeBytes { raw in
                var p = 0
                if case .success(let v) = again.next(from: raw, position: &p) { reparsed = v }
            }
            require(reparsed.map { sameValue($0, value) } ?? false, "round trip changed \(value.jsonText)")
        }
    }
}

/// libFuzzer's runtime references this symbol even when the driver is started through LLVMFuzzerRunDriver.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt { fuzzOne(data, size) }
