public import QMPWire

/// `netdev_add` and `netdev_del`: QEMU's checks in QEMU's order with QEMU's texts, as measured on
/// 7.2.22 and 10.0.2 (the `net-*` conformance scenarios compare both).
///
/// Order of `netdev_add`'s checks: the boxed `Netdev` union (`id`, `type`, the variant's members, then
/// any member left over), the id's syntax, the backends QEMU's Debian build lacks (`nic`, `none`,
/// `netmap`), a duplicate id, then the type's own rules. Descriptor options (`fd`, `fds`, `vhostfd`,
/// `vhostfds`, socket `fd`) take `getfd` names of the calling monitor (the backend then owns the
/// descriptor, also when the command fails after taking it, as QEMU closes it) or a number, the
/// daemon's own descriptor (only checked to be open, never owned or closed).
extension Machine {
    /// `netdev_add` with its QMP arguments (the configuration's `netdevs:` entries are the same).
    /// `monitor` is the monitor whose `getfd` names `fd=NAME` options refer to.
    public func netdevAdd(_ arguments: JSONObject, monitor: String) throws(QMPError) {
        let base = [QAPIArgument("id", .string), QAPIArgument("type", .enumeration(NetdevType.values))]
        try QAPIArguments(base, allowsExtraMembers: true).validate(arguments)
        guard let id = arguments["id"]?.stringValue, let typeName = arguments["type"]?.stringValue,
            let type = NetdevType(rawValue: typeName)
        else { throw .missingParameter("id") }  // the base check above makes this unreachable
        let members = type.members(streamReconnect: profile.netdevStreamHasReconnect)
        for member in members where type == .tap && NetdevType.unsignedMembers.contains(member.name) {
            if let value = arguments[member.name], value.int64Value == nil {
                throw .parameterExpects(member.name, "uint64")
            }
        }
        try QAPIArguments(base + members).validate(arguments)
        switch type {
        case .stream: try Self.checkSocketAddress(arguments["addr"], name: "addr")
        case .dgram:
            try Self.checkSocketAddress(arguments["local"], name: "local")
            try Self.checkSocketAddress(arguments["remote"], name: "remote")
        default: break
        }
        guard Self.isIdentifier(id) else { throw .generic("Parameter 'id' expects an identifier") }
        if type == .nic || type == .none || type == .netmap {
            throw .generic("network backend '\(typeName)' is not compiled into this binary")
        }
        if netdevs.backends[id] != nil { throw .generic("Duplicate ID '\(id)'") }

        var backend = NetworkBackend(id: id, type: typeName, options: arguments)
        switch type {
        case .tap: try openTap(&backend, monitor: monitor)
        case .socket: try openSocket(&backend, monitor: monitor)
        case .dgram: try Self.checkDgram(arguments)
        case .vhostUser: try claimVhostUserChardev(&backend)
        case .vde: throw .generic("Could not open vde: No such file or directory")
        case .bridge: throw .generic("bridge helper failed")
        case .vhostVDPA where arguments["vhostdev"] == nil && arguments["vhostfd"] == nil:
            throw .generic("vhost-vdpa: neither vhostdev= nor vhostfd= was specified")
        case .vhostVDPA, .l2tpv3: throw .generic("network backend '\(typeName)' is not simulated by qmp-mockd")
        case .user, .stream, .hubport, .nic, .none, .netmap: break
        }
        netdevs.insert(backend)
    }

    /// `netdev_del`: removes the backend. One a NIC uses goes too (its id is free at once), as on QEMU;
    /// its descriptors are released at once, or with the NIC (``QEMUProfile/netdevDelKeepsBackendOfNIC``).
    public func netdevDel(id: String) throws(QMPError) {
        guard let backend = netdevs.backends[id] else { throw QMPError(.deviceNotFound, "Device '\(id)' not found") }
        if backend.isIncomplete { throw .generic("Device '\(id)' is not a netdev") }
        _ = netdevs.remove(id)
        guard backend.inUse,
            let holder = allDevices.first(where: { device in
                device.links.contains { $0.kind == .netdev && $0.name == id }
            })
        else {
            releaseDescriptors(of: backend)
            return
        }
        // The NIC keeps a link to a key no netdev id can take ('#' is not in an identifier).
        netdevs.orphanSerial += 1
        let key = "\(id)#\(netdevs.orphanSerial)"
        for index in holder.links.indices where holder.links[index].kind == .netdev && holder.links[index].name == id {
            holder.links[index].name = key
        }
        if profile.netdevDelKeepsBackendOfNIC {
            netdevs.orphans[key] = backend
        } else {
            releaseDescriptors(of: backend)
        }
    }

    /// A NIC's `netdev=` (``attachBackend(_:owner:)``): the netdev must exist and have no peer yet.
    func attachNetdev(_ link: BackendLink, owner: String) throws(QMPError) {
        guard let backend = netdevs.backends[link.name] else { throw Self.cannotFind(link, owner: owner) }
        if backend.inUse {
            throw .generic("Property '\(owner).\(link.property)' can't take value '\(link.name)', it's in use")
        }
        netdevs.backends[link.name]?.inUse = true
    }

    /// The NIC is gone: its netdev has no peer any more (or, deleted meanwhile, is released now).
    func detachNetdev(_ link: BackendLink) {
        if let orphan = netdevs.orphans.removeValue(forKey: link.name) {
            releaseDescriptors(of: orphan)
        } else {
            netdevs.backends[link.name]?.inUse = false
        }
    }

    // MARK: Descriptors

    /// QEMU's `monitor_fd_param`: a name the monitor's `getfd` gave (taken: the backend owns it from
    /// now on), or a number (the daemon's own descriptor, checked to be open; nil: not owned).
    func takeDescriptorParameter(_ text: String, monitor: String, backendID: String) throws(QMPError) -> Int32? {
        if let first = text.utf8.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") {
            guard let number = Int32(text) else { throw .generic("Invalid file descriptor number '\(text)'") }
            guard descriptors.isOpen(number) else {
                throw .generic("\(backendID): Can't use file descriptor \(number): Bad file descriptor")
            }
            return nil
        }
        let fd = try takeNamedDescriptor(text, monitor: monitor)
        descriptors.heldByBackends += 1
        return fd
    }

    /// Gives back descriptors a backend owned (or was about to own).
    func releaseDescriptors(_ fds: [Int32]) {
        for fd in fds {
            descriptors.heldByBackends -= 1
            descriptors.release(fd)
        }
    }

    /// Gives back what a backend holds: its descriptors, and a vhost-user netdev's chardev.
    func releaseDescriptors(of backend: NetworkBackend) {
        releaseDescriptors(backend.descriptors)
        if let id = backend.chardev, let index = chardevs.index(of: id) {
            chardevs.chardevs[index].holder = nil
            chardevs.chardevs[index].frontendOpen = false
        }
    }

    // MARK: vhost-user

    /// `type=vhost-user` (`net_init_vhost_user`, 7.2.22 and 10.0.2 alike): the chardev must exist and be
    /// a socket (QEMU's "reconnectable" chardevs), `queues` in [1, 1024], and the chardev free (QEMU
    /// prints `Device 'X' is in use` on its stderr and answers the generic text). The netdev then
    /// holds the chardev: `chardev-remove` answers `Chardev 'X' is busy` until `netdev_del`.
    ///
    /// QEMU's `netdev_add` then waits, monitor and all, until a vhost-user back-end connects and
    /// completes its handshake; qmp-mockd speaks no vhost-user protocol and answers at once.
    private func claimVhostUserChardev(_ backend: inout NetworkBackend) throws(QMPError) {
        let id = backend.options["chardev"]?.stringValue ?? ""
        guard let index = chardevs.index(of: id) else { throw .generic("chardev \"\(id)\" not found") }
        switch chardevs.chardevs[index].backend {
        case .socket, .monitor: break
        default: throw .generic("chardev \"\(id)\" is not reconnectable")
        }
        let queues = backend.options["queues"]?.int64Value ?? 1
        guard (1...1024).contains(queues) else {
            throw .generic("vhost-user number of queues must be in range [1, 1024]")
        }
        guard !chardevs.chardevs[index].isBusy else { throw .generic("Device 'vhost-user' could not be initialized") }
        chardevs.chardevs[index].holder = "netdev \(backend.id)"
        chardevs.chardevs[index].frontendOpen = true
        backend.chardev = id
    }

    // MARK: socket, stream, dgram

    /// `type=socket`: exactly one of `fd`, `listen`, `connect`, `mcast`, `udp`; `localaddr` only with
    /// `mcast` or `udp` (mandatory with `udp`); `host:port` syntax. No socket is opened.
    private func openSocket(_ backend: inout NetworkBackend, monitor: String) throws(QMPError) {
        let options = backend.options
        let modes = ["fd", "listen", "connect", "mcast", "udp"].filter { options[$0] != nil }
        guard modes.count == 1 else {
            throw .generic("exactly one of listen=, connect=, mcast= or udp= is required")
        }
        if options["localaddr"] != nil && options["mcast"] == nil && options["udp"] == nil {
            throw .generic("localaddr= is only valid with mcast= or udp=")
        }
        if let name = options["fd"]?.stringValue {
            if let fd = try takeDescriptorParameter(name, monitor: monitor, backendID: backend.id) {
                backend.descriptors.append(fd)
            }
            return
        }
        for key in ["listen", "connect", "mcast", "udp"] {
            if let address = options[key]?.stringValue { try Self.checkHostPort(address) }
        }
        if options["udp"] != nil && options["localaddr"] == nil {
            throw .generic("localaddr= is mandatory with udp=")
        }
        if let address = options["localaddr"]?.stringValue { try Self.checkHostPort(address) }
    }

    /// QEMU's `inet_parse` first rule.
    private static func checkHostPort(_ address: String) throws(QMPError) {
        guard address.contains(":") else {
            throw .generic("host address '\(address)' doesn't contain ':' separating host from port")
        }
    }

    /// A `SocketAddress` member (`stream`'s `addr`, `dgram`'s `local` and `remote`), as the visitor
    /// checks the flat union: `type`, then the variant's members, then left-overs, with full paths.
    static func checkSocketAddress(_ value: JSONValue?, name: String) throws(QMPError) {
        guard case .object(let object) = value else { return }  // absent, or already refused as not an object
        let base = [QAPIArgument("type", .enumeration(["inet", "unix", "vsock", "fd"]))]
        try QAPIArguments(base, allowsExtraMembers: true).validate(object, prefix: name)
        let variant: [QAPIArgument] =
            switch object["type"]?.stringValue {
            case "inet":
                [
                    QAPIArgument("host", .string), QAPIArgument("port", .string),
                    QAPIArgument("numeric", .bool, optional: true), QAPIArgument("to", .int, optional: true),
                    QAPIArgument("ipv4", .bool, optional: true), QAPIArgument("ipv6", .bool, optional: true),
                    QAPIArgument("keep-alive", .bool, optional: true), QAPIArgument("mptcp", .bool, optional: true),
                ]
            case "unix":
                [
                    QAPIArgument("path", .string), QAPIArgument("abstract", .bool, optional: true),
                    QAPIArgument("tight", .bool, optional: true),
                ]
            case "vsock": [QAPIArgument("cid", .string), QAPIArgument("port", .string)]
            default: [QAPIArgument("str", .string)]
            }
        try QAPIArguments(base + variant).validate(object, prefix: name)
    }

    /// `type=dgram`'s rules (`net_init_dgram`): a multicast `remote` needs nothing else; otherwise
    /// `local` is required, and `remote` must be of its type (none with `local.type=fd`).
    private static func checkDgram(_ options: JSONObject) throws(QMPError) {
        let local = options["local"]?.objectValue
        let remote = options["remote"]?.objectValue
        if let remote, remote["type"]?.stringValue == "inet",
            let first = remote["host"]?.stringValue?.split(separator: ".").first.flatMap({ Int($0) }),
            (224...239).contains(first)
        {
            return
        }
        guard let local else { throw .generic("dgram requires local= parameter") }
        let localType = local["type"]?.stringValue
        if let remote {
            if localType == "fd" { throw .generic("don't set remote with local.fd") }
            if remote["type"]?.stringValue != localType { throw .generic("remote and local types must be the same") }
        } else if localType != "fd" {
            throw .generic("type=inet or type=unix requires remote parameter")
        }
    }
}
