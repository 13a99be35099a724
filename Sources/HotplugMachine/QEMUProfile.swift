public import QMPWire

/// The QEMU release whose behaviour qmp-mock reproduces (`--qemu-version`): the version it reports
/// and the differences between releases that clients can see. Later features hang their
/// version-dependent behaviour on this one value.
public struct QEMUProfile: Sendable, Equatable, CustomStringConvertible {
    /// The releases qmp-mock can play.
    public static let supported: [String] = ["7.2.0", "8.2.0", "10.0.0"]
    /// The default: 8.2, the release the v8 "pci hotplug tracking" series targeted.
    public static let defaultVersion = "8.2.0"

    /// The version reported by the greeting and `query-version`.
    public let version: QEMUVersion

    /// Makes the profile of a supported release, or nil.
    /// - Parameters:
    ///   - text: `7.2.0`, `8.2.0` or `10.0.0`.
    ///   - package: the `package` string of `VersionInfo`.
    public init?(_ text: String, package: String) {
        guard Self.supported.contains(text), let version = QEMUVersion(text, package: package) else { return nil }
        self.version = version
    }

    /// `query-status` carries `singlestep` (always false) up to 8.2; 9.0 removed it.
    public var statusHasSingleStep: Bool { !version.isAtLeast(9, 0) }

    public var description: String { version.description }
}
