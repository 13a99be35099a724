import QMPWire

/// Text-level helpers of the oracle replay: masking, parsing, member-order-insensitive forms.
enum OracleLine {
    /// Parses one line with our QEMU-dialect parser; nil unless it is exactly one JSON value.
    static func parse(_ line: String) -> JSONValue? { JSONValue(parsing: line) }

    /// The line with wall-clock event timestamps and, on version lines (greeting, `query-version`),
    /// the build `package` and the `micro` version masked. Everything else is kept byte for byte.
    static func masked(_ line: String) -> String {
        var text = maskTimestamps(line)
        if isVersionLine(text) {
            text = maskValue(after: #""package": ""#, in: text, isString: true)
            text = maskValue(after: #""micro": "#, in: text, isString: false)
        }
        return text
    }

    static func isVersionLine(_ line: String) -> Bool {
        guard case .object(let object)? = parse(line) else { return false }
        if object["QMP"]?.objectValue != nil { return true }
        if let ret = object["return"]?.objectValue, ret["qemu"] != nil, ret["package"] != nil { return true }
        return false
    }

    /// `"timestamp": {"seconds": N, "microseconds": N}` -> `"timestamp": {"seconds": <masked>, "microseconds": <masked>}`;
    /// the shape and position of the member are kept.
    static func maskTimestamps(_ line: String) -> String {
        let prefix = #""timestamp": {"seconds": "#
        guard line.contains(prefix) else { return line }
        var text = maskValue(after: prefix, in: line, isString: false)
        text = maskValue(after: #", "microseconds": "#, in: text, isString: false)
        return text
    }

    /// Replaces the scalar (a number, or a string's contents) that follows each occurrence of `marker`.
    private static func maskValue(after marker: String, in line: String, isString: Bool) -> String {
        var out = ""
        var rest = Substring(line)
        while let range = rest.firstRange(of: marker) {
            out += rest[..<range.upperBound]
            rest = rest[range.upperBound...]
            var end = rest.startIndex
            if isString {
                var escaped = false
                while end < rest.endIndex {
                    let c = rest[end]
                    if escaped {
                        escaped = false
                    } else if c == "\\" {
                        escaped = true
                    } else if c == "\"" {
                        break
                    }
                    end = rest.index(after: end)
                }
            } else {
                while end < rest.endIndex, rest[end] == "-" || rest[end].isNumber { end = rest.index(after: end) }
            }
            out += "<masked>"
            rest = rest[end...]
        }
        out += rest
        return out
    }

    /// Members sorted by key at every level: equal forms mean "same members and values".
    static func canonical(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let elements): return .array(elements.map(canonical))
        case .object(let object):
            let sorted = object.members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            var result = JSONObject()
            for m in sorted { result.append(m.key, canonical(m.value)) }
            return .object(result)
        default: return value
        }
    }

    /// For `{"return": [A, B, ...]...}`: the same text with the array's elements (each kept byte for
    /// byte) sorted, so two lists compare as sets of members. Nil when the line has another shape.
    static func sortingReturnArray(_ line: String) -> String? {
        let prefix = #"{"return": ["#
        guard line.hasPrefix(prefix) else { return nil }
        let bytes = Array(line.utf8)
        var i = prefix.utf8.count
        var depth = 0
        var inString = false
        var escaped = false
        var elementStart = i
        var elements: [[UInt8]] = []
        var end: Int?
        while i < bytes.count {
            let b = bytes[i]
            if inString {
                if escaped {
                    escaped = false
                } else if b == UInt8(ascii: "\\") {
                    escaped = true
                } else if b == UInt8(ascii: "\"") {
                    inString = false
                }
            } else {
                switch b {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"): depth -= 1
                case UInt8(ascii: "]"):
                    if depth > 0 {
                        depth -= 1
                    } else {
                        if i > elementStart { elements.append(Array(bytes[elementStart..<i])) }
                        end = i
                    }
                case UInt8(ascii: ",") where depth == 0:
                    elements.append(Array(bytes[elementStart..<i]))
                    elementStart = i + 1
                    if elementStart < bytes.count, bytes[elementStart] == UInt8(ascii: " ") { elementStart += 1 }
                default: break
                }
            }
            if end != nil { break }
            i += 1
        }
        guard let end else { return nil }
        let sorted = elements.sorted { $0.lexicographicallyPrecedes($1) }
        var out = Array(prefix.utf8)
        for (n, e) in sorted.enumerated() {
            if n > 0 { out += Array(", ".utf8) }
            out += e
        }
        out += bytes[end...]
        return String(decoding: out, as: UTF8.self)
    }
}

/// How one expected/received line pair differs.
enum OracleLineDiffKind: String, Sendable {
    /// Different content.
    case content
    /// Same members and values, different member order (still a difference).
    case memberOrder = "member-order"
    /// Not CRLF-terminated like QEMU's monitor output.
    case terminator
    /// QEMU sent it, the mock did not.
    case missing
    /// The mock sent it, QEMU did not.
    case extra
}

extension OracleLineDiffKind {
    /// Classifies two (already normalised) lines; nil when byte-identical.
    static func of(expected: String, got: String) -> OracleLineDiffKind? {
        if expected == got { return nil }
        if let e = OracleLine.parse(expected), let g = OracleLine.parse(got),
            OracleLine.canonical(e) == OracleLine.canonical(g)
        {
            return .memberOrder
        }
        return .content
    }
}

/// Reduced views of replies the mock knowingly reports differently (see the test's `knownDifferences`).
enum OracleProjection: String, Sendable {
    /// `query-pci`: for every device on the root bus, and behind the bridges whose devices QEMU lists
    /// (those whose bus numbers the guest programmed): slot.function, qdev_id, class and vendor:device.
    /// Bus numbers, ranges, regions and IRQs are left out.
    case pciIdentity = "pci-identity"

    /// The qdev_ids of the bridges whose `pci_bridge` has a `devices` member in `line`.
    func expandedBridges(_ line: String) -> Set<String> {
        var ids: Set<String> = []
        func walk(_ devices: [JSONValue]) {
            for d in devices {
                guard let o = d.objectValue, let behind = o["pci_bridge"]?.objectValue?["devices"]?.arrayValue else {
                    continue
                }
                ids.insert(o["qdev_id"]?.stringValue ?? "")
                walk(behind)
            }
        }
        guard case .object(let object)? = OracleLine.parse(line) else { return ids }
        for bus in object["return"]?.arrayValue ?? [] { walk(bus.objectValue?["devices"]?.arrayValue ?? []) }
        return ids
    }

    /// The projection of `line`, listing devices behind only the bridges in `expanding`.
    func apply(_ line: String, expanding: Set<String>) -> [String]? {
        guard case .object(let object)? = OracleLine.parse(line), let buses = object["return"]?.arrayValue else {
            return nil
        }
        var out: [String] = []
        func describe(_ devices: [JSONValue], indent: String) {
            for d in devices {
                guard let o = d.objectValue else { continue }
                let slot = o["slot"]?.int64Value ?? -1
                let function = o["function"]?.int64Value ?? -1
                let id = o["qdev_id"]?.stringValue ?? "?"
                let cls = o["class_info"]?.objectValue?["class"]?.int64Value ?? -1
                let ids = o["id"]?.objectValue
                let vendor = ids?["vendor"]?.int64Value ?? -1
                let device = ids?["device"]?.int64Value ?? -1
                out.append(
                    "\(indent)\(hex(slot, 2)).\(function) '\(id)' class=\(hex(cls, 4)) \(hex(vendor, 4)):\(hex(device, 4))"
                )
                if expanding.contains(id), let behind = o["pci_bridge"]?.objectValue?["devices"]?.arrayValue {
                    out.append("\(indent)  behind '\(id)':")
                    describe(behind, indent: indent + "    ")
                }
            }
        }
        for bus in buses {
            guard let b = bus.objectValue else { continue }
            out.append("bus \(b["bus"]?.int64Value ?? -1):")
            describe(b["devices"]?.arrayValue ?? [], indent: "  ")
        }
        return out
    }

    private func hex(_ v: Int64, _ width: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
