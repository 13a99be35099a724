/// A command request that passed QEMU's message-shape checks (`qmp_dispatch_check_obj`).
///
/// `{"execute": NAME, "arguments"?: {...}, "id"?: ANY}`, or `exec-oob` instead of `execute` once
/// the session enabled the `oob` capability.
public struct QMPRequest: Sendable, Equatable {
    /// The command name.
    public var command: String
    /// The arguments (`{}` when the member was absent).
    public var arguments: JSONObject
    /// The request id, echoed verbatim in the reply; nil when absent.
    public var id: JSONValue?
    /// Whether the request used `exec-oob`.
    public var isOutOfBand: Bool

    public init(command: String, arguments: JSONObject = JSONObject(), id: JSONValue? = nil, isOutOfBand: Bool = false)
    {
        self.command = command
        self.arguments = arguments
        self.id = id
        self.isOutOfBand = isOutOfBand
    }

    /// Checks a parsed message as QEMU's dispatcher does, in QEMU's order.
    ///
    /// - Parameters:
    ///   - message: the parsed JSON message.
    ///   - allowOutOfBand: whether `exec-oob` is a known member (the session enabled `oob`).
    /// - Returns: the request, or the error together with the id to echo (present whenever the
    ///   message is an object with an `id`).
    public static func parse(_ message: JSONValue, allowOutOfBand: Bool) -> Result<QMPRequest, IdentifiedError> {
        guard case .object(let object) = message else {
            return .failure(IdentifiedError(error: .generic("QMP input must be a JSON object"), id: nil))
        }
        let id = object["id"]
        func fail(_ text: String) -> Result<QMPRequest, IdentifiedError> {
            .failure(IdentifiedError(error: .generic(text), id: id))
        }
        var execKey: String?
        var command = ""
        var arguments = JSONObject()
        // Members are visited in QDict order, so the first error QEMU reports is the one we report.
        let problem: String? = QDictOrder.withOrderedIndices(of: object) { order in
            for i in order {
                let member = object.members[i]
                switch member.key {
                case let key where key == "execute" || (key == "exec-oob" && allowOutOfBand):
                    guard case .string(let name) = member.value else {
                        return "QMP input member '\(member.key)' must be a string"
                    }
                    if let execKey { return "QMP input member '\(member.key)' clashes with '\(execKey)'" }
                    execKey = member.key
                    command = name
                case "arguments":
                    guard case .object(let args) = member.value else {
                        return "QMP input member 'arguments' must be an object"
                    }
                    arguments = args
                case "id":
                    continue
                default:
                    return "QMP input member '\(member.key)' is unexpected"
                }
            }
            return nil
        }
        if let problem { return fail(problem) }
        guard let execKey else { return fail("QMP input lacks member 'execute'") }
        return .success(QMPRequest(command: command, arguments: arguments, id: id, isOutOfBand: execKey == "exec-oob"))
    }

    /// An error together with the request id it answers.
    public struct IdentifiedError: Error, Sendable, Equatable {
        public var error: QMPError
        public var id: JSONValue?
        public init(error: QMPError, id: JSONValue?) {
            self.error = error
            self.id = id
        }
    }
}
