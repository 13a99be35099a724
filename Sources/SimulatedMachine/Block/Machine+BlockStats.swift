public import QMPWire

/// `query-blockstats`, as QEMU 7.2.22 and 10.0.2 answer it (measured): the simulated guest does no
/// I/O, so every counter is 0 (`wr_highest_offset` too: `block_resize` leaves it alone), `timed_stats`
/// is empty and `idle_time_ns` absent; what differs between entries is which ones there are and how
/// they nest.
extension Machine {
    /// `query-blockstats`. Without `query-nodes`: one entry per BlockBackend that has a name or a
    /// device (QEMU's `blk_all_next` loop), in creation order, with `device` (the drive id, or "")
    /// and `qdev`, its root node's statistics and the backend's accounting (`account_invalid` and
    /// `account_failed` true, the default of drives and devices); a backend without medium has
    /// `stats` only. With `query-nodes: true`: one entry per named node, oldest first, node-level
    /// (both accounting flags false). A node's entry nests its primary child's as `parent`.
    public func queryBlockstats(queryNodes: Bool = false) -> JSONValue {
        if queryNodes {
            return .array(block.nodes.map { .object(blockStats(of: $0.name, accounting: false)) })
        }
        var list: [JSONValue] = []
        for backend in block.backends where !backend.name.isEmpty || backend.qdev != nil {
            var entry = JSONObject(capacity: 6)
            entry.append("device", .string(backend.name))
            if let qdev = backend.qdev { entry.append("qdev", .string(qdev)) }
            let root = blockStats(of: backend.root, accounting: true)
            for member in root.members { entry.append(member.key, member.value) }
            list.append(.object(entry))
        }
        return .array(list)
    }

    /// QEMU's `bdrv_query_bds_stats` of a node (stats only, for a missing one): `node-name`, `stats`,
    /// `driver-specific` for `file-posix` nodes, and `parent` for a format node's `file` child.
    private func blockStats(of name: String, accounting: Bool) -> JSONObject {
        var entry = JSONObject(capacity: 4)
        guard let node = block.node(name) else {
            entry.append("stats", .object(deviceStats(accounting: accounting)))
            return entry
        }
        entry.append("node-name", .string(node.name))
        entry.append("stats", .object(deviceStats(accounting: accounting)))
        if node.driver.isPosix {
            var specific = JSONObject(capacity: 4)
            specific.append("driver", .string(node.driver.rawValue))
            for key in ["discard-nb-ok", "discard-nb-failed", "discard-bytes-ok"] { specific.append(key, .int(0)) }
            entry.append("driver-specific", .object(specific))
        }
        if let child = node.children.first(where: { $0.role == "file" }) {
            entry.append("parent", .object(blockStats(of: child.node, accounting: false)))
        }
        return entry
    }

    /// QEMU's `BlockDeviceStats` of a device that never did I/O, in the QAPI member order of the
    /// profile's release (8.1 added the `zone_append_*` counters).
    private func deviceStats(accounting: Bool) -> JSONObject {
        let zone = profile.blockStatsReportZoneAppend
        var stats = JSONObject(capacity: 34)
        for key in [
            "rd_bytes", "wr_bytes", zone ? "zone_append_bytes" : nil, "unmap_bytes", "rd_operations",
            "wr_operations", zone ? "zone_append_operations" : nil, "flush_operations", "unmap_operations",
            "rd_total_time_ns", "wr_total_time_ns", zone ? "zone_append_total_time_ns" : nil,
            "flush_total_time_ns", "unmap_total_time_ns", "wr_highest_offset", "rd_merged", "wr_merged",
            zone ? "zone_append_merged" : nil, "unmap_merged", "failed_rd_operations", "failed_wr_operations",
            zone ? "failed_zone_append_operations" : nil, "failed_flush_operations", "failed_unmap_operations",
            "invalid_rd_operations", "invalid_wr_operations", zone ? "invalid_zone_append_operations" : nil,
            "invalid_flush_operations", "invalid_unmap_operations",
        ] {
            if let key { stats.append(key, .int(0)) }
        }
        stats.append("account_invalid", .bool(accounting))
        stats.append("account_failed", .bool(accounting))
        stats.append("timed_stats", .array([]))
        return stats
    }
}
