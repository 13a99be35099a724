/// What carries a ``QMPSession``'s bytes: a socket connection in the daemon, a buffer in tests.
public protocol SessionTransport: AnyObject {
    /// The session's ``QMPSession/outbound`` went from empty to non-empty.
    func sessionHasOutput(_ session: QMPSession)
}
