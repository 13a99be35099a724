#if canImport(Glibc)
    @preconcurrency import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Serialises ``JSONValue``s exactly as QEMU's `qobject/qjson.c` does in compact mode.
///
/// - Separators `", "` and `": "`, empty containers `{}` and `[]`.
/// - Object members in QEMU's `QDict` order (``QDictOrder``).
/// - ASCII only: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`; every other code point below 0x20, 0x7F and
///   everything above as `\uXXXX` with upper-case hex (astral code points as surrogate pairs); `/` is
///   not escaped.
/// - Integers in decimal, doubles as C's `%.17g` (so `1.0` is `1`, `inf` is written as QEMU writes it).
public enum JSONWriter {
    /// Appends the compact text of `value` to `out`.
    public static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: appendASCII("null", into: &out)
        case .bool(let b): appendASCII(b ? "true" : "false", into: &out)
        case .int(let i): writeInteger(i, into: &out)
        case .uint(let u): writeUnsigned(u, into: &out)
        case .double(let d): writeDouble(d, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { appendComma(into: &out) }
                write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            writeObject(object, into: &out)
        }
    }

    /// Appends an object's text with its members in QDict order.
    public static func writeObject(_ object: JSONObject, into out: inout [UInt8]) {
        writeObject(object, into: &out) { i, out in write(object.members[i].value, into: &out) }
    }

    /// Appends an object's braces and keys in QDict order; `value(i, &out)` writes the value of
    /// member `i` (``EventLineTemplate`` writes placeholders there).
    @inline(__always)
    static func writeObject(_ object: JSONObject, into out: inout [UInt8], value: (Int, inout [UInt8]) -> Void) {
        out.append(UInt8(ascii: "{"))
        QDictOrder.withOrderedIndices(of: object) { order in
            var first = true
            for i in order {
                if !first { appendComma(into: &out) }
                first = false
                writeString(object.members[i].key, into: &out)
                out.append(UInt8(ascii: ":"))
                out.append(UInt8(ascii: " "))
                value(i, &out)
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Appends a signed decimal integer.
    public static func writeInteger(_ value: Int64, into out: inout [UInt8]) {
        if value < 0 {
            out.append(UInt8(ascii: "-"))
            writeUnsigned(value.magnitude, into: &out)
        } else {
            writeUnsigned(UInt64(value), into: &out)
        }
    }

    /// Appends an unsigned decimal integer.
    public static func writeUnsigned(_ value: UInt64, into out: inout [UInt8]) {
        if value < 10 {
            out.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        if value < 100 {
            out.append(UInt8(ascii: "0") + UInt8(value / 10))
            out.append(UInt8(ascii: "0") + UInt8(value % 10))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var v = value
            var n = 0
            while v > 0 {
                digits[19 - n] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                n += 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[(20 - n)..<20]))
        }
    }

    /// Appends a double the way C's `printf("%.17g")` formats it.
    public static func writeDouble(_ value: Double, into out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 40) { buffer in
            let n = withVaList([value]) { vsnprintf(buffer.baseAddress, 40, "%.17g", $0) }
            for i in 0..<Int(max(0, min(n, 39))) { out.append(UInt8(bitPattern: buffer[i])) }
        }
    }

    /// `", "`, without going through a `String`'s UTF-8 view.
    @inline(__always)
    static func appendComma(into out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        out.append(UInt8(ascii: " "))
    }

    /// `"KEY": ` for a literal key that needs no escaping (envelope members).
    @inline(__always)
    static func appendKey(_ key: StaticString, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        appendASCII(key, into: &out)
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: ":"))
        out.append(UInt8(ascii: " "))
    }

    /// Appends the bytes of an ASCII literal (`null`, `true`, `false`) with one copy.
    @inline(__always)
    static func appendASCII(_ text: StaticString, into out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Bytes copied as they are: printable ASCII except `"` and `\\`. A table: one load per byte
    /// measured faster than the four comparisons.
    private static let plainBytes: [Bool] = (0..<256).map {
        $0 >= 0x20 && $0 < 0x7F && $0 != Int(UInt8(ascii: "\"")) && $0 != Int(UInt8(ascii: "\\"))
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    @inline(__always)
    private static func appendEscapedUnit(_ unit: UInt32, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        out.append(UInt8(ascii: "u"))
        out.append(hexDigits[Int((unit >> 12) & 0xF)])
        out.append(hexDigits[Int((unit >> 8) & 0xF)])
        out.append(hexDigits[Int((unit >> 4) & 0xF)])
        out.append(hexDigits[Int(unit & 0xF)])
    }

    /// Appends a quoted, escaped string. Runs of bytes that need no escape (the usual case: QMP
    /// names and paths) are copied at once.
    public static func writeString(_ string: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { bytes in
            var i = 0
            var runStart = 0
            let n = bytes.count
            while i < n {
                if plainBytes[Int(bytes[i])] {
                    i += 1
                    continue
                }
                if runStart < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i])) }
                i = appendEscaped(bytes, at: i, into: &out)
                runStart = i
            }
            if runStart < n { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<n])) }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends the escape of the character starting at `bytes[i]` (one that is not copied as is);
    /// returns the index after it.
    private static func appendEscaped(
        _ bytes: UnsafeBufferPointer<UInt8>,
        at start: Int,
        into out: inout [UInt8]
    ) -> Int {
        var i = start
        let n = bytes.count
        let b = bytes[i]
        if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
            out.append(UInt8(ascii: "\\"))
            out.append(b)
            return i + 1
        }
        if b < 0x80 {
            switch b {
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            default: appendEscapedUnit(UInt32(b), into: &out)
            }
            return i + 1
        }
        // Multi-byte UTF-8 (Swift strings are always valid UTF-8).
        var scalar: UInt32
        var length: Int
        if b >= 0xF0 {
            scalar = UInt32(b & 0x07)
            length = 4
        } else if b >= 0xE0 {
            scalar = UInt32(b & 0x0F)
            length = 3
        } else {
            scalar = UInt32(b & 0x1F)
            length = 2
        }
        for k in 1..<length where i + k < n {
            scalar = (scalar << 6) | UInt32(bytes[i + k] & 0x3F)
        }
        i += length
        if scalar > 0xFFFF {
            let v = scalar - 0x10000
            appendEscapedUnit(0xD800 + (v >> 10), into: &out)
            appendEscapedUnit(0xDC00 + (v & 0x3FF), into: &out)
        } else {
            appendEscapedUnit(scalar, into: &out)
        }
        return min(i, n)
    }
}
