import CLinux
import Glibc
import SimulatedMachine

/// The daemon's answers to the block layer's operating-system questions (``BlockHost``): it opens a
/// path as QEMU's `file-posix` would (`O_RDWR` or `O_RDONLY`, close-on-exec), reads its size, its
/// allocation and its first 112 bytes (a format header), and closes it again at once. Nothing stays
/// open: no image I/O is simulated. `block_resize` of a file node really sets the file's length
/// (`ftruncate`), as QEMU does.
enum PosixBlockHost {
    static let host = BlockHost(
        open: { path, writable in
            let fd = Glibc.open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK)
            guard fd >= 0 else { return .failure(error(errno)) }
            defer { _ = Glibc.close(fd) }
            return describe(fd)
        },
        descriptorFlags: { fd in
            let flags = fcntl(fd, F_GETFL)
            guard flags >= 0 else { return nil }
            return flags & O_ACCMODE | (flags & clinux_o_direct() != 0 ? BlockHost.directFlag : 0)
        },
        inspect: { fd in describe(fd) },
        truncate: { target, size in
            switch target {
            case .path(let path):
                let fd = Glibc.open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK)
                guard fd >= 0 else { return .failure(error(errno)) }
                defer { _ = Glibc.close(fd) }
                return resize(fd, to: size)
            case .descriptor(let fd):
                return resize(fd, to: size)
            }
        }
    )

    /// `ftruncate` of a regular file, then a fresh look at it (its size as `block_resize` leaves it).
    private static func resize(_ fd: Int32, to size: Int64) -> Result<BlockHostFile, BlockHostError> {
        guard ftruncate(fd, off_t(size)) == 0 else { return .failure(error(errno)) }
        return describe(fd)
    }

    /// `errno` as QEMU prints it (`strerror`).
    private static func error(_ code: Int32) -> BlockHostError {
        BlockHostError(errno: code, text: String(cString: strerror(code)))
    }

    /// Size, allocation, kind and header of an open descriptor.
    private static func describe(_ fd: Int32) -> Result<BlockHostFile, BlockHostError> {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failure(error(errno)) }
        let type = info.st_mode & S_IFMT
        if type == S_IFDIR { return .failure(error(EISDIR)) }
        let isDevice = type == S_IFCHR || type == S_IFBLK
        var size = Int64(info.st_size)
        if type == S_IFBLK {
            let end = lseek(fd, 0, SEEK_END)
            size = end < 0 ? 0 : Int64(end)
        }
        var header = [UInt8](repeating: 0, count: 112)
        let count = type == S_IFREG ? header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 112, 0) } : 0
        header.removeLast(112 - max(0, count))
        return .success(
            BlockHostFile(size: size, allocated: Int64(info.st_blocks) * 512, isDevice: isDevice, header: header)
        )
    }
}
