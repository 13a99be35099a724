public import Logging

#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// A swift-log handler that writes records as QEMU writes its messages, for qmp-mockd running as
/// `qemu-system-x86_64`: `qemu-system-x86_64: message` for errors, `qemu-system-x86_64: warning:
/// message` for warnings (other levels name theirs the same way), one `write(2)` a line, and with
/// `-msg timestamp=on` an ISO 8601 UTC time first (`2026-12-05T08:57:17.543388Z qemu-system-...`), as
/// libvirt's domain log shows QEMU's lines.
public struct QEMULogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let program: String
    private let timestamps: Bool

    /// - Parameters:
    ///   - program: the name lines start with (argv[0]'s last component, as QEMU's).
    ///   - level: the minimum level logged.
    ///   - timestamps: `-msg timestamp=on`.
    public init(program: String, level: Logger.Level, timestamps: Bool) {
        self.program = program
        self.logLevel = level
        self.timestamps = timestamps
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let kind = event.level >= .error ? "" : "\(event.level): "
        let line = (timestamps ? Self.timestamp() + " " : "") + "\(program): \(kind)\(event.message)\n"
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// The time now as QEMU's `-msg timestamp=on` prints it: `YYYY-MM-DDTHH:MM:SS.uuuuuuZ`.
    public static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))"
            + "T\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))"
            + ".\(pad(now.tv_nsec / 1000, 6))Z"
    }
}
