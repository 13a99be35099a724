public import QMPWire

/// A `netdev_add` type (QEMU's `NetClientDriver`) and the members its `Netdev` variant declares, as
/// in the schema QEMU 7.2.22 and 10.0.2 report (`query-qmp-schema`): the arguments are checked with
/// these, as QEMU's generated visitor checks its boxed `Netdev` union.
public enum NetdevType: String, Sendable, CaseIterable {
    case nic
    case user
    case tap
    case l2tpv3
    case socket
    case stream
    case dgram
    case vde
    case bridge
    case hubport
    case netmap
    case vhostUser = "vhost-user"
    case vhostVDPA = "vhost-vdpa"
    case none

    /// Members of tap's unsigned QAPI types (`size`, `uint32`): QEMU's visitor answers a value that is not
    /// a number with `Parameter 'X' expects uint64`, not with the type error of signed members.
    public static let unsignedMembers: Set<String> = ["sndbuf", "queues", "poll-us"]

    /// The enum's values in QEMU's order (`Parameter 'type' does not accept value 'x'`).
    public static let values = [
        "none", "nic", "user", "tap", "l2tpv3", "socket", "stream", "dgram", "vde", "bridge", "hubport", "netmap",
        "vhost-user", "vhost-vdpa",
    ]

    /// The variant's members in schema order; `streamReconnect` adds `reconnect` and `reconnect-ms`
    /// to `stream` (10.0).
    public func members(streamReconnect: Bool) -> [QAPIArgument] {
        switch self {
        case .nic:
            return [
                QAPIArgument("netdev", .string, optional: true),
                QAPIArgument("macaddr", .string, optional: true),
                QAPIArgument("model", .string, optional: true),
                QAPIArgument("addr", .string, optional: true),
                QAPIArgument("vectors", .int, optional: true),
            ]
        case .user:
            return [
                QAPIArgument("hostname", .string, optional: true),
                QAPIArgument("restrict", .bool, optional: true),
                QAPIArgument("ipv4", .bool, optional: true),
                QAPIArgument("ipv6", .bool, optional: true),
                QAPIArgument("ip", .string, optional: true),
                QAPIArgument("net", .string, optional: true),
                QAPIArgument("host", .string, optional: true),
                QAPIArgument("tftp", .string, optional: true),
                QAPIArgument("bootfile", .string, optional: true),
                QAPIArgument("dhcpstart", .string, optional: true),
                QAPIArgument("dns", .string, optional: true),
                QAPIArgument("dnssearch", .array(.object), optional: true),
                QAPIArgument("domainname", .string, optional: true),
                QAPIArgument("ipv6-prefix", .string, optional: true),
                QAPIArgument("ipv6-prefixlen", .int, optional: true),
                QAPIArgument("ipv6-host", .string, optional: true),
                QAPIArgument("ipv6-dns", .string, optional: true),
                QAPIArgument("smb", .string, optional: true),
                QAPIArgument("smbserver", .string, optional: true),
                QAPIArgument("hostfwd", .array(.object), optional: true),
                QAPIArgument("guestfwd", .array(.object), optional: true),
                QAPIArgument("tftp-server-name", .string, optional: true),
            ]
        case .tap:
            return [
                QAPIArgument("ifname", .string, optional: true),
                QAPIArgument("fd", .string, optional: true),
                QAPIArgument("fds", .string, optional: true),
                QAPIArgument("script", .string, optional: true),
                QAPIArgument("downscript", .string, optional: true),
                QAPIArgument("br", .string, optional: true),
                QAPIArgument("helper", .string, optional: true),
                QAPIArgument("sndbuf", .unsigned(bits: 64), optional: true),
                QAPIArgument("vnet_hdr", .bool, optional: true),
                QAPIArgument("vhost", .bool, optional: true),
                QAPIArgument("vhostfd", .string, optional: true),
                QAPIArgument("vhostfds", .string, optional: true),
                QAPIArgument("vhostforce", .bool, optional: true),
                QAPIArgument("queues", .unsigned(bits: 32), optional: true),
                QAPIArgument("poll-us", .unsigned(bits: 32), optional: true),
            ]
        case .l2tpv3:
            return [
                QAPIArgument("src", .string),
                QAPIArgument("dst", .string),
                QAPIArgument("srcport", .string, optional: true),
                QAPIArgument("dstport", .string, optional: true),
                QAPIArgument("ipv6", .bool, optional: true),
                QAPIArgument("udp", .bool, optional: true),
                QAPIArgument("cookie64", .bool, optional: true),
                QAPIArgument("counter", .bool, optional: true),
                QAPIArgument("pincounter", .bool, optional: true),
                QAPIArgument("txcookie", .int, optional: true),
                QAPIArgument("rxcookie", .int, optional: true),
                QAPIArgument("txsession", .int),
                QAPIArgument("rxsession", .int, optional: true),
                QAPIArgument("offset", .int, optional: true),
            ]
        case .socket:
            return [
                QAPIArgument("fd", .string, optional: true),
                QAPIArgument("listen", .string, optional: true),
                QAPIArgument("connect", .string, optional: true),
                QAPIArgument("mcast", .string, optional: true),
                QAPIArgument("localaddr", .string, optional: true),
                QAPIArgument("udp", .string, optional: true),
            ]
        case .stream:
            return [
                QAPIArgument("addr", .object),
                QAPIArgument("server", .bool, optional: true),
            ]
                + (streamReconnect
                    ? [
                        QAPIArgument("reconnect", .int, optional: true),
                        QAPIArgument("reconnect-ms", .int, optional: true),
                    ] : [])
        case .dgram:
            return [
                QAPIArgument("local", .object, optional: true),
                QAPIArgument("remote", .object, optional: true),
            ]
        case .vde:
            return [
                QAPIArgument("sock", .string, optional: true),
                QAPIArgument("port", .int, optional: true),
                QAPIArgument("group", .string, optional: true),
                QAPIArgument("mode", .int, optional: true),
            ]
        case .bridge:
            return [
                QAPIArgument("br", .string, optional: true),
                QAPIArgument("helper", .string, optional: true),
            ]
        case .hubport:
            return [
                QAPIArgument("hubid", .int),
                QAPIArgument("netdev", .string, optional: true),
            ]
        case .netmap:
            return [
                QAPIArgument("ifname", .string),
                QAPIArgument("devname", .string, optional: true),
            ]
        case .vhostUser:
            return [
                QAPIArgument("chardev", .string),
                QAPIArgument("vhostforce", .bool, optional: true),
                QAPIArgument("queues", .int, optional: true),
            ]
        case .vhostVDPA:
            return [
                QAPIArgument("vhostdev", .string, optional: true),
                QAPIArgument("vhostfd", .string, optional: true),
                QAPIArgument("queues", .int, optional: true),
                QAPIArgument("x-svq", .bool, optional: true),
            ]
        case .none: return []
        }
    }
}
