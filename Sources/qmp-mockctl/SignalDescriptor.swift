import CLinux

#if canImport(Glibc)
    import Glibc
#endif

/// SIGINT, SIGTERM, SIGHUP and SIGWINCH as a readable file descriptor (`signalfd`), for `watch`'s
/// `poll` loop: the signals are blocked and read as data, so no handler runs asynchronously, no
/// global state is shared with one, and the terminal is restored by ordinary code on the way out.
final class SignalDescriptor {
    /// The signals taken over.
    static let signals = [SIGINT, SIGTERM, SIGHUP, SIGWINCH]

    /// The descriptor to poll.
    let fileDescriptor: Int32
    private var previousMask = sigset_t()

    /// Blocks the signals and opens the descriptor; nil when the kernel refuses (then the signals
    /// keep their default actions).
    init?() {
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in Self.signals { sigaddset(&mask, signal) }
        guard sigprocmask(SIG_BLOCK, &mask, &previousMask) == 0 else { return nil }
        let fd = signalfd(-1, &mask, Int32(SFD_CLOEXEC))
        guard fd >= 0 else {
            sigprocmask(SIG_SETMASK, &previousMask, nil)
            return nil
        }
        fileDescriptor = fd
    }

    deinit {
        close(fileDescriptor)
        sigprocmask(SIG_SETMASK, &previousMask, nil)
    }

    /// The signals that arrived (call when `poll` says the descriptor is readable).
    func take() -> [Int32] {
        var info = signalfd_siginfo()
        let size = MemoryLayout<signalfd_siginfo>.size
        var received: [Int32] = []
        while true {
            let n = withUnsafeMutableBytes(of: &info) { Glibc.read(fileDescriptor, $0.baseAddress, size) }
            if n < 0 && errno == EINTR { continue }
            guard n == size else { break }
            received.append(Int32(info.ssi_signo))
            var probe = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&probe, 1, 0) > 0 else { break }
        }
        return received
    }
}
