public import QMPWire

/// The descriptor commands: `getfd`, `closefd`, `add-fd`, `remove-fd`, `query-fdsets`, and the
/// monitor connections they depend on. Texts, orders and lifetimes as QEMU 7.2.22 and 10.0.2 have
/// them (``DescriptorTable`` says which). The server takes the passed descriptor off the connection
/// (`No file descriptor supplied via SCM_RIGHTS` when there is none) and hands it over here; from
/// then on the machine owns it, also when the command fails.
extension Machine {
    /// `getfd`: names `fd` on `monitor`, replacing (and closing) a descriptor of the same name.
    public func getfd(name: String, fd: Int32, monitor: String) throws(QMPError) {
        if let first = name.utf8.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") {
            descriptors.release(fd)
            throw .generic("Parameter 'fdname' expects a name not starting with a digit")
        }
        if let old = descriptors.named[monitor]?[name] {
            descriptors.named[monitor]?[name] = fd
            descriptors.release(old)
            return
        }
        try descriptors.admit(fd)
        descriptors.named[monitor, default: [:]][name] = fd
    }

    /// `closefd`: closes the descriptor `getfd` named `name` on `monitor`.
    public func closefd(name: String, monitor: String) throws(QMPError) {
        guard let fd = descriptors.named[monitor]?.removeValue(forKey: name) else {
            throw .generic("File descriptor named '\(name)' not found")
        }
        descriptors.release(fd)
    }

    /// Takes the descriptor named `name` on `monitor` out of the table for a backend that will own it
    /// (QEMU's `monitor_get_fd`, behind `fd=NAME` options).
    public func takeNamedDescriptor(_ name: String, monitor: String) throws(QMPError) -> Int32 {
        guard let fd = descriptors.named[monitor]?.removeValue(forKey: name) else {
            throw .generic("File descriptor named '\(name)' has not been found")
        }
        return fd
    }

    /// `add-fd`: puts `fd` into fd set `fdsetID` (created when missing), or into a new set with the
    /// lowest free id. Returns `AddfdInfo`.
    public func addFD(_ fd: Int32, fdsetID: Int64?, opaque: String?) throws(QMPError) -> JSONObject {
        if let fdsetID, fdsetID < 0 {  // no set can have a negative id
            descriptors.release(fd)
            throw .generic("Parameter 'fdset-id' expects a non-negative value")
        }
        try descriptors.admit(fd)
        let index: Int
        if let fdsetID {
            if let existing = descriptors.fdsets.firstIndex(where: { $0.id == fdsetID }) {
                index = existing
            } else {
                index = descriptors.fdsets.firstIndex { $0.id > fdsetID } ?? descriptors.fdsets.endIndex
                descriptors.fdsets.insert(FDSet(id: fdsetID), at: index)
            }
        } else {
            // The first id not taken, counting up from 0 through the sorted sets.
            var id: Int64 = 0
            var position = 0
            while position < descriptors.fdsets.count && descriptors.fdsets[position].id == id {
                id += 1
                position += 1
            }
            index = position
            descriptors.fdsets.insert(FDSet(id: id), at: index)
        }
        descriptors.fdsets[index].members.append(FDSetMember(fd: fd, opaque: opaque))
        var info = JSONObject(capacity: 2)
        info.append("fdset-id", .int(descriptors.fdsets[index].id))
        info.append("fd", .int(Int64(fd)))
        return info
    }

    /// `remove-fd`: marks one descriptor of a set (or all of them) removed, then cleans the set up.
    public func removeFD(fdsetID: Int64, fd: Int64?) throws(QMPError) {
        let notFound: QMPError =
            fd.map { .generic("File descriptor named 'fdset-id:\(fdsetID), fd:\($0)' not found") }
            ?? .generic("File descriptor named 'fdset-id:\(fdsetID)' not found")
        guard let index = descriptors.fdsets.firstIndex(where: { $0.id == fdsetID }) else { throw notFound }
        if let fd {
            guard let member = descriptors.fdsets[index].members.firstIndex(where: { Int64($0.fd) == fd }) else {
                throw notFound
            }
            descriptors.fdsets[index].members[member].isRemoved = true
        } else {
            for member in descriptors.fdsets[index].members.indices {
                descriptors.fdsets[index].members[member].isRemoved = true
            }
        }
        descriptors.cleanUp(at: index, running: runState.isRunning, clients: monitorClientCount)
    }

    /// `query-fdsets`: `[FdsetInfo]`, highest id first, each set's descriptors oldest first.
    public func queryFDSets() -> JSONValue {
        .array(
            descriptors.fdsets.reversed().map { set in
                let fds: [JSONValue] = set.members.map { member in
                    var info = JSONObject(capacity: 2)
                    info.append("fd", .int(Int64(member.fd)))
                    if let opaque = member.opaque { info.append("opaque", .string(opaque)) }
                    return .object(info)
                }
                var info = JSONObject(capacity: 2)
                info.append("fdset-id", .int(set.id))
                info.append("fds", .array(fds))
                return .object(info)
            }
        )
    }

    /// Monitor client connections open now, on every monitor: QEMU's `mon_refcount`.
    public var monitorClientCount: Int { monitorClients.values.reduce(0, +) }

    /// A client connected to monitor `monitor` (its socket path or label): its chardev is connected,
    /// and QEMU counts it in `mon_refcount`.
    public func monitorClientOpened(on monitor: String) { monitorClients[monitor, default: 0] += 1 }

    /// A client left monitor `monitor`: fd sets are cleaned up as QEMU's `monitor_fdsets_cleanup` does.
    public func monitorClientClosed(on monitor: String) {
        let left = monitorClients[monitor, default: 0] - 1
        monitorClients[monitor] = left > 0 ? left : nil
        var index = descriptors.fdsets.count - 1
        while index >= 0 {
            descriptors.cleanUp(at: index, running: runState.isRunning, clients: monitorClientCount)
            index -= 1
        }
    }
}
