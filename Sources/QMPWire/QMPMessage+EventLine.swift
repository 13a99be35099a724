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
    /// the envelope objects (events go out rendered once for every session).
    public static func appendEventLine(
        _ name: String,
        data: JSONObject?,
        seconds: Int64,
        microseconds: Int64,
        to out: inout [UInt8]
    ) {
        appendEventLine(name, hasData: data != nil, to: &out) { value, out in
            switch value {
            case .seconds: JSONWriter.writeInteger(seconds, into: &out)
            case .microseconds: JSONWriter.writeInteger(microseconds, into: &out)
            case .data: if let data { JSONWriter.writeObject(data, into: &out) }
            }
        }
    }

    /// The values of an event line.
    enum EventLineValue {
        case seconds, microseconds, data
    }

    /// Appends an event line: the envelope's braces and keys in QDict order, and `value(v, &out)`
    /// where each value goes (``EventLineTemplate`` writes placeholders there).
    static func appendEventLine(
        _ name: String,
        hasData: Bool,
        to out: inout [UInt8],
        value: (EventLineValue, inout [UInt8]) -> Void
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
                func member(_ part: EventLineValue) {
                    JSONWriter.appendKey(part == .seconds ? "seconds" : "microseconds", into: &out)
                    value(part, &out)
                }
                member(secondsFirst ? .seconds : .microseconds)
                JSONWriter.appendComma(into: &out)
                member(secondsFirst ? .microseconds : .seconds)
                out.append(UInt8(ascii: "}"))
            case .event:
                JSONWriter.appendKey("event", into: &out)
                JSONWriter.writeString(name, into: &out)
            case .data:
                JSONWriter.appendKey("data", into: &out)
                value(.data, &out)
            }
        }
        out.append(UInt8(ascii: "}"))
        out.append(0x0D)
        out.append(0x0A)
    }
}
