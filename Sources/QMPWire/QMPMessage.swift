/// Builders for the four kinds of server message QMP knows (greeting, success, error, event),
/// rendered as QEMU renders them: one compact line ending in CRLF.
public enum QMPMessage {
    /// Appends `object` as one line terminated by CRLF.
    @inlinable public static func appendLine(_ object: JSONObject, to out: inout [UInt8]) {
        JSONWriter.writeObject(object, into: &out)
        out.append(0x0D)
        out.append(0x0A)
    }

    /// `{"return": VALUE, "id": ID}`.
    public static func success(_ value: JSONValue, id: JSONValue?) -> JSONObject {
        var reply = JSONObject(capacity: 2)
        reply.append("return", value)
        if let id { reply.append("id", id) }
        return reply
    }

    /// Appends `{"return": RETURN, "id": ID}` as one line, `renderedReturn` being the return value's
    /// JSON text as ``JSONWriter`` writes it: for an answer rendered once and sent many times
    /// (`query-qmp-schema`'s ~100 KB). The same bytes as ``appendLine(_:to:)`` of
    /// ``success(_:id:)`` with the value itself.
    public static func appendSuccessLine(renderedReturn: [UInt8], id: JSONValue?, to out: inout [UInt8]) {
        let reply = success(.null, id: id)
        JSONWriter.writeObject(reply, into: &out) { i, out in
            if i == 0 {
                out.append(contentsOf: renderedReturn)
            } else {
                JSONWriter.write(reply.members[i].value, into: &out)
            }
        }
        out.append(0x0D)
        out.append(0x0A)
    }

    /// `{"timestamp": {"seconds": S, "microseconds": US}, "event": NAME, "data": DATA}`; `data` is
    /// omitted when nil, as QEMU does for events without data.
    public static func event(_ name: String, data: JSONObject?, seconds: Int64, microseconds: Int64) -> JSONObject {
        var timestamp = JSONObject(capacity: 2)
        timestamp.append("seconds", .int(seconds))
        timestamp.append("microseconds", .int(microseconds))
        var event = JSONObject(capacity: 3)
        event.append("event", .string(name))
        if let data { event.append("data", .object(data)) }
        event.append("timestamp", .object(timestamp))
        return event
    }

    /// `{"QMP": {"version": VERSION, "capabilities": [...]}}`.
    public static func greeting(version: QEMUVersion, capabilities: [String]) -> JSONObject {
        var qmp = JSONObject()
        qmp.append("version", .object(version.versionInfo))
        qmp.append("capabilities", .array(capabilities.map { .string($0) }))
        var greeting = JSONObject()
        greeting.append("QMP", .object(qmp))
        return greeting
    }
}
