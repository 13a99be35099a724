import QMPWire

/// What a QEMU release answered to a management stack's capability probe (libvirt 9.0's: the type
/// tree, device and object properties, machines, CPU models and expansions, command-line options,
/// migration capabilities, TPM, SEV and SGX), recorded from the real binary by
/// `scripts/record-probe.py` and embedded by `scripts/generate-probe.py` as one line per request:
/// the request's canonical key, a tab, the answer.
///
/// Nothing is parsed until a probe command is asked; then the keys are indexed once and only the
/// answers asked for are parsed. A derived release (8.2) looks in its own lines first, then in its
/// base's.
final class RecordedProbe {
    /// The profile version whose answers these are.
    let release: String
    private var index: [String: Substring] = [:]

    /// The recording of a release, or nil when none is embedded.
    init?(release: String) {
        guard let text = Self.answers[release] else { return nil }
        self.release = release
        if let base = Self.bases[release], let baseText = Self.answers[base] { add(baseText) }
        add(text)
    }

    /// Indexes the lines of `text` by their key. Scans bytes, not Characters: the recordings are
    /// ASCII, and `split(separator:)` on a String segments graphemes (~25 ms for a release's
    /// 400 KB, on the first probe command, in a release build).
    private func add(_ text: String) {
        let bytes = text.utf8
        var lineStart = bytes.startIndex
        var tab: String.Index?
        var position = bytes.startIndex
        func take(upTo end: String.Index) {
            if let tab { index[String(text[lineStart..<tab])] = text[bytes.index(after: tab)..<end] }
        }
        while position != bytes.endIndex {
            switch bytes[position] {
            case UInt8(ascii: "\t") where tab == nil: tab = position
            case UInt8(ascii: "\n"):
                take(upTo: position)
                lineStart = bytes.index(after: position)
                tab = nil
            default: break
            }
            position = bytes.index(after: position)
        }
        take(upTo: bytes.endIndex)
    }

    /// The recorded answer to `command` with `arguments` (exactly as recorded, compared as JSON with
    /// keys sorted): its return value, or its error; nil when nothing was recorded for that request.
    func answer(_ command: String, _ arguments: JSONObject? = nil) -> Result<JSONValue, QMPError>? {
        let key = Self.canonicalKey(command, arguments)
        guard let text = index[key], let reply = JSONValue(parsing: String(text))?.objectValue else { return nil }
        if let value = reply["return"] { return .success(value) }
        let error = reply["error"]?.objectValue
        return .failure(
            QMPError(
                QMPErrorClass(rawValue: error?["class"]?.stringValue ?? "GenericError"),
                error?["desc"]?.stringValue ?? ""
            )
        )
    }

    /// `{"execute":C,"arguments":A}` with every object's keys sorted and no spaces: the key
    /// `scripts/generate-probe.py` writes (Python's `json.dumps(sort_keys=True, separators=(",", ":"))`).
    static func canonicalKey(_ command: String, _ arguments: JSONObject?) -> String {
        var request: [(String, JSONValue)] = [("execute", .string(command))]
        if let arguments, !arguments.isEmpty { request.append(("arguments", .object(arguments))) }
        var text = ""
        write(.object(JSONObject(request)), to: &text)
        return text
    }

    private static func write(_ value: JSONValue, to text: inout String) {
        switch value {
        case .null: text += "null"
        case .bool(let b): text += b ? "true" : "false"
        case .int(let i): text += String(i)
        case .uint(let u): text += String(u)
        case .double(let d): text += String(d)
        case .string(let s): writeString(s, to: &text)
        case .array(let items):
            text += "["
            for (i, item) in items.enumerated() {
                if i > 0 { text += "," }
                write(item, to: &text)
            }
            text += "]"
        case .object(let object):
            text += "{"
            for (i, member) in object.members.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { text += "," }
                writeString(member.key, to: &text)
                text += ":"
                write(member.value, to: &text)
            }
            text += "}"
        }
    }

    /// A string as Python's `json.dumps` writes it (ASCII only, short escapes where it has them).
    private static func writeString(_ s: String, to text: inout String) {
        text += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case "\u{08}": text += "\\b"
            case "\u{0C}": text += "\\f"
            default:
                if scalar.value < 0x20 || scalar.value > 0x7E {
                    for unit in String(scalar).utf16 {
                        let hex = String(unit, radix: 16)
                        text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    }
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        text += "\""
    }
}
