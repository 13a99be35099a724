public import QMPWire

/// Legacy drives: what HMP `drive_add` (and `-drive if=none`) makes, a named BlockBackend over a node
/// graph with generated names (the protocol node first, then the format node). The monitor owns the
/// drive, not its nodes: `blockdev-del` cannot reach them, `drive_del` removes the drive. A drive
/// goes away by itself, nodes and all, when the `DEVICE_DELETED` of the device using it is sent
/// (QEMU's `blockdev_auto_del`; measured on 7.2.22: `query-block` is empty after the unplug and the
/// drive id is unknown to `drive=` again).
extension Machine {
    /// `-drive`/`drive_add` options, as text values: `id` (required), `if` (only `none`), `file`
    /// (`null-co://` or a path), `driver` (a protocol driver, without `file`), `format` (`raw` or
    /// `qcow2`; probed from the file when missing), `readonly` (`on`/`off`), `auto-read-only` (on
    /// unless `off`).
    public func driveAdd(_ options: [String: String]) throws(QMPError) {
        guard let id = options["id"] else { throw .generic("drive_add needs an id (qmp-mockd has no auto ids)") }
        if let interface = options["if"], interface != "none" {
            throw .generic("qmp-mockd only makes drives with if=none, not if=\(interface)")
        }
        if block.backend(named: id) != nil { throw .generic("Duplicate ID '\(id)' for drive") }
        var protocolOptions = JSONObject()
        switch (options["file"], options["driver"]) {
        case ("null-co://"?, _), (nil, "null-co"?):
            protocolOptions.append("driver", .string("null-co"))
        case (let path?, _):
            protocolOptions.append("driver", .string(BlockDriver.file.rawValue))
            protocolOptions.append("filename", .string(path))
        case (nil, let driver?):
            throw .generic("qmp-mockd does not simulate drives with driver=\(driver)")
        case (nil, nil):
            throw .generic("qmp-mockd does not simulate empty drives (give file=)")
        }
        if options["readonly"] == "on" { protocolOptions.append("read-only", .bool(true)) }
        // -drive defaults to auto-read-only=on (QEMU 3.1 on; 7.2.22 and 10.0.2, measured): the file
        // opens read-only until a device writes, which then needs a read-write descriptor.
        let autoReadOnly = !["off", "no", "false", "n"].contains(options["auto-read-only"] ?? "on")
        protocolOptions.append("auto-read-only", .bool(autoReadOnly))
        var created: [String] = []
        do throws(QMPError) {
            var root = try openNode(protocolOptions, inherited: nil, monitorOwned: false, created: &created)
            let protocolDriver = block.node(root)?.driver
            let format =
                options["format"]
                ?? (options["file"] != nil && protocolDriver != .nullCo && QCOW2Header.hasMagic(block.header(of: root))
                    ? "qcow2" : (options["file"] != nil ? "raw" : nil))
            if let format {
                guard format == "raw" || format == "qcow2" else {
                    throw .generic("'\(format)' invalid format")
                }
                var formatOptions = JSONObject()
                formatOptions.append("driver", .string(format))
                formatOptions.append("file", .string(root))
                if options["readonly"] == "on" { formatOptions.append("read-only", .bool(true)) }
                root = try openNode(formatOptions, inherited: nil, monitorOwned: false, created: &created)
            }
            var backend = BlockBackend(name: id, root: root)
            backend.deletesWithDevice = true
            block.backends.append(backend)
        } catch {
            for name in created.reversed() { unrefNode(name, monitorReference: false) }
            throw error
        }
    }

    /// `drive_del ID`: a drive no device holds goes away with its nodes; one a device holds loses
    /// its name, its nodes and its `io-status` now (`query-block` lists it as the device's, without
    /// medium) and goes away with the device (QEMU 7.2.22, measured). `Device 'ID' not found` otherwise.
    public func driveDel(_ id: String) throws(QMPError) {
        guard let index = block.backends.firstIndex(where: { !$0.name.isEmpty && $0.name == id }) else {
            throw .generic("Device '\(id)' not found")
        }
        let backend = block.backends[index]
        if backend.holdsWrite {
            block.backends[index].holdsWrite = false
            releaseWrite(below: backend.root)
        }
        if backend.isAttached {
            block.backends[index].name = ""
            block.backends[index].root = ""
            block.backends[index].deletesWithDevice = true
            // "Further I/O must not pause the guest": the error policy becomes report, which turns
            // I/O status reporting off (no `io-status` in query-block any more; 7.2.22, measured).
            block.backends[index].reportsIOStatus = false
            unrefNode(backend.root, monitorReference: false)
            return
        }
        block.backends.remove(at: index)
        unrefNode(backend.root, monitorReference: false)
    }
}
