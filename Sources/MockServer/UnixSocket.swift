#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// Unix stream socket helpers: listening sockets that never replace a live peer's, and accept.
enum UnixSocket {
    /// Fills a `sockaddr_un` for `path` and calls `body` with it.
    static func withAddress<R>(
        _ path: String,
        _ body: (UnsafePointer<sockaddr>, socklen_t) -> R
    ) throws(SocketError) -> R {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity else { throw .pathTooLong(path) }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }

    static func setNonBlockingCloseOnExec(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }

    /// Whether a process accepts connections on `path` right now.
    static func hasLiveListener(_ path: String) throws(SocketError) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(call: "socket", path: path, errno: errno) }
        defer { close(fd) }
        let result = try withAddress(path) { connect(fd, $0, $1) }
        // EAGAIN: a listener whose backlog is full is still alive.
        return result == 0 || errno == EAGAIN
    }

    /// Creates a non-blocking listening socket at `path` with permissions `mode`.
    ///
    /// A stale socket file (no process accepts on it) is replaced; a live one, or a file that is
    /// not a socket, is not.
    static func listen(path: String, mode: mode_t, backlog: Int32) throws(SocketError) -> Int32 {
        var st = stat()
        if lstat(path, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFSOCK else { throw .notASocket(path) }
            if try hasLiveListener(path) { throw .inUse(path) }
            unlink(path)
        }
        let fd = socket(
            AF_UNIX,
            Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
            0
        )
        guard fd >= 0 else { throw .system(call: "socket", path: path, errno: errno) }
        // The socket file takes its permissions from the umask at bind time; chmod again after.
        let oldMask = umask(~mode & 0o777)
        let bound = try withAddress(path) { bind(fd, $0, $1) }
        let bindErrno = errno
        umask(oldMask)
        guard bound == 0 else {
            close(fd)
            throw .system(call: "bind", path: path, errno: bindErrno)
        }
        chmod(path, mode)
        guard Glibc.listen(fd, backlog) == 0 else {
            let e = errno
            close(fd)
            unlink(path)
            throw .system(call: "listen", path: path, errno: e)
        }
        return fd
    }

    /// Accepts one pending connection as a non-blocking, close-on-exec fd; nil when none is pending.
    static func accept(_ listenFD: Int32) -> Int32? {
        while true {
            let fd = Glibc.accept(listenFD, nil, nil)
            if fd >= 0 {
                setNonBlockingCloseOnExec(fd)
                return fd
            }
            if errno == EINTR || errno == ECONNABORTED { continue }
            return nil
        }
    }
}
