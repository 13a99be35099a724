#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// QEMU's `-pidfile` (`qemu_write_pidfile`): the file is created mode 0600, write-locked with
/// `fcntl(F_SETLK)` (a second QEMU with the same file fails: `Cannot lock pid file: Resource
/// temporarily unavailable`), checked to still be the file at the path, truncated and given the
/// decimal PID and a newline. The descriptor stays open, holding the lock, while the process lives;
/// the file is removed at exit.
enum PIDFile {
    /// The path to remove at exit (read by the `atexit` handler, which cannot capture).
    nonisolated(unsafe) private static var written: String?

    /// Writes and locks the file; throws QEMU's text after `cannot create PID file: `.
    static func write(_ path: String) throws(PIDFileError) {
        while true {
            let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw PIDFileError("Failed to open file '\(path)'", errno: errno) }
            var opened = stat()
            guard fstat(fd, &opened) == 0 else {
                let code = errno
                close(fd)
                throw PIDFileError("Cannot stat file", errno: code)
            }
            var lock = flock()
            lock.l_type = Int16(F_WRLCK)
            lock.l_whence = Int16(SEEK_SET)
            lock.l_start = 0
            lock.l_len = 0
            guard fcntl(fd, F_SETLK, &lock) == 0 else {
                let code = errno
                close(fd)
                throw PIDFileError("Cannot lock pid file", errno: code)
            }
            var current = stat()
            // Another process replaced or removed the file meanwhile: lock the new one.
            guard stat(path, &current) == 0, current.st_ino == opened.st_ino else {
                close(fd)
                continue
            }
            guard ftruncate(fd, 0) == 0 else {
                let code = errno
                close(fd)
                throw PIDFileError("Failed to truncate pid file", errno: code)
            }
            let text = Array("\(getpid())\n".utf8)
            let count = text.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard count == text.count else {
                unlink(path)
                throw PIDFileError("Failed to write pid file", errno: nil)
            }
            written = Self.absolute(path)
            atexit {
                if let path = PIDFile.written { unlink(path) }
            }
            return
        }
    }

    /// `path` resolved as QEMU resolves it (`realpath`), so a later `chdir("/")` does not matter.
    private static func absolute(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
