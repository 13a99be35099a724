import QMPWire

/// A QOM type `object-add` can create in qmp-mockd (QAPI's `ObjectType` values that are simulated):
/// what it is called, which abstract types it is a subtype of (what a `link<TYPE>` property
/// accepts), the members of its `object-add` variant, and the properties `qom-list` shows.
///
/// QEMU creates any of the ~45 user-creatable types of its `ObjectType` enum; qmp-mockd simulates the
/// ones management stacks put under devices (memory, RNG and iothread backends, secrets). The other
/// values pass the enum check and answer `qmp-mockd does not simulate object type 'X'`.
public enum ObjectKind: String, Sendable, CaseIterable {
    case memoryBackendRAM = "memory-backend-ram"
    case memoryBackendFile = "memory-backend-file"
    case memoryBackendMemfd = "memory-backend-memfd"
    case iothread
    case rngRandom = "rng-random"
    case rngBuiltin = "rng-builtin"
    case secret

    /// Whether it is a memory backend (`query-memdev` lists it; `object-del` refuses it while mapped).
    public var isMemoryBackend: Bool {
        self == .memoryBackendRAM || self == .memoryBackendFile || self == .memoryBackendMemfd
    }

    /// Whether an object of this kind may fill a `link<TYPE>` property (QOM's `object_dynamic_cast`).
    public func isSubtype(of type: String) -> Bool {
        switch type {
        case rawValue: return true
        case "memory-backend": return isMemoryBackend
        case "rng-backend": return self == .rngRandom || self == .rngBuiltin
        case "secret_common": return self == .secret
        default: return false
        }
    }

    /// The QAPI type of one `object-add` member, read as QEMU's input visitor reads it.
    enum MemberType: Equatable {
        case string, bool, int
        /// A `size` (uint64): anything but an integer is `Parameter 'x' expects uint64`.
        case size
        /// `host-nodes`: a list of uint16 read as `size`-like integers.
        case nodeList
        case enumeration([String])
    }

    /// The members of this type's `object-add` variant, in schema order (7.2.22 and 10.0.2).
    func members(_ profile: QEMUProfile) -> [(name: String, type: MemberType, optional: Bool)] {
        let memory: [(String, MemberType, Bool)] = [
            ("dump", .bool, true), ("host-nodes", .nodeList, true), ("merge", .bool, true),
            ("policy", .enumeration(["default", "preferred", "bind", "interleave"]), true), ("prealloc", .bool, true),
            ("prealloc-threads", .int, true), ("prealloc-context", .string, true), ("share", .bool, true),
            ("reserve", .bool, true), ("size", .size, false), ("x-use-canonical-path-for-ramblock-id", .bool, true),
        ]
        let list: [(String, MemberType, Bool)]
        switch self {
        case .memoryBackendRAM: list = memory
        case .memoryBackendFile:
            list =
                memory + [("align", .size, true)]
                + (profile.memoryFileHasOffset ? [("offset", .size, true)] : [])
                + [
                    ("discard-data", .bool, true), ("mem-path", .string, false), ("pmem", .bool, true),
                    ("readonly", .bool, true),
                ]
                + (profile.memoryFileHasOffset ? [("rom", .enumeration(["auto", "on", "off"]), true)] : [])
        case .memoryBackendMemfd:
            list = memory + [("hugetlb", .bool, true), ("hugetlbsize", .size, true), ("seal", .bool, true)]
        case .iothread:
            list = ["aio-max-batch", "thread-pool-min", "thread-pool-max", "poll-max-ns", "poll-grow", "poll-shrink"]
                .map {
                    ($0, .int, true)
                }
        case .rngRandom: list = [("opened", .bool, true), ("filename", .string, true)]
        case .rngBuiltin: list = [("opened", .bool, true)]
        case .secret:
            list =
                (profile.secretHasLoaded ? [("loaded", .bool, true)] : [])
                + [
                    ("format", .enumeration(["raw", "base64"]), true), ("keyid", .string, true), ("iv", .string, true),
                    ("data", .string, true), ("file", .string, true),
                ]
        }
        return list.map { (name: $0.0, type: $0.1, optional: $0.2) }
    }

    /// The properties `qom-list /objects/ID` shows that qmp-mockd models (QEMU also lists internal
    /// children such as a memory backend's memory region), as (name, QOM type).
    func qomProperties(_ profile: QEMUProfile) -> [(String, String)] {
        switch self {
        case .memoryBackendRAM, .memoryBackendFile, .memoryBackendMemfd:
            var list = [
                ("share", "bool"), ("size", "int"), ("dump", "bool"), ("prealloc-threads", "int"),
                ("x-use-canonical-path-for-ramblock-id", "bool"), ("policy", "HostMemPolicy"),
                ("prealloc-context", "link<thread-context>"), ("prealloc", "bool"), ("reserve", "bool"),
                ("host-nodes", "int"), ("merge", "bool"),
            ]
            if self == .memoryBackendFile { list += [("mem-path", "string"), ("readonly", "bool")] }
            return list
        case .iothread:
            return ["thread-pool-min", "aio-max-batch", "thread-pool-max", "poll-max-ns", "poll-grow", "poll-shrink"]
                .map {
                    ($0, "int")
                }
        case .rngRandom: return [("opened", "bool"), ("filename", "string")]
        case .rngBuiltin: return [("opened", "bool")]
        case .secret:
            return [("iv", "string"), ("keyid", "string")] + (profile.secretHasLoaded ? [("loaded", "bool")] : [])
                + [("format", "QCryptoSecretFormat"), ("file", "string"), ("data", "string")]
        }
    }

    /// Every value of QAPI's `ObjectType` enum (what `qom-type` accepts), as the release has it.
    static func qapiValues(_ profile: QEMUProfile) -> [String] {
        var values = [
            "authz-list", "authz-listfile", "authz-pam", "authz-simple", "can-bus", "can-host-socketcan",
            "colo-compare",
            "cryptodev-backend", "cryptodev-backend-builtin", "cryptodev-backend-lkcf", "cryptodev-vhost-user",
            "dbus-vmstate", "filter-buffer", "filter-dump", "filter-mirror", "filter-redirector", "filter-replay",
            "filter-rewriter", "input-barrier", "input-linux", "iothread", "main-loop", "memory-backend-epc",
            "memory-backend-file", "memory-backend-memfd", "memory-backend-ram", "pef-guest", "pr-manager-helper",
            "qtest", "rng-builtin", "rng-egd", "rng-random", "secret", "secret_keyring", "sev-guest", "thread-context",
            "s390-pv-guest", "throttle-group", "tls-creds-anon", "tls-creds-psk", "tls-creds-x509", "tls-cipher-suites",
            "x-remote-object", "x-vfio-user-server",
        ]
        if profile.version.isAtLeast(10, 0) {
            values.insert(contentsOf: ["acpi-generic-initiator", "acpi-generic-port"], at: 0)
            values.insert("iommufd", at: values.firstIndex(of: "iothread") ?? 0)
            values.insert("memory-backend-shm", at: (values.firstIndex(of: "memory-backend-ram") ?? 0) + 1)
            values.insert("sev-snp-guest", at: (values.firstIndex(of: "sev-guest") ?? 0) + 1)
        }
        return values
    }
}
