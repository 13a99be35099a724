/// What carries a ``QMPSession``'s bytes: a socket connection in the daemon, a buffer in tests.
public protocol SessionTransport: AnyObject {
    /// The session's ``QMPSession/outbound`` went from empty to non-empty.
    func sessionHasOutput(_ session: QMPSession)
    /// An injected fault: close the connection now, after what was queued before (no reply).
    func sessionRequestsClose(_ session: QMPSession)
    /// An injected fault: hold back output queued from now on for `milliseconds` of real time.
    func sessionHoldsOutput(_ session: QMPSession, milliseconds: Int)
    /// The client stopped reading and its pending output passed the cap: drop the connection now.
    func sessionOverflowed(_ session: QMPSession)
    /// Takes the first descriptor the client passed with `SCM_RIGHTS` and not yet used, closing any
    /// others that came with it (QEMU's `qemu_chr_fe_get_msgfd`); nil when there is none. The caller
    /// owns the descriptor.
    func takePassedDescriptor() -> Int32?
}

extension SessionTransport {
    public func sessionRequestsClose(_ session: QMPSession) {}
    public func sessionHoldsOutput(_ session: QMPSession, milliseconds: Int) {}
    public func sessionOverflowed(_ session: QMPSession) {}
    public func takePassedDescriptor() -> Int32? { nil }
}
