#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// QEMU's `-daemonize` (`os_daemonize` and `os_setup_post`): the process libvirt started forks and
/// waits on a pipe; the child starts a new session and forks again; the grandchild runs the machine
/// with umask 027, and once its monitors listen moves to `/`, puts `/dev/null` on fds 0–2 and writes
/// one zero byte to the pipe, on which the waiting process exits 0. If the daemon dies before that,
/// the pipe reaches end-of-file and the waiting process exits 1 (the daemon's error is on the
/// stderr they shared).
///
/// Must run before any thread exists (before Dispatch starts).
struct Daemonizer: Sendable {
    /// The pipe's write end, held by the daemon until it is ready.
    let pipeFD: Int32

    /// Forks as QEMU does. Returns only in the daemon (the grandchild); the other processes exit.
    static func daemonize() -> Daemonizer {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else { exit(1) }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        let pid = fork()
        if pid < 0 { exit(1) }
        if pid > 0 {
            close(fds[1])
            var status: UInt8 = 1
            var length: Int
            repeat {
                length = read(fds[0], &status, 1)
            } while length < 0 && errno == EINTR
            // Only a child that wrote a single zero byte started.
            exit(length == 1 && status == 0 ? 0 : 1)
        }
        close(fds[0])
        setsid()
        let second = fork()
        if second < 0 { exit(1) }
        if second > 0 { exit(0) }
        umask(0o027)
        signal(SIGTSTP, SIG_IGN)
        signal(SIGTTOU, SIG_IGN)
        signal(SIGTTIN, SIG_IGN)
        return Daemonizer(pipeFD: fds[1])
    }

    /// The monitors listen: detach from the starting process's directory and stdio, and release it.
    func ready() {
        guard chdir("/") == 0 else { exit(1) }
        let null = open("/dev/null", O_RDWR)
        guard null >= 0 else { exit(1) }
        dup2(null, 0)
        dup2(null, 1)
        dup2(null, 2)
        close(null)
        var status: UInt8 = 0
        var length: Int
        repeat {
            length = write(pipeFD, &status, 1)
        } while length < 0 && errno == EINTR
        guard length == 1 else { exit(1) }
        close(pipeFD)
    }
}
