public import QMPWire

/// One QMP command: its name, its argument schema, whether it may run out of band, and its handler.
///
/// Handlers run on the server's queue with the machine lock held (QEMU's big lock); events they
/// raise are written before their reply.
public struct QMPCommand: Sendable {
    /// What a handler gets: the validated arguments and the session and server it runs for.
    public typealias Handler = @Sendable (_ call: QMPCall) throws(QMPError) -> JSONValue
    /// A handler that gives its answer's JSON text, rendered before (nil: use ``handler``).
    public typealias RenderedHandler = @Sendable (_ call: QMPCall) throws(QMPError) -> [UInt8]?

    public let name: String
    public let arguments: QAPIArguments
    /// `allow-oob: true` in QEMU's schema.
    public let allowsOutOfBand: Bool
    public let handler: Handler
    /// For a large answer that stays the same (`query-qmp-schema`): the monitor sends this text
    /// instead of writing ``handler``'s value again. Both must give the same answer; HMP and other
    /// callers use ``handler``.
    public let rendered: RenderedHandler?

    public init(
        _ name: String,
        arguments: QAPIArguments = .none,
        allowsOutOfBand: Bool = false,
        rendered: RenderedHandler? = nil,
        handler: @escaping Handler
    ) {
        self.name = name
        self.arguments = arguments
        self.allowsOutOfBand = allowsOutOfBand
        self.rendered = rendered
        self.handler = handler
    }
}
