public import QMPWire

/// `blockdev-add` and `blockdev-del`: the node graph with QEMU's rules and texts (measured on QEMU
/// 7.2.22 and 10.0.2): a root needs a `node-name`; children are given inline (they get generated
/// names and go away with their parent) or by reference (a node name or a drive id); a format node
/// opens its child first, a protocol node takes its name before it opens; a node in use by a
/// BlockBackend, a parent node or not created by the monitor cannot be deleted.
extension Machine {
    /// `blockdev-add`.
    public func blockdevAdd(_ arguments: JSONObject) throws(QMPError) {
        _ = try BlockdevSchema.validate(arguments)
        guard arguments["node-name"] != nil else { throw .generic("'node-name' must be specified for the root node") }
        var created: [String] = []
        do {
            _ = try openNode(arguments, inherited: nil, monitorOwned: true, created: &created)
        } catch {
            for name in created.reversed() { dropNode(name) }
            throw error
        }
    }

    /// `blockdev-del`.
    public func blockdevDel(nodeName: String) throws(QMPError) {
        guard let node = block.node(nodeName) else {
            throw .generic("Failed to find node with node-name='\(nodeName)'")
        }
        if block.backendCount(of: nodeName) > 0 { throw .generic("Node \(nodeName) is in use") }
        if !node.isMonitorOwned { throw .generic("Node \(nodeName) is not owned by the monitor") }
        if block.parentCount(of: nodeName) > 0 { throw .generic("Block device \(nodeName) is in use") }
        unrefNode(nodeName, monitorReference: true)
    }

    /// Opens the node `options` describe (validated), with its children, and returns its name.
    /// `created` collects the nodes made, children first, so that a failure can drop them.
    func openNode(
        _ options: JSONObject,
        inherited: BlockNodeOptions?,
        monitorOwned: Bool,
        created: inout [String]
    ) throws(QMPError) -> String {
        guard let driverName = options["driver"]?.stringValue, let driver = BlockDriver(rawValue: driverName) else {
            throw .missingParameter("driver")
        }
        var nodeOptions = inherited ?? BlockNodeOptions()
        if let value = options["read-only"]?.boolValue { nodeOptions.readOnly = value }
        if let value = options["auto-read-only"]?.boolValue { nodeOptions.autoReadOnly = value }
        if let value = options["discard"]?.stringValue { nodeOptions.discard = value }
        if let value = options["detect-zeroes"]?.stringValue { nodeOptions.detectZeroes = value }
        if let cache = options["cache"]?.objectValue {
            if let value = cache["direct"]?.boolValue { nodeOptions.direct = value }
            if let value = cache["no-flush"]?.boolValue { nodeOptions.noFlush = value }
        }

        // A format driver opens its child before the node takes its name.
        var child: BlockNode?
        if driver.isFormat {
            if case .object(let inline) = options["backing"] ?? .null {
                _ = inline
                throw .generic("qmp-mockd does not simulate backing files (give 'backing': null)")
            }
            if case .string = options["backing"] ?? .null {
                throw .generic("qmp-mockd does not simulate backing files (give 'backing': null)")
            }
            let name: String
            switch options["file"] {
            case .object(let inline)?:
                name = try openNode(
                    inline,
                    inherited: nodeOptions.inheritedByChild,
                    monitorOwned: false,
                    created: &created
                )
            case .string(let reference)?:
                if let backend = block.backend(named: reference) {
                    name = backend.root
                } else if block.node(reference) != nil {
                    name = reference
                } else {
                    throw .generic("Cannot find device='\(reference)' nor node-name='\(reference)'")
                }
            default:
                throw .missingParameter("file")
            }
            child = block.node(name)
        }

        let name = try assignNodeName(options["node-name"]?.stringValue)
        if nodeOptions.detectZeroes == "unmap" && nodeOptions.discard != "unmap" {
            throw .generic("setting detect-zeroes to unmap is not allowed without setting discard operation to unmap")
        }
        var node = BlockNode(
            name: name,
            driver: driver,
            isMonitorOwned: monitorOwned,
            filename: "null-co://",
            virtualSize: 0,
            options: nodeOptions,
            hasInfo: false
        )
        switch driver {
        case .nullCo:
            node.virtualSize = options["size"]?.int64Value ?? 1 << 30
            // Options beyond the driver make QEMU name the node by its options (bdrv_refresh_filename).
            if let size = options["size"]?.int64Value {
                node.filename = "json:{\"driver\": \"null-co\", \"size\": \(size)}"
            }
        case .file, .hostDevice:
            try openPosix(&node, path: options["filename"]?.stringValue ?? "")
        case .raw:
            if let child { node.adopt(child) }
            if let size = options["size"]?.int64Value { node.virtualSize = size }
        case .qcow2:
            guard let child, let header = QCOW2Header(block.header(of: child.name)) else {
                throw .generic("Image is not in qcow2 format")
            }
            node.adopt(child)
            node.qcow2 = header
            node.virtualSize = header.size
            node.hasInfo = true
        }
        if let child { node.children = [BlockChild(role: "file", node: child.name)] }
        block.nodes.append(node)
        created.append(name)
        return name
    }

    /// QEMU's `bdrv_assign_node_name`: a given name must be an identifier not taken by a node or a
    /// drive; without one, the next generated name.
    private func assignNodeName(_ given: String?) throws(QMPError) -> String {
        guard let given else { return block.generateName() }
        guard Self.isIdentifier(given) else { throw .generic("Invalid node-name: '\(given)'") }
        if block.backend(named: given) != nil { throw .generic("node-name=\(given) is conflicting with a device id") }
        if block.node(given) != nil { throw .generic("Duplicate nodes with node-name='\(given)'") }
        return given
    }

    /// `file-posix`'s open: the path (or an fd set's descriptor) through the host, read-write unless
    /// read-only, retried read-only under `auto-read-only`.
    private func openPosix(_ node: inout BlockNode, path: String) throws(QMPError) {
        node.filename = path
        let fdset = Self.fdsetID(in: path)
        var writable = !node.options.readOnly
        var result = openHost(path, fdset: fdset, writable: writable)
        if case .failure(let error) = result, writable, node.options.autoReadOnly, error.allowsReadOnlyRetry {
            writable = false
            result = openHost(path, fdset: fdset, writable: false)
        }
        switch result {
        case .failure(let error):
            throw .generic("Could not open '\(path)': \(error.text)")
        case .success(let file):
            if node.driver == .hostDevice && !file.isDevice {
                throw .generic("'host_device' driver requires '\(path)' to be either a character or block device")
            }
            node.options.readOnly = !writable
            node.virtualSize = (file.size + 511) / 512 * 512  // whole sectors, as bdrv_getlength
            node.allocated = file.allocated
            node.hasInfo = true
            node.header = file.header
            if let fdset, fdset >= 0 {
                node.fdset = fdset
                descriptors.fdsetUsed(fdset)
            }
        }
    }

    /// Opens a path, or picks the first descriptor of the fd set with the access mode wanted
    /// (QEMU's `monitor_fdset_dup_fd_add`: `ENOENT` without the set, `EACCES` without a match).
    private func openHost(_ path: String, fdset: Int64?, writable: Bool) -> Result<BlockHostFile, BlockHostError> {
        guard let fdset else { return blockHost.open(path, writable) }
        guard fdset >= 0, let set = descriptors.fdsets.first(where: { $0.id == fdset }) else {
            return .failure(fdset < 0 ? BlockHostError(errno: 22, text: "Invalid argument") : .noSuchFile)
        }
        let wanted: Int32 = writable ? 2 : 0
        guard let member = set.members.first(where: { blockHost.accessMode($0.fd) == wanted }) else {
            return .failure(.permissionDenied)
        }
        return blockHost.inspect(member.fd)
    }

    /// The fd set id of a `/dev/fdset/N` path (-1 when N is not a number), or nil for other paths.
    static func fdsetID(in path: String) -> Int64? {
        let prefix = "/dev/fdset/"
        guard path.hasPrefix(prefix) else { return nil }
        return Int64(path.dropFirst(prefix.count)) ?? -1
    }

    /// Drops one reference to a node: the monitor's (`blockdev-del`) or a parent's. A node nobody
    /// holds any more is closed, and its children lose their reference in turn.
    func unrefNode(_ name: String, monitorReference: Bool) {
        guard let index = block.nodeIndex(name) else { return }
        if monitorReference { block.nodes[index].isMonitorOwned = false }
        let node = block.nodes[index]
        guard !node.isMonitorOwned, block.parentCount(of: name) == 0, block.backendCount(of: name) == 0 else { return }
        dropNode(name)
        for child in node.children { unrefNode(child.node, monitorReference: false) }
    }

    /// Removes a node from the graph and lets its fd set go.
    private func dropNode(_ name: String) {
        guard let index = block.nodeIndex(name) else { return }
        let node = block.nodes.remove(at: index)
        if let fdset = node.fdset { descriptors.fdsetReleased(fdset, running: runState.isRunning) }
    }
}

extension BlockNode {
    /// Takes what a format node reports from its protocol child: file name, size, allocation.
    mutating func adopt(_ child: BlockNode) {
        // A child named by its options (`json:{...}`) makes the parent's name nest it.
        filename =
            child.filename.hasPrefix("json:")
            ? "json:{\"driver\": \"\(driver.rawValue)\", \"file\": \(child.filename.dropFirst(5))}" : child.filename
        virtualSize = child.virtualSize
        allocated = child.allocated
        hasInfo = child.hasInfo
    }
}
