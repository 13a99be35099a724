import QMPWire

/// HMP's `info block [-n] [-v] [device]`: QEMU's text rendering (`hmp_info_block`,
/// `print_block_info`) of `query-block` and, with `-n` or for a name no BlockBackend has,
/// `query-named-block-nodes`, so the text and the QMP answers come from one source. `-v` adds
/// nothing here (qmp-mockd reports no image details).
enum BlockInfoText {
    static func render(backends: JSONValue, nodes: () -> JSONValue, device: String?, namedNodes: Bool) -> String {
        var out = ""
        var printed = false
        if !namedNodes {
            for (index, info) in (backends.arrayValue ?? []).enumerated() {
                guard let info = info.objectValue else { continue }
                let name = info["device"]?.stringValue ?? ""
                if let device, device != name { continue }
                // QEMU separates by position in the list, not by what it printed.
                if index > 0 { out += "\n" }
                print(info: info, inserted: info["inserted"]?.objectValue, into: &out)
                printed = true
            }
            if device == nil || printed { return out }
        }
        for (index, node) in (nodes().arrayValue ?? []).enumerated() {
            guard let node = node.objectValue else { continue }
            if let device, device != node["node-name"]?.stringValue { continue }
            if index > 0 { out += "\n" }
            print(info: nil, inserted: node, into: &out)
        }
        return out
    }

    private static func print(info: JSONObject?, inserted: JSONObject?, into out: inout String) {
        if let info, let device = info["device"]?.stringValue, !device.isEmpty {
            out += device
            if let nodeName = inserted?["node-name"]?.stringValue { out += " (\(nodeName))" }
        } else {
            out +=
                inserted?["node-name"]?.stringValue ?? info?["qdev"]?.stringValue ?? "<anonymous>"
        }
        if let inserted {
            let readOnly = inserted["ro"]?.boolValue == true ? ", read-only" : ""
            let encrypted = inserted["encrypted"]?.boolValue == true ? ", encrypted" : ""
            let file = inserted["file"]?.stringValue ?? ""
            let driver = inserted["drv"]?.stringValue ?? ""
            out += ": \(file) (\(driver)\(readOnly)\(encrypted))\n"
        } else {
            out += ": [not inserted]\n"
        }
        if let info {
            if let qdev = info["qdev"]?.stringValue { out += "    Attached to:      \(qdev)\n" }
            if let status = info["io-status"]?.stringValue, status != "ok" {
                out += "    I/O status:       \(status)\n"
            }
            if info["removable"]?.boolValue == true {
                let locked = info["locked"]?.boolValue == true ? "" : "not "
                let tray = info["tray_open"]?.boolValue == true ? "open" : "closed"
                out += "    Removable device: \(locked)locked, tray \(tray)\n"
            }
        }
        guard let inserted else { return }
        let cache = inserted["cache"]?.objectValue
        out += "    Cache mode:       \(cache?["writeback"]?.boolValue == false ? "writethrough" : "writeback")"
        if cache?["direct"]?.boolValue == true { out += ", direct" }
        if cache?["no-flush"]?.boolValue == true { out += ", ignore flushes" }
        out += "\n"
        if let backing = inserted["backing_file"]?.stringValue {
            out +=
                "    Backing file:     \(backing) (chain depth: \(inserted["backing_file_depth"]?.int64Value ?? 0))\n"
        }
        if let zeroes = inserted["detect_zeroes"]?.stringValue, zeroes != "off" {
            out += "    Detect zeroes:    \(zeroes)\n"
        }
    }
}
