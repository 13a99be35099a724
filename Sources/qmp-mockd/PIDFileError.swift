#if canImport(Glibc)
    import Glibc
#endif

/// Why the PID file could not be written, in QEMU's words (`Cannot lock pid file: Resource
/// temporarily unavailable`).
struct PIDFileError: Error, CustomStringConvertible {
    let description: String

    init(_ message: String, errno code: Int32?) {
        description = code.map { "\(message): \(String(cString: strerror($0)))" } ?? message
    }
}
