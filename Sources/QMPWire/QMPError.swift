/// An error as QEMU reports it on QMP: an error class and a human-readable text (`desc`).
///
/// The one error type of the project's QMP surface: parse errors, dispatcher errors, argument
/// errors and command errors all carry QEMU's class and exact text, and render themselves as
/// `{"error": {"class": ..., "desc": ...}, "id": ...}` (member order as QEMU writes it).
public struct QMPError: Error, Hashable, Sendable, CustomStringConvertible {
    public var errorClass: QMPErrorClass
    public var desc: String

    public init(_ errorClass: QMPErrorClass = .genericError, _ desc: String) {
        self.errorClass = errorClass
        self.desc = desc
    }

    /// A `GenericError` with the given text.
    public static func generic(_ desc: String) -> QMPError { QMPError(.genericError, desc) }

    public var description: String { "\(errorClass.rawValue): \(desc)" }

    /// The reply object, with `id` when the request had one.
    public func response(id: JSONValue?) -> JSONObject {
        var error = JSONObject(capacity: 2)
        error.append("class", .string(errorClass.rawValue))
        error.append("desc", .string(desc))
        var reply = JSONObject(capacity: 2)
        reply.append("error", .object(error))
        if let id { reply.append("id", id) }
        return reply
    }

    /// Appends the reply line (with CRLF) to `out`.
    public func render(id: JSONValue?, into out: inout [UInt8]) {
        QMPMessage.appendLine(response(id: id), to: &out)
    }

    // MARK: Texts of QEMU's generated QAPI input visitor

    /// `Parameter 'NAME' is missing`.
    public static func missingParameter(_ name: String) -> QMPError { .generic("Parameter '\(name)' is missing") }
    /// `Parameter 'NAME' is unexpected`.
    public static func unexpectedParameter(_ name: String) -> QMPError {
        .generic("Parameter '\(name)' is unexpected")
    }
    /// `Invalid parameter type for 'NAME', expected: TYPE`.
    public static func invalidParameterType(_ name: String, expected: String) -> QMPError {
        .generic("Invalid parameter type for '\(name)', expected: \(expected)")
    }
    /// `Parameter 'NAME' does not accept value 'VALUE'` (enums).
    public static func invalidParameterValue(_ name: String, value: String) -> QMPError {
        .generic("Parameter '\(name)' does not accept value '\(value)'")
    }
    /// `Parameter 'NAME' expects TYPE` (integers out of range).
    public static func parameterExpects(_ name: String, _ what: String) -> QMPError {
        .generic("Parameter '\(name)' expects \(what)")
    }
}
