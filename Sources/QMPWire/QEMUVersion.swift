/// A QEMU release as QMP reports it (`VersionInfo`): `{"qemu": {"major", "minor", "micro"}, "package"}`.
public struct QEMUVersion: Hashable, Sendable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var micro: Int
    /// The `package` string (a distribution version, or ours: `qmp-mock <version>`).
    public var package: String

    public init(major: Int, minor: Int, micro: Int, package: String) {
        self.major = major
        self.minor = minor
        self.micro = micro
        self.package = package
    }

    /// Parses `MAJOR.MINOR.MICRO`.
    public init?(_ text: String, package: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let a = Int(parts[0]), let b = Int(parts[1]), let c = Int(parts[2]),
            a >= 0, b >= 0, c >= 0
        else { return nil }
        self.init(major: a, minor: b, micro: c, package: package)
    }

    /// `MAJOR.MINOR.MICRO`.
    public var description: String { "\(major).\(minor).\(micro)" }

    /// The `VersionInfo` object of `query-version` and the greeting.
    public var versionInfo: JSONObject {
        var qemu = JSONObject()
        qemu.append("major", .int(Int64(major)))
        qemu.append("minor", .int(Int64(minor)))
        qemu.append("micro", .int(Int64(micro)))
        var info = JSONObject()
        info.append("qemu", .object(qemu))
        info.append("package", .string(package))
        return info
    }

    /// Whether this release is at least `major.minor`.
    public func isAtLeast(_ major: Int, _ minor: Int) -> Bool {
        (self.major, self.minor) >= (major, minor)
    }
}
