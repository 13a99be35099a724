public import QMPWire

/// `query-named-block-nodes` and `query-block`, with the members QEMU reports (measured on 7.2.22 and
/// 10.0.2; libvirt parses both). No I/O limits, no dirty bitmaps, no backing chains: those members
/// are QEMU's defaults.
extension Machine {
    /// `query-named-block-nodes`: every node, newest first. `flat` only changes how backing images
    /// nest, and qmp-mockd has none.
    public func queryNamedBlockNodes(flat: Bool = false) -> JSONValue {
        .array(block.nodes.reversed().map { .object(blockDeviceInfo($0)) })
    }

    /// `query-block`: the named backends and those of devices, in creation order.
    public func queryBlock() -> JSONValue {
        var list: [JSONValue] = []
        for backend in block.backends where !backend.name.isEmpty || backend.qdev != nil {
            var info = JSONObject(capacity: 8)
            info.append("device", .string(backend.name))
            if let qdev = backend.qdev { info.append("qdev", .string(qdev)) }
            info.append("type", .string("unknown"))
            info.append("removable", .bool(backend.qdev == nil || backend.hasRemovableMedium))
            info.append("locked", .bool(false))
            if backend.hasRemovableMedium { info.append("tray_open", .bool(false)) }
            if !backend.root.isEmpty, let node = block.node(backend.root) {
                info.append("inserted", .object(blockDeviceInfo(node)))
            }
            if backend.reportsIOStatus { info.append("io-status", .string("ok")) }
            list.append(.object(info))
        }
        return .array(list)
    }

    /// QEMU's `BlockDeviceInfo` of a node.
    func blockDeviceInfo(_ node: BlockNode) -> JSONObject {
        var info = JSONObject(capacity: 20)
        info.append("file", .string(node.filename))
        info.append("node-name", .string(node.name))
        info.append("ro", .bool(node.options.readOnly))
        info.append("drv", .string(node.driver.rawValue))
        info.append("backing_file_depth", .int(0))
        info.append("encrypted", .bool(false))
        info.append("detect_zeroes", .string(node.options.detectZeroes))
        for limit in ["bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr"] { info.append(limit, .int(0)) }
        info.append("image", .object(imageInfo(node)))
        info.append("write_threshold", .int(0))
        var cache = JSONObject(capacity: 3)
        cache.append("writeback", .bool(true))
        cache.append("direct", .bool(node.options.direct))
        cache.append("no-flush", .bool(node.options.noFlush))
        info.append("cache", .object(cache))
        if profile.blockNodesReportActive { info.append("active", .bool(true)) }
        return info
    }

    /// QEMU's `ImageInfo` of a node.
    private func imageInfo(_ node: BlockNode) -> JSONObject {
        var image = JSONObject(capacity: 8)
        image.append("filename", .string(node.filename))
        image.append("format", .string(node.driver.rawValue))
        image.append("virtual-size", .int(node.virtualSize))
        image.append("actual-size", .int(node.allocated))
        if let header = node.qcow2 {
            image.append("cluster-size", .int(1 << Int64(header.clusterBits)))
            var data = JSONObject(capacity: 6)
            if header.version == 3 {
                data.append("compat", .string("1.1"))
                data.append("compression-type", .string(header.incompatibleFeatures & 8 != 0 ? "zstd" : "zlib"))
                data.append("lazy-refcounts", .bool(header.compatibleFeatures & 1 != 0))
                data.append("refcount-bits", .int(1 << Int64(header.refcountOrder)))
                data.append("corrupt", .bool(header.incompatibleFeatures & 2 != 0))
                data.append("extended-l2", .bool(header.incompatibleFeatures & 16 != 0))
            } else {
                data.append("compat", .string("0.10"))
                data.append("compression-type", .string("zlib"))
                data.append("refcount-bits", .int(16))
            }
            var specific = JSONObject(capacity: 2)
            specific.append("type", .string("qcow2"))
            specific.append("data", .object(data))
            image.append("format-specific", .object(specific))
        } else if node.driver.isPosix && profile.fileNodesReportFormatSpecific {
            var specific = JSONObject(capacity: 2)
            specific.append("type", .string("file"))
            specific.append("data", .object(JSONObject()))
            image.append("format-specific", .object(specific))
        }
        if node.hasInfo { image.append("dirty-flag", .bool(false)) }
        return image
    }
}
