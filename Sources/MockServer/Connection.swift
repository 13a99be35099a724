import Dispatch
import Logging

#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// One accepted client socket: reads when the server's ``ConnectionPoller`` finds it readable, and
/// writes directly, with a Dispatch write source for what the socket does not take at once; all on
/// a non-blocking fd, shuttling bytes between the socket and its ``QMPSession``.
///
/// Confined to the server queue (hence `@unchecked Sendable`). Reads go straight from the server's
/// shared buffer into the session, and what the session queued is written after each read: no
/// thread hop and no allocation per message.
final class Connection: SessionTransport, @unchecked Sendable {
    let fd: Int32
    unowned let server: QMPServer
    unowned let monitor: MonitorListener
    private(set) var session: QMPSession?
    /// The connection's registration with the server's ``ConnectionPoller`` (reads).
    private var pollToken: UInt64 = 0
    private let writeSource: any DispatchSourceWrite
    private var writeArmed = false
    private var readSuspended = false
    private var isClosed = false
    private var sentOffset = 0
    /// Above this many unsent bytes the connection stops reading (backpressure); below the low mark it resumes.
    private static let highWater = 1 << 20
    private static let lowWater = 64 << 10

    init(fd: Int32, server: QMPServer, monitor: MonitorListener) {
        self.fd = fd
        self.server = server
        self.monitor = monitor
        writeSource = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: server.queue)
    }

    /// Opens the session (queuing the greeting) and starts reading.
    func start() {
        writeSource.setEventHandler { [unowned self] in
            flush()
            server.finishTurn()
        }
        // The fd is closed once the write source is cancelled (the poller forgot it before).
        writeSource.setCancelHandler { [unowned self] in
            Glibc.close(fd)
            monitor.connectionClosed(self)
        }
        session = server.core.openSession(monitor: monitor.path, role: monitor.role, transport: self)
        pollToken = server.poller.add(self)
    }

    /// Reads what the socket holds into the session (the server's poller calls it on the queue,
    /// then ends the turn).
    func readAvailable() {
        guard let session, !isClosed else { return }
        let buffer = server.readBuffer
        while true {
            let n = receive(into: buffer)
            if n > 0 {
                session.receive(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                if session.isClosing { return }
                // Replies go out before the next read: a client waiting for them gets them one
                // system call earlier, and its next request is often there by that read.
                server.flushPending()
                // Read on until EAGAIN: on one CPU the client has usually answered the reply with
                // its next request by then, which saves a trip through epoll_wait. (Stopping after a
                // short read, which level-triggered epoll allows, measured 1-2 us slower round trips
                // and 3% more hot-plug cycles; round trips have the tighter target.)
                continue
            }
            if n == 0 {
                // Replies to what the client sent before it shut down its side still go out (QEMU
                // answers a command before it reads further, so `printf ... | socat` gets them).
                closeAfterFlush(reason: "client disconnected")
                return
            }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return
            default:
                close(reason: "read failed: \(String(cString: strerror(errno)))")
                return
            }
        }
    }

    /// Descriptors that came with the latest read that carried any (QEMU's `read_msgfds`): a later
    /// read with descriptors replaces them (closing these), `takePassedDescriptor` uses the first and
    /// closes the rest, and closing the connection closes what is left.
    private var passedDescriptors: [Int32] = []
    /// At most this many descriptors are taken from one read, as QEMU's socket chardev (`TCP_MAX_FDS`);
    /// the kernel closes those that do not fit.
    static let maxDescriptorsPerRead = 16

    /// `recvmsg`, so that descriptors passed with SCM_RIGHTS are taken off the socket and kept for
    /// `getfd`/`add-fd` (close-on-exec).
    private func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var iov = iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
        // CMSG_SPACE(16 * 4): a 16-byte header and 64 bytes of descriptors.
        return withUnsafeTemporaryAllocation(byteCount: 16 + 4 * Self.maxDescriptorsPerRead, alignment: 8) {
            control in
            withUnsafeMutablePointer(to: &iov) { iovPointer in
                var message = msghdr()
                message.msg_iov = iovPointer
                message.msg_iovlen = 1
                message.msg_control = control.baseAddress
                message.msg_controllen = control.count
                let n = recvmsg(fd, &message, Int32(MSG_CMSG_CLOEXEC))
                if n > 0 && message.msg_controllen > 0 { keepPassedDescriptors(&message) }
                return n
            }
        }
    }

    private func keepPassedDescriptors(_ message: inout msghdr) {
        // CMSG_FIRSTHDR/CMSG_NXTHDR are macros Swift cannot import; walk the headers by hand.
        guard let control = message.msg_control else { return }
        let length = Int(message.msg_controllen)
        let headerSize = MemoryLayout<cmsghdr>.size
        let align = { (n: Int) in (n + MemoryLayout<Int>.size - 1) & ~(MemoryLayout<Int>.size - 1) }
        var offset = 0
        while offset + headerSize <= length {
            let header = control.load(fromByteOffset: offset, as: cmsghdr.self)
            let recordLength = Int(header.cmsg_len)
            guard recordLength >= headerSize, offset + recordLength <= length else { return }
            if header.cmsg_level == SOL_SOCKET && header.cmsg_type == SCM_RIGHTS {
                let dataStart = offset + align(headerSize)
                let count = (offset + recordLength - dataStart) / MemoryLayout<Int32>.size
                if count > 0 {
                    closePassedDescriptors()
                    for i in 0..<count {
                        passedDescriptors.append(
                            control.loadUnaligned(fromByteOffset: dataStart + i * 4, as: Int32.self)
                        )
                    }
                }
            }
            offset += align(recordLength)
        }
    }

    private func closePassedDescriptors() {
        for passed in passedDescriptors { Glibc.close(passed) }
        passedDescriptors.removeAll()
    }

    func takePassedDescriptor() -> Int32? {
        guard let first = passedDescriptors.first else { return nil }
        passedDescriptors.removeFirst()
        closePassedDescriptors()
        return first
    }

    func sessionHasOutput(_ session: QMPSession) {
        server.scheduleFlush(self)
    }

    func sessionOverflowed(_ session: QMPSession) {
        server.core.logger.warning(
            "session \(session.number): more than \(server.core.maxOutboundBytes) bytes of output pending (the client does not read); disconnecting it"
        )
        close(reason: "output buffer overflow")
    }

    func sessionRequestsClose(_ session: QMPSession) {
        closeAfterFlush(reason: "closed by an injected fault")
    }

    /// Output queued from now on waits: only the bytes already queued may go out until the hold ends.
    func sessionHoldsOutput(_ session: QMPSession, milliseconds: Int) {
        holdLimit = session.outbound.count
        let timer = DispatchSource.makeTimerSource(queue: server.queue)
        timer.schedule(deadline: .now() + .milliseconds(milliseconds))
        timer.setEventHandler { [weak self] in
            guard let self else { return }
            holdLimit = nil
            holdTimer?.cancel()
            holdTimer = nil
            flush()
            server.finishTurn()
        }
        holdTimer?.cancel()
        holdTimer = timer
        timer.resume()
    }

    /// While an injected delay holds the output, only `outbound[..<holdLimit]` may be written.
    private var holdLimit: Int?
    private var holdTimer: (any DispatchSourceTimer)?

    /// Writes as much queued output as the socket takes; arms the write source for the rest.
    func flush() {
        guard let session, !isClosed else { return }
        let total = min(session.outbound.count, holdLimit ?? Int.max)
        while sentOffset < total {
            let n = session.outbound.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return send(fd, base + sentOffset, total - sentOffset, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                sentOffset += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
            close(reason: "write failed: \(String(cString: strerror(errno)))")
            return
        }
        if sentOffset == total && total == session.outbound.count {
            session.outbound.removeAll(keepingCapacity: session.outbound.capacity <= 1 << 20)
            sentOffset = 0
            setWriteArmed(false)
            if let reason = pendingCloseReason {
                close(reason: reason)
                return
            }
        } else if sentOffset < total {
            if sentOffset >= Self.lowWater {
                session.outbound.removeSubrange(0..<sentOffset)
                if let limit = holdLimit { holdLimit = limit - sentOffset }
                sentOffset = 0
            }
            setWriteArmed(true)
        } else {
            setWriteArmed(false)  // held back by an injected delay; the hold timer flushes
        }
        let pending = session.outbound.count - sentOffset
        if pendingCloseReason == nil {
            if pending > Self.highWater {
                setReadSuspended(true)
            } else if pending < Self.lowWater {
                setReadSuspended(false)
            }
        }
    }

    /// Set when the peer closed: the connection closes once its output is written.
    private var pendingCloseReason: String?

    /// Stops reading and closes once everything queued has been written (or writing fails).
    func closeAfterFlush(reason: String) {
        guard !isClosed, pendingCloseReason == nil else { return }
        pendingCloseReason = reason
        setReadSuspended(true)
        flush()
    }

    /// Whether output is still waiting to be written.
    var hasPendingOutput: Bool { (session?.outbound.count ?? 0) > sentOffset }

    /// Writes out pending output, waiting up to `timeoutMilliseconds` for a slow reader (shutdown).
    func drain(timeoutMilliseconds: Int32) {
        var waited: Int32 = 0
        while !isClosed && hasPendingOutput && waited < timeoutMilliseconds {
            flush()
            if !hasPendingOutput || isClosed { break }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&p, 1, 50)
            waited += 50
        }
    }

    private func setWriteArmed(_ armed: Bool) {
        guard armed != writeArmed else { return }
        writeArmed = armed
        if armed { writeSource.resume() } else { writeSource.suspend() }
    }

    private func setReadSuspended(_ suspended: Bool) {
        guard suspended != readSuspended else { return }
        readSuspended = suspended
        server.poller.setReading(!suspended, token: pollToken, fd: fd)
    }

    /// Ends the connection (idempotent). The fd is closed once the write source is cancelled (the
    /// poller forgets it first).
    func close(reason: String) {
        guard !isClosed else { return }
        isClosed = true
        closePassedDescriptors()
        if let session {
            server.core.closeSession(session, reason: reason)
            session.transport = nil
        }
        server.poller.remove(token: pollToken, fd: fd)
        // A suspended or never-resumed source must be resumed before it is cancelled and released.
        if !writeArmed {
            writeArmed = true
            writeSource.resume()
        }
        writeSource.cancel()
        holdTimer?.cancel()
        holdTimer = nil
    }
}
