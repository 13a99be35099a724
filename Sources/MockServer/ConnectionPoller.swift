import CLinux
import Dispatch

#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// Waits on a thread of its own (epoll, level-triggered) until client sockets are readable, and runs
/// their reads on the server queue with `queue.sync`, which executes on this thread when the queue
/// is idle: one wake-up per request. A Dispatch read source costs a wake-up of Dispatch's manager
/// thread, a hand-off to a worker thread and a re-arm request back to the manager, several context
/// switches per request when client and server share a CPU.
///
/// The queue still owns everything: registrations change on it (`epoll_ctl` is thread-safe), and
/// the reads run on it. Events carry a token, never a pointer, so a connection removed while its
/// event was pending is simply not found.
final class ConnectionPoller: @unchecked Sendable {
    private let epollFD: Int32
    /// `errno` of `epoll_create1` (reported by ``start()`` when it failed).
    private let epollError: Int32
    private let queue: DispatchQueue
    private let finishTurn: () -> Void
    /// Queue-confined.
    private var connections: [UInt64: Connection] = [:]
    private var nextToken: UInt64 = 0
    private var threadStarted = false

    /// - Parameters:
    ///   - queue: the server queue the reads run on.
    ///   - finishTurn: what ends a turn of the queue (writes out what the reads queued).
    init(queue: DispatchQueue, finishTurn: @escaping () -> Void) {
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        epollError = errno
        self.queue = queue
        self.finishTurn = finishTurn
    }

    /// Starts the polling thread (call on the queue, once, before the first ``add(_:)``). Without
    /// an epoll instance or a thread the daemon could never read a request: it exits, saying why.
    func start() {
        precondition(!threadStarted, "ConnectionPoller started twice")
        guard epollFD >= 0 else { fatalError("epoll_create1: \(String(cString: strerror(epollError)))") }
        threadStarted = true
        // The thread keeps the poller (and so the server) alive: servers live as long as the process.
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread,
            nil,
            { raw in
                guard let raw else { return nil }
                Unmanaged<ConnectionPoller>.fromOpaque(raw).takeRetainedValue().run()
                return nil
            },
            context
        )
        guard result == 0 else { fatalError("pthread_create: \(String(cString: strerror(result)))") }
        pthread_detach(thread)
    }

    /// Starts watching a connection's socket (call on the queue, after ``start()``); returns its token.
    func add(_ connection: Connection) -> UInt64 {
        nextToken += 1
        connections[nextToken] = connection
        var event = epoll_event(events: Self.readEvents, data: epoll_data_t(u64: nextToken))
        _ = epoll_ctl(epollFD, EPOLL_CTL_ADD, connection.fd, &event)
        return nextToken
    }

    /// Stops or resumes watching a socket for input (backpressure; call on the queue).
    func setReading(_ reading: Bool, token: UInt64, fd: Int32) {
        var event = epoll_event(events: reading ? Self.readEvents : 0, data: epoll_data_t(u64: token))
        _ = epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event)
    }

    /// Forgets a socket before it is closed (call on the queue).
    func remove(token: UInt64, fd: Int32) {
        connections[token] = nil
        var event = epoll_event()
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, &event)
    }

    private static let readEvents = EPOLLIN.rawValue | EPOLLRDHUP.rawValue

    private func run() {
        // The event thread runs at nice -4 when the process may raise its priority (root,
        // CAP_SYS_NICE), as libdispatch's own event (manager) thread does (strace shows its
        // setpriority(PRIO_PROCESS, 0, -4)); otherwise the call fails and nothing changes. On a CPU
        // shared with clients it keeps a client woken by one reply from preempting the thread while
        // it writes the rest, e.g. an event to 1,000 sessions: fan-out p99 3.1-3.8 -> 2.5-3.3 ms,
        // round trip 20.7-21.0 -> 18.4-18.6 us (measured, client and server on CPU 0). On Linux
        // the nice value is per thread, and who = 0 names the calling thread.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, -4)
        let capacity = 64
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        while true {
            let n = Int(epoll_wait(epollFD, events, Int32(capacity), -1))
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            queue.sync {
                for i in 0..<n {
                    connections[events[i].data.u64]?.readAvailable()
                }
                finishTurn()
            }
        }
    }
}
