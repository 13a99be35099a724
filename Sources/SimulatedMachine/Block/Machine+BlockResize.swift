public import QMPWire

/// `block_resize`, with QEMU's checks in QEMU's order (`qmp_block_resize`, `bdrv_co_truncate` and the
/// drivers' truncate; measured on 7.2.22 and 10.0.2, which agree): the drive or node is looked up,
/// the size checked, the resize permission taken (nvme and a qcow2 parent do not share it), then the
/// node resized through its drivers. A `file` node really sets its file's length through the host
/// (``BlockHost/truncate``), as QEMU does, and reports the new size in whole sectors; a qcow2 node
/// takes the new virtual size without its image being rewritten. QEMU sends no event.
extension Machine {
    /// QEMU's `BDRV_MAX_LENGTH`: `INT64_MAX` aligned down to 1 GiB.
    static let maximumBlockLength: Int64 = 9_223_372_035_781_033_984

    /// `block_resize`: `device` names a drive (its root node), else `node-name` a node.
    public func blockResize(device: String?, nodeName: String?, size: Int64) throws(QMPError) {
        var target: String?
        if let device, let backend = block.backend(named: device) {
            guard !backend.root.isEmpty else { throw .generic("Device '\(device)' has no medium") }
            target = backend.root
        } else if let nodeName, block.node(nodeName) != nil {
            target = nodeName
        }
        guard let name = target else {
            throw .generic("Cannot find device='\(device ?? "")' nor node-name='\(nodeName ?? "")'")
        }
        guard size >= 0 else { throw .parameterExpects("size", "a >0 size") }
        if let holder = resizeHolder(of: name) {
            throw .generic(
                "Permission conflict on node '\(name)': permissions 'resize' are both required by an unnamed "
                    + "block device (uses node '\(name)' as 'root' child) and unshared by \(holder)."
            )
        }
        // The resize permission reopens an `auto-read-only` file read-write, as a writer does.
        try acquireWrite(below: name)
        defer { releaseWrite(below: name) }
        try truncateNode(name, to: size)
        // A raw node over a file resized directly follows it on 7.2, not on 10.0 (measured).
        if block.node(name)?.driver == .file && !profile.rawNodesKeepSizeWhenFileResized { refreshRawParents() }
    }

    /// Who holds `name` without sharing the resize permission, as QEMU's permission text names it:
    /// a device on it that does not share it (nvme), or a parent node that does not (a qcow2 node
    /// over it, or one whose own holder does not).
    private func resizeHolder(of name: String) -> String? {
        for backend in block.backends where backend.root == name && !backend.sharesResize {
            if let qdev = backend.qdev { return "block device '\(qdev)' (uses node '\(name)' as 'root' child)" }
        }
        for parent in block.nodes {
            guard let child = parent.children.first(where: { $0.node == name }) else { continue }
            if parent.driver == .qcow2 || resizeHolder(of: parent.name) != nil {
                return "node '\(parent.name)' (uses node '\(name)' as '\(child.role)' child)"
            }
        }
        return nil
    }

    /// QEMU's `bdrv_co_truncate` of one node and its driver's truncate.
    private func truncateNode(_ name: String, to size: Int64) throws(QMPError) {
        guard let index = block.nodeIndex(name) else { return }
        let node = block.nodes[index]
        if size > Self.maximumBlockLength {
            throw .generic("offset(\(size)) exceeds maximum(\(Self.maximumBlockLength))")
        }
        if node.options.readOnly { throw .generic("Image is read-only") }
        switch node.driver {
        case .nullCo:
            throw .generic("Image format driver does not support resize")
        case .raw:
            if node.hasFixedSize { throw .generic("Cannot resize fixed-size raw disks") }
            guard let child = node.children.first(where: { $0.role == "file" }) else { return }
            try truncateNode(child.node, to: size)
            if let resized = block.node(child.node) {
                block.nodes[index].virtualSize = resized.virtualSize
                block.nodes[index].allocated = resized.allocated
            }
        case .qcow2:
            guard size % 512 == 0 else { throw .generic("The new size must be a multiple of 512") }
            block.nodes[index].virtualSize = size
        case .hostDevice:
            // A device keeps its size: it cannot grow, and a smaller size changes nothing.
            if size > node.virtualSize { throw .generic("Cannot grow device files") }
        case .file:
            let result = blockHost.truncate(hostTarget(of: node), size)
            switch result {
            case .success(let file):
                block.nodes[index].virtualSize = (file.size + 511) / 512 * 512
                block.nodes[index].allocated = file.allocated
            case .failure(let error):
                throw .generic("Could not resize file: \(error.text)")
            }
        }
    }

    /// What the host truncates for a `file` node: its path, or for `/dev/fdset/N` the set's first
    /// read-write descriptor (the one the node would write through).
    private func hostTarget(of node: BlockNode) -> BlockHostTarget {
        guard let fdset = node.fdset, let set = descriptors.fdsets.first(where: { $0.id == fdset }),
            let member = set.members.first(where: { blockHost.descriptorFlags($0.fd).map { $0 & 3 } == 2 })
        else { return .path(node.filename) }
        return .descriptor(member.fd)
    }

    /// Raw nodes report their child's size: after a resize of the file below them they take it again
    /// (7.2; 10.0 keeps the raw node's size until it is resized itself). Children
    /// precede their parents in the node list, so one pass reaches every level.
    private func refreshRawParents() {
        for index in block.nodes.indices where block.nodes[index].driver == .raw && !block.nodes[index].hasFixedSize {
            guard let child = block.nodes[index].children.first(where: { $0.role == "file" }),
                let node = block.node(child.node)
            else { continue }
            block.nodes[index].virtualSize = node.virtualSize
            block.nodes[index].allocated = node.allocated
        }
    }
}
