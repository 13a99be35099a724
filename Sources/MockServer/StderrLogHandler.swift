public import Logging

#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// A swift-log handler writing one line per record to standard error with one `write(2)`:
/// `qmp-mockd: info: message key=value`.
///
/// When standard error is the systemd journal (``stderrIsJournal()``), each line starts with its
/// syslog priority instead of the label, `<6>info: message`, so that journald records the level
/// (`journalctl -p warning` works); the journal adds the identifier itself.
public struct StderrLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let syslogPrefix: Bool

    /// - Parameters:
    ///   - label: the prefix of plain lines.
    ///   - level: the minimum level logged.
    ///   - syslogPrefix: start lines with `<N>` (syslog priority) for journald instead of the label.
    public init(label: String, level: Logger.Level, syslogPrefix: Bool = false) {
        self.label = label
        self.logLevel = level
        self.syslogPrefix = syslogPrefix
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line =
            syslogPrefix
            ? "<\(Self.syslogPriority(event.level))>\(event.level): \(event.message)"
            : "\(label): \(event.level): \(event.message)"
        // Usually there is no metadata at all: then no dictionary work (it showed in start-up time).
        if !metadata.isEmpty || !(event.metadata?.isEmpty ?? true) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
        }
        line += "\n"
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// The syslog priority of a level (`LOG_CRIT` 2 ... `LOG_DEBUG` 7).
    public static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .critical: return 2
        case .error: return 3
        case .warning: return 4
        case .notice: return 5
        case .info: return 6
        case .debug, .trace: return 7
        }
    }

    /// Whether standard error is connected to the journal: `JOURNAL_STREAM` (`DEVICE:INODE`, set by
    /// systemd for `StandardError=journal`) names the file standard error is open on. A child that
    /// inherited the variable but whose stderr was redirected elsewhere does not match.
    public static func stderrIsJournal() -> Bool {
        guard let raw = getenv("JOURNAL_STREAM") else { return false }
        let parts = String(cString: raw).split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var st = stat()
        guard fstat(2, &st) == 0 else { return false }
        return UInt64(st.st_dev) == device && UInt64(st.st_ino) == inode
    }
}
