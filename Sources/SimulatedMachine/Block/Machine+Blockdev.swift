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
            if let size = options["size"]?.int64Value {
                node.virtualSize = size
                node.hasFixedSize = true
                // `size` is a strong option: QEMU names the node by its options, the child's nested.
                if let child {
                    node.filename = "json:{\"driver\": \"raw\", \"size\": \(size), \"file\": \(child.optionsJSON)}"
                }
            }
        case .qcow2:
            guard let child else { throw .generic("Image is not in qcow2 format") }
            // A read-write format writes metadata: it takes write permission on its child first.
            if !nodeOptions.readOnly { try acquireWrite(below: child.name) }
            guard let header = QCOW2Header(block.header(of: child.name)) else {
                if !nodeOptions.readOnly { releaseWrite(below: child.name) }
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
    /// read-only. Under `auto-read-only` the node opens read-only while nothing writes to it (the node
    /// itself stays read-write: `ro` is false), and is reopened read-write when a writer comes
    /// (``acquireWrite(below:)``); QEMU 4.0 made it so, 3.1's retry after `EACCES` is gone.
    private func openPosix(_ node: inout BlockNode, path: String) throws(QMPError) {
        node.filename = path
        let writable = !node.options.readOnly && !node.options.autoReadOnly
        let file = try openHost(path, writable: writable, direct: node.options.direct)
        if node.driver == .hostDevice && !file.isDevice {
            throw .generic("'host_device' driver requires '\(path)' to be either a character or block device")
        }
        node.isOpenWritable = writable
        node.virtualSize = (file.size + 511) / 512 * 512  // whole sectors, as bdrv_getlength
        node.allocated = file.allocated
        node.hasInfo = true
        node.header = file.header
        if let fdset = Self.fdsetID(in: path) {
            node.fdset = fdset
            descriptors.fdsetUsed(fdset)
        }
    }

    /// QEMU's `qemu_open` of a `file-posix` node: a path through the host, or for `/dev/fdset/N` the
    /// first descriptor of the set whose flags match the wanted ones (QEMU's
    /// `monitor_fdset_dup_fd_add`: the access mode, and from 9.1 `O_DIRECT` too), with each release's
    /// texts for a missing set and a set without a match.
    func openHost(_ path: String, writable: Bool, direct: Bool) throws(QMPError) -> BlockHostFile {
        let result: Result<BlockHostFile, BlockHostError>
        if let fdset = Self.fdsetID(in: path) {
            guard fdset >= 0 else { throw .generic("Could not parse fdset \(path)") }
            let flags: Int32 = (writable ? 2 : 0) | (direct ? BlockHost.directFlag : 0)  // O_RDWR, O_DIRECT
            let newTexts = profile.fdsetOpenReportsMonitorErrors
            let hex = String(flags, radix: 16)
            guard let set = descriptors.fdsets.first(where: { $0.id == fdset }) else {
                if newTexts { throw .generic("Failed to find fdset /dev/fdset/\(fdset)") }
                throw .generic("Could not dup FD for \(path) flags \(hex): \(BlockHostError.noSuchFile.text)")
            }
            let mask: Int32 = newTexts ? 3 | BlockHost.directFlag : 3  // O_ACCMODE (| O_DIRECT)
            guard
                let member = set.members.first(where: {
                    blockHost.descriptorFlags($0.fd).map { $0 & mask } == flags & mask
                })
            else {
                if newTexts { throw .generic("Failed to find file descriptor with matching flags=0x\(hex)") }
                throw .generic("Could not dup FD for \(path) flags \(hex): \(BlockHostError.permissionDenied.text)")
            }
            result = blockHost.inspect(member.fd)
        } else {
            result = blockHost.open(path, writable)
        }
        switch result {
        case .success(let file): return file
        case .failure(let error): throw .generic("Could not open '\(path)': \(error.text)")
        }
    }

    /// The fd set id of a `/dev/fdset/N` path (-1 when N is not a decimal number QEMU's
    /// `qemu_parse_fdset` takes: leading white space and a sign allowed, nothing after it, not
    /// negative), or nil for other paths.
    static func fdsetID(in path: String) -> Int64? {
        let prefix = "/dev/fdset/"
        guard path.hasPrefix(prefix) else { return nil }
        let digits = path.dropFirst(prefix.count).drop { " \t\n\u{0B}\u{0C}\r".contains($0) }
        guard let id = Int64(digits), id >= 0 else { return -1 }
        return id
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

    /// Removes a node from the graph and lets its fd set go (and a read-write qcow2 node its write
    /// permission on its child).
    private func dropNode(_ name: String) {
        guard let index = block.nodeIndex(name) else { return }
        let node = block.nodes.remove(at: index)
        if node.driver == .qcow2 && !node.options.readOnly, let child = node.children.first {
            releaseWrite(below: child.node)
        }
        if let fdset = node.fdset {
            descriptors.fdsetReleased(fdset, running: runState.isRunning, clients: monitorClientCount)
        }
    }
}

extension BlockNode {
    /// The node's options as QEMU's `bdrv_refresh_filename` writes them into a parent's `json:` name:
    /// its own `json:` name's object, or the driver and the file name.
    var optionsJSON: String {
        if filename.hasPrefix("json:") { return String(filename.dropFirst(5)) }
        if driver == .nullCo { return "{\"driver\": \"null-co\"}" }
        let escaped = filename.reduce(into: "") { text, character in
            if character == "\\" || character == "\"" { text.append("\\") }
            text.append(character)
        }
        return "{\"driver\": \"\(driver.rawValue)\", \"filename\": \"\(escaped)\"}"
    }

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
