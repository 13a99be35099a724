public import QMPWire

/// One QMP command: its name, its argument schema, whether it may run out of band, and its handler.
///
/// Handlers run on the server's queue with the machine lock held (QEMU's big lock); events they
/// raise are written before their reply.
public struct QMPCommand: Sendable {
    /// What a handler gets: the validated arguments and the session and server it runs for.
    public typealias Handler = @Sendable (_ call: QMPCall) throws(QMPError) -> JSONValue

    public let name: String
    public let arguments: QAPIArguments
    /// `allow-oob: true` in QEMU's schema.
    public let allowsOutOfBand: Bool
    public let handler: Handler

    public init(
        _ name: String,
        arguments: QAPIArguments = .none,
        allowsOutOfBand: Bool = false,
        handler: @escaping Handler
    ) {
        self.name = name
        self.arguments = arguments
        self.allowsOutOfBand = allowsOutOfBand
        self.handler = handler
    }
}
