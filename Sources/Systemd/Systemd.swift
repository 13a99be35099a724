internal import CSystemd

#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// A thin wrapper over libsystemd's `sd-daemon` API: readiness and status notification,
/// the watchdog, and sockets passed by socket activation.
///
/// Every call is a no-op when the process was not started by systemd (no `NOTIFY_SOCKET`,
/// no `LISTEN_FDS`). The environment is never unset (`unset_environment = 0`): `unsetenv` races
/// with `getenv` on Dispatch's threads.
///
/// libsystemd is loaded (`dlopen`) the first time a call needs it, not linked: it and the libraries
/// it pulls in cost ~0.9 ms of start-up, which a daemon started without a service manager (no
/// `NOTIFY_SOCKET`, `LISTEN_FDS` or `WATCHDOG_USEC`) never pays. Loading it on a second thread
/// during start-up was measured too: on the 2-CPU benchmark machine the two threads slowed each
/// other down and `READY=1` came no sooner.
public enum Systemd {
    /// Why libsystemd could not be loaded (`dlopen`/`dlsym`'s message), or nil when it is loaded.
    /// Loads it first if needed.
    public static var loadError: String? { csd_load_error().map { String(cString: $0) } }

    /// A listening socket inherited through socket activation.
    public struct ListenFD: Sendable, Equatable {
        /// The file descriptor (3, 4, ...).
        public let fd: Int32
        /// Its `FileDescriptorName=` (`LISTEN_FDNAMES`), or `unknown` when unnamed.
        public let name: String
    }

    /// Sends a state string to the service manager (`sd_notify`), e.g. `READY=1` or
    /// `STATUS=...`; returns false when there is no manager to tell or the send failed.
    @discardableResult
    public static func notify(_ state: String) -> Bool {
        guard isNotifySocketSet else { return false }
        return csd_notify(0, state) > 0
    }

    /// Whether a service manager listens for notifications (`NOTIFY_SOCKET` is set).
    public static var isNotifySocketSet: Bool { getenv("NOTIFY_SOCKET") != nil }

    /// The sockets passed by socket activation (`sd_listen_fds_with_names`), empty when none.
    public static func listenFDs() -> [ListenFD] {
        // libsystemd answers 0 without LISTEN_FDS: no need to load it for that.
        guard getenv("LISTEN_FDS") != nil else { return [] }
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
        let count = csd_listen_fds_with_names(0, &names)
        guard count > 0 else { return [] }
        defer {
            if let names {
                for i in 0..<Int(count) { free(names[i]) }
                free(names)
            }
        }
        return (0..<count).map { i in
            let name = names?[Int(i)].map { String(cString: $0) } ?? "unknown"
            return ListenFD(fd: csd_listen_fds_start() + i, name: name)
        }
    }

    /// Whether `fd` is a listening Unix stream socket (`sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0)`),
    /// the only kind of inherited socket the daemon can serve.
    public static func isListeningUnixStreamSocket(_ fd: Int32) -> Bool {
        csd_is_socket_unix(fd, Int32(SOCK_STREAM.rawValue), 1, nil, 0) > 0
    }

    /// The watchdog interval in microseconds when the manager enabled one for this process
    /// (`sd_watchdog_enabled`), else nil. Send `WATCHDOG=1` at half of it.
    public static func watchdogIntervalMicroseconds() -> UInt64? {
        // libsystemd answers 0 without WATCHDOG_USEC: no need to load it for that.
        guard getenv("WATCHDOG_USEC") != nil else { return nil }
        var usec: UInt64 = 0
        guard csd_watchdog_enabled(0, &usec) > 0 else { return nil }
        return usec
    }
}
