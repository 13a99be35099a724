import QMPWire
import SimulatedMachine

/// `-qmp`, `-monitor` and `-mon` over `-chardev`: which sockets become QMP monitors. `-qmp SPEC` is
/// QEMU's shorthand for a chardev `compat_monitorN` made from SPEC (`unix:PATH,server=on,wait=off`)
/// plus `-mon chardev=compat_monitorN,mode=control`. Human monitors (`-monitor`, `-mon
/// mode=readline`) on Unix server sockets are served too; on any other chardev (stdio, pty, vc, ...)
/// they are accepted and ignored.
extension QEMUCommandLineParser {
    /// `-qmp SPEC` (control) or `-monitor SPEC` (readline).
    mutating func readQMP(_ value: String, written: String, control: Bool) throws(QEMUOptionError) {
        if value == "none" { return }
        let id = "compat_monitor\(compatMonitors)"
        compatMonitors += 1
        guard value.hasPrefix("unix:") else {
            let known = ["stdio", "null", "vc", "pty", "tcp:", "udp:", "telnet:", "file:", "pipe:", "mon:", "vsock:"]
            if known.contains(where: { value == $0 || (value.hasPrefix($0) && $0.hasSuffix(":")) })
                || value.hasPrefix("vc:")
            {
                if !control {
                    invocation.ignored.append(written)
                    return
                }
                throw QEMUOptionError(option: written, "qmp-mockd serves QMP monitors on Unix sockets only")
            }
            let name = String(value.prefix { $0 != "," && $0 != ":" })
            throw QEMUOptionError(
                option: written,
                "'\(name)' is not a valid char driver",
                continuation: ["parse error: \(value)"],
                repeatsLocation: true
            )
        }
        var options = QemuOptions.parse(String(value.dropFirst(5)), impliedKey: "path")
        options.insert(("backend", "socket"), at: 0)
        options.append(("id", id))
        chardevs.append((id, options, value, written))
        monitors.append((id, control, written))
    }

    /// `-mon chardev=ID[,mode=control|readline][,id=...][,pretty=on|off]`.
    mutating func readMon(_ value: String, written: String) throws(QEMUOptionError) {
        var chardev: String?
        var control = false
        for option in QemuOptions.parse(value, impliedKey: nil) {
            switch option.key {
            case "chardev": chardev = option.value
            case "mode":
                switch option.value {
                case "control": control = true
                case "readline": control = false
                default:
                    throw QEMUOptionError(option: written, "Parameter 'mode' does not accept value '\(option.value)'")
                }
            case "id", "pretty", "default": continue
            default: throw QEMUOptionError(option: written, "Invalid parameter '\(option.key)'")
            }
        }
        guard let chardev else { throw QEMUOptionError(option: written, "Parameter 'chardev' is missing") }
        monitors.append((chardev, control, written))
    }

    /// A human monitor's socket: an inherited descriptor, or a path.
    private static func socket(_ path: String?, _ fd: String?) -> QEMUMonitor.Socket? {
        if let fd { return Int32(fd).flatMap { $0 >= 0 ? .descriptor($0) : nil } }
        return path.map { .path($0) }
    }

    /// Each `-mon` to its chardev: monitors on Unix server sockets (a path, or an inherited
    /// descriptor) become ``QEMUMonitor``s; every other chardev goes to the machine.
    mutating func resolveMonitors() throws(QEMUOptionError) {
        var used = Set<String>()
        for monitor in monitors {
            guard let chardev = chardevs.first(where: { $0.id == monitor.chardev }) else {
                throw QEMUOptionError(option: monitor.written, "chardev \"\(monitor.chardev)\" not found")
            }
            used.insert(chardev.id)
            func text(_ key: String) -> String? { chardev.options.last { $0.key == key }?.value }
            guard monitor.control else {
                // A human monitor where a client can reach it; elsewhere (stdio, a pty) nobody types.
                let server = text("server").flatMap(Self.onOff) ?? false
                if text("backend") == "socket", server, let socket = Self.socket(text("path"), text("fd")) {
                    invocation.monitors.append(
                        QEMUMonitor(chardev: chardev.id, socket: socket, option: chardev.written, isHuman: true)
                    )
                } else {
                    invocation.ignored.append(monitor.written)
                }
                continue
            }
            guard text("backend") == "socket" else {
                throw QEMUOptionError(option: chardev.written, "qmp-mockd serves QMP monitors on Unix sockets only")
            }
            let server = text("server").flatMap(Self.onOff) ?? false
            guard server else {
                throw QEMUOptionError(
                    option: chardev.written,
                    "qmp-mockd serves QMP monitors as a server only (server=on)"
                )
            }
            if let fd = text("fd") {
                guard let number = Int32(fd), number >= 0 else {
                    throw QEMUOptionError(option: chardev.written, "File descriptor '\(fd)' is not a socket")
                }
                invocation.monitors.append(
                    QEMUMonitor(chardev: chardev.id, socket: .descriptor(number), option: chardev.written)
                )
            } else if let path = text("path") {
                invocation.monitors.append(
                    QEMUMonitor(chardev: chardev.id, socket: .path(path), option: chardev.written)
                )
            } else {
                throw QEMUOptionError(option: chardev.written, "chardev: socket: no address given")
            }
        }
        for chardev in chardevs where !used.contains(chardev.id) {
            let arguments = try Self.chardevArguments(id: chardev.id, chardev.options, written: chardev.written)
            invocation.machine.chardevs.append(BackendEntry(arguments, option: chardev.value))
        }
    }
}
