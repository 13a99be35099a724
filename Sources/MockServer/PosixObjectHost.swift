import CLinux
import Glibc
import SimulatedMachine

/// The daemon's answers to the objects' operating-system questions (``ObjectHost``), the calls QEMU
/// makes when the object is created: a `memory-backend-file`'s file is opened or created (and an
/// empty one extended, sparsely, to the backend's size, as QEMU's `ftruncate` does; in a directory, a
/// temporary file is made and unlinked), a memfd is created and sized, an `rng-random` device is
/// opened, a `secret`'s file is read. Everything is closed at once: no memory is mapped or allocated.
enum PosixObjectHost {
    static let host = ObjectHost(
        openMemoryFile: { path, length, readonly, mayCreate in
            var info = stat()
            if stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
                var template = Array("\(path)/qemu_back_mem.XXXXXX".utf8CString)
                let fd = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
                    guard let base = buffer.baseAddress else { return -1 }
                    return mkstemp(base)
                }
                guard fd >= 0 else { return .failure(error(errno)) }
                template.withUnsafeBufferPointer { buffer in
                    if let base = buffer.baseAddress { _ = unlink(base) }
                }
                _ = Glibc.close(fd)
                return .success(0)
            }
            var fd = Glibc.open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC)
            if fd < 0 && errno == ENOENT && mayCreate {
                fd = Glibc.open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            }
            guard fd >= 0 else { return .failure(error(errno)) }
            defer { _ = Glibc.close(fd) }
            guard fstat(fd, &info) == 0 else { return .failure(error(errno)) }
            let size = UInt64(max(0, info.st_size))
            if size == 0 && !readonly && length <= UInt64(Int64.max) { _ = ftruncate(fd, off_t(length)) }
            return .success(size)
        },
        createMemfd: { size, hugetlb, hugetlbsize, seal in
            let shift = hugetlbsize > 0 ? UInt32(hugetlbsize.trailingZeroBitCount) : 0
            let fd = clinux_memfd_create("memory-backend-memfd", hugetlb ? 1 : 0, shift, seal ? 1 : 0)
            guard fd >= 0 else { return .failure(ObjectHostError("failed to create memfd: \(text(errno))")) }
            defer { _ = Glibc.close(fd) }
            guard size <= UInt64(Int64.max), ftruncate(fd, off_t(size)) == 0 else {
                return .failure(ObjectHostError("failed to resize memfd to \(size): \(text(errno))"))
            }
            return .success(())
        },
        openForReading: { path in
            let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
            guard fd >= 0 else { return .failure(error(errno)) }
            _ = Glibc.close(fd)
            return .success(())
        },
        readFile: { path in
            let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return .failure(error(errno)) }
            defer { _ = Glibc.close(fd) }
            var contents: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count >= 0 else { return .failure(error(errno)) }
                if count == 0 { break }
                contents += buffer[0..<count]
                if contents.count > 1 << 20 { break }  // a secret, not a disk image
            }
            return .success(contents)
        }
    )

    private static func text(_ code: Int32) -> String { String(cString: strerror(code)) }

    private static func error(_ code: Int32) -> ObjectHostError { ObjectHostError(text(code)) }
}
