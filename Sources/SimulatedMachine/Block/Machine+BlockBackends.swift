import QMPWire

/// What a device's `drive=` does to the block layer (QEMU's `set_drive_helper`, `release_drive` and
/// the permissions realize takes): a drive id names its BlockBackend, which only one device may hold;
/// a node name gets an anonymous BlockBackend of its own; at realize the device takes write
/// permission on the node, which no other device may hold (QEMU's `Permission conflict`), and which
/// reopens an `auto-read-only` file node read-write. The
/// backend is let go when the device's `DEVICE_DELETED` is sent (or its creation failed).
extension Machine {
    /// Resolves `drive=NAME` when the property is set: QEMU's `Drive 'X' is already in use by another
    /// device` for a drive a device holds, `Property 'TYPE.drive' can't find value 'X'` for no drive
    /// and no node of that name.
    func attachBlock(_ link: BackendLink, owner: String) throws(QMPError) {
        if let index = block.backends.firstIndex(where: { !$0.name.isEmpty && $0.name == link.name }) {
            if block.backends[index].isAttached {
                throw .generic("Drive '\(link.name)' is already in use by another device")
            }
            block.backends[index].isAttached = true
            return
        }
        guard block.node(link.name) != nil else { throw Self.cannotFind(link, owner: owner) }
        var backend = BlockBackend(name: "", root: link.name)
        backend.isAttached = true
        block.backends.append(backend)
    }

    /// Realize: the device takes its backend with write permission. `qdev` is the name QEMU gives the
    /// device in `query-block` and in permission texts.
    func realizeBlock(
        _ link: BackendLink,
        qdev: String,
        reportsIOStatus: Bool,
        hasRemovableMedium: Bool = false,
        sharesResize: Bool = true
    ) throws(QMPError) {
        guard let index = blockBackendIndex(for: link) else { return }
        let root = block.backends[index].root
        if !root.isEmpty, let holder = block.backends.first(where: { $0.root == root && $0.qdev != nil }),
            let other = holder.qdev
        {
            throw .generic(
                "Permission conflict on node '\(root)': permissions 'write' are both required by block device "
                    + "'\(other)' (uses node '\(root)' as 'root' child) and unshared by block device '\(qdev)' "
                    + "(uses node '\(root)' as 'root' child)."
            )
        }
        // A device on a read-write node writes (a CD never does): `auto-read-only` reopens read-write.
        if !hasRemovableMedium, let node = block.node(root), !node.options.readOnly {
            try acquireWrite(below: root)
            block.backends[index].holdsWrite = true
        }
        block.backends[index].qdev = qdev
        block.backends[index].reportsIOStatus = reportsIOStatus
        block.backends[index].hasRemovableMedium = hasRemovableMedium
        block.backends[index].sharesResize = sharesResize
    }

    /// A CD drive realized without `drive=` (`scsi-cd`): QEMU gives it an anonymous, empty
    /// BlockBackend, listed by `query-block` until the device goes (``releaseEmptyMedium(qdev:)``).
    func realizeEmptyMedium(qdev: String) {
        var backend = BlockBackend(name: "", root: "")
        backend.qdev = qdev
        backend.reportsIOStatus = true
        backend.hasRemovableMedium = true
        backend.linkName = "\u{0}empty"
        block.backends.append(backend)
    }

    /// Drops the empty medium of a device realized without `drive=`.
    func releaseEmptyMedium(qdev: String) {
        block.backends.removeAll { $0.linkName == "\u{0}empty" && $0.qdev == qdev }
    }

    /// Lets the backend of `link` go: a drive is free again (or deleted, if it goes with its device);
    /// an anonymous backend is dropped.
    func detachBlock(_ link: BackendLink) {
        guard let index = blockBackendIndex(for: link) else { return }
        let backend = block.backends[index]
        if backend.holdsWrite {
            block.backends[index].holdsWrite = false
            releaseWrite(below: backend.root)
        }
        // A drive goes with a device that was realized (QEMU marks it in the device's unrealize); a
        // failed realize leaves it to the monitor (7.2.22 and 10.0.2, measured).
        if backend.name.isEmpty || (backend.deletesWithDevice && backend.qdev != nil) {
            block.backends.remove(at: index)
            unrefNode(backend.root, monitorReference: false)
            return
        }
        block.backends[index].isAttached = false
        block.backends[index].qdev = nil
        block.backends[index].reportsIOStatus = false
        block.backends[index].sharesResize = true
    }

    /// The backend a link holds: the drive of that id, or the newest anonymous backend on that node
    /// (one device at a time is being made, and no two realized devices share a node).
    private func blockBackendIndex(for link: BackendLink) -> Int? {
        block.backends.lastIndex { $0.isAttached && $0.linkName == link.name }
    }
}
