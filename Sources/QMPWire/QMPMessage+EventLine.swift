extension QMPMessage {
    /// The members of an event envelope.
    private enum EnvelopeMember: Sendable {
        case timestamp, event, data
    }

    /// Envelope member order with and without `data`, and the order inside `timestamp`: taken once
    /// from ``QDictOrder`` applied to what ``event(_:data:seconds:microseconds:)`` builds.
    private static let envelopeWithData = envelopeOrder(data: JSONObject())
    private static let envelopeWithoutData = envelopeOrder(data: nil)
    private static let secondsFirst: Bool = {
        guard case .object(let timestamp)? = event("E", data: nil, seconds: 0, microseconds: 0)["timestamp"] else {
            return true
        }
        return QDictOrder.orderedKeys(of: timestamp).first == "seconds"
    }()

    private static func envelopeOrder(data: JSONObject?) -> [EnvelopeMember] {
        QDictOrder.orderedKeys(of: event("E", data: data, seconds: 0, microseconds: 0)).compactMap {
            switch $0 {
            case "timestamp": .timestamp
            case "event": .event
            case "data": .data
            default: nil
            }
        }
    }

    /// Appends the line of ``event(_:data:seconds:microseconds:)``, byte for byte, without building
    /// the envelope objects: events are the most frequent output (guest register writes on the
    /// control plane), and their envelope never changes shape.
    public static func appendEventLine(
        _ name: String,
        data: JSONObject?,
        seconds: Int64,
        microseconds: Int64,
        to out: inout [UInt8]
    ) {
        if let data {
            appendEnvelope(name, seconds: seconds, microseconds: microseconds, hasData: true, to: &out) {
                JSONWriter.writeObject(data, into: &$0)
            }
        } else {
            appendEnvelope(name, seconds: seconds, microseconds: microseconds, hasData: false, to: &out) { _ in }
        }
    }

    /// Appends the line of an event whose `data` member `data` writes, e.g. with
    /// ``JSONWriter/writeObject(layout:into:value:)``. `data` does not escape: nothing is allocated
    /// for it.
    public static func appendEventLine(
        _ name: String,
        seconds: Int64,
        microseconds: Int64,
        to out: inout [UInt8],
        data: (inout [UInt8]) -> Void
    ) {
        appendEnvelope(name, seconds: seconds, microseconds: microseconds, hasData: true, to: &out, data: data)
    }

    private static func appendEnvelope(
        _ name: String,
        seconds: Int64,
        microseconds: Int64,
        hasData: Bool,
        to out: inout [UInt8],
        data: (inout [UInt8]) -> Void
    ) {
        out.append(UInt8(ascii: "{"))
        var first = true
        for member in hasData ? envelopeWithData : envelopeWithoutData {
            if !first { JSONWriter.appendComma(into: &out) }
            first = false
            switch member {
            case .timestamp:
                JSONWriter.appendKey("timestamp", into: &out)
                out.append(UInt8(ascii: "{"))
                let (firstKey, firstValue, secondKey, secondValue): (StaticString, _, StaticString, _) =
                    secondsFirst
                    ? ("seconds", seconds, "microseconds", microseconds)
                    : ("microseconds", microseconds, "seconds", seconds)
                JSONWriter.appendKey(firstKey, into: &out)
                JSONWriter.writeInteger(firstValue, into: &out)
                JSONWriter.appendComma(into: &out)
                JSONWriter.appendKey(secondKey, into: &out)
                JSONWriter.writeInteger(secondValue, into: &out)
                out.append(UInt8(ascii: "}"))
            case .event:
                JSONWriter.appendKey("event", into: &out)
                JSONWriter.writeString(name, into: &out)
            case .data:
                JSONWriter.appendKey("data", into: &out)
                data(&out)
            }
        }
        out.append(UInt8(ascii: "}"))
        out.append(0x0D)
        out.append(0x0A)
    }
}
