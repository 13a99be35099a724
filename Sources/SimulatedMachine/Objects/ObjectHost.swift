/// The operating-system side of user-creatable objects, answered by the server so that the machine
/// stays pure: QEMU opens (or creates) a `memory-backend-file`'s file, creates a memfd, opens an
/// `rng-random` device and reads a `secret`'s file when the object is created, and fails then.
/// qmp-mockd's daemon does the same calls and closes at once; no memory is mapped or allocated.
public struct ObjectHost: Sendable {
    /// `memory-backend-file`: opens `path` (read-only under `readonly`), creating it when missing
    /// and `mayCreate`; a directory gets an unlinked temporary file in it. Returns the file's
    /// size as found. An empty file that is not read-only is extended (sparsely) to `length`, as QEMU
    /// does. Fails with `strerror`'s text.
    public var openMemoryFile:
        @Sendable (_ path: String, _ length: UInt64, _ readonly: Bool, _ mayCreate: Bool) -> Result<
            UInt64, ObjectHostError
        >
    /// `memory-backend-memfd`: creates a memfd of `size` bytes (`hugetlb`, `hugetlbsize`, `seal`) and
    /// closes it. Fails with QEMU's whole text (`failed to resize memfd to 1048576: Invalid argument`).
    public var createMemfd:
        @Sendable (_ size: UInt64, _ hugetlb: Bool, _ hugetlbsize: UInt64, _ seal: Bool) -> Result<
            Void, ObjectHostError
        >
    /// `rng-random`: opens `path` read-only and closes it.
    public var openForReading: @Sendable (_ path: String) -> Result<Void, ObjectHostError>
    /// `secret`'s `file`: its contents (never logged).
    public var readFile: @Sendable (_ path: String) -> Result<[UInt8], ObjectHostError>

    public init(
        openMemoryFile: @escaping @Sendable (String, UInt64, Bool, Bool) -> Result<UInt64, ObjectHostError>,
        createMemfd: @escaping @Sendable (UInt64, Bool, UInt64, Bool) -> Result<Void, ObjectHostError>,
        openForReading: @escaping @Sendable (String) -> Result<Void, ObjectHostError>,
        readFile: @escaping @Sendable (String) -> Result<[UInt8], ObjectHostError>
    ) {
        self.openMemoryFile = openMemoryFile
        self.createMemfd = createMemfd
        self.openForReading = openForReading
        self.readFile = readFile
    }

    /// No operating system (unit tests): files open as new and empty, memfds and devices work, and a
    /// secret's file is missing.
    public static let none = ObjectHost(
        openMemoryFile: { _, _, _, _ in .success(0) },
        createMemfd: { _, _, _, _ in .success(()) },
        openForReading: { _ in .success(()) },
        readFile: { _ in .failure(ObjectHostError("No such file or directory")) }
    )
}
