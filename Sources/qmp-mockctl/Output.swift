import QMPWire

/// Prints a reply: compact JSON with `--json`, else readable `key: value` lines.
enum Output {
    static func print(_ value: JSONValue, json: Bool) {
        if json {
            Swift.print(value.jsonText)
            return
        }
        var lines: [String] = []
        render(value, indent: "", into: &lines)
        if lines.isEmpty { lines = ["ok"] }
        Swift.print(lines.joined(separator: "\n"))
    }

    private static func scalar(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        default: return value.jsonText
        }
    }

    private static func render(_ value: JSONValue, indent: String, into lines: inout [String]) {
        switch value {
        case .object(let object):
            for member in object.members.sorted(by: { $0.key < $1.key }) {
                switch member.value {
                case .object, .array:
                    lines.append("\(indent)\(member.key):")
                    render(member.value, indent: indent + "  ", into: &lines)
                default:
                    lines.append("\(indent)\(member.key): \(scalar(member.value))")
                }
            }
        case .array(let elements):
            for element in elements {
                if case .object(let object) = element {
                    let summary = object.members.filter { !isContainer($0.value) }.map {
                        "\($0.key)=\(scalar($0.value))"
                    }
                    lines.append("\(indent)- " + summary.joined(separator: " "))
                    for member in object.members where isContainer(member.value) {
                        lines.append("\(indent)  \(member.key):")
                        render(member.value, indent: indent + "    ", into: &lines)
                    }
                } else {
                    lines.append("\(indent)- \(scalar(element))")
                }
            }
        default:
            lines.append(indent + scalar(value))
        }
    }

    private static func isContainer(_ value: JSONValue) -> Bool {
        switch value {
        case .object, .array: return true
        default: return false
        }
    }
}
