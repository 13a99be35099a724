public import QMPWire

/// The character device commands' machine side: `chardev-add`, `chardev-remove`, `query-chardev`,
/// the monitors' own chardevs, and `chardev=` device properties. Texts and forms as QEMU 7.2.22 and
/// 10.0.2 have them; the OS side goes through ``ChardevTable/host``.
extension Machine {
    /// Lists a monitor's socket as its chardev: `id` when the command line named it (`-chardev
    /// socket,id=charmonitor` under `-mon`), else `compat_monitorN`, numbered in `--qmp` order, as QEMU
    /// lists the chardev of each `-qmp`.
    public func addMonitorChardev(path: String, id: String? = nil) {
        let number = chardevs.chardevs.count { if case .monitor = $0.backend { true } else { false } }
        chardevs.chardevs.append(Chardev(id: id ?? "compat_monitor\(number)", backend: .monitor(path: path)))
    }

    /// `chardev-add`: checks the backend (QAPI texts), the id, the backend's own rules, then opens its
    /// OS side. Returns `ChardevReturn`: `{"pty": PATH}` for a pty, `{}` otherwise.
    public func chardevAdd(id: String, backend value: JSONValue?) throws(QMPError) -> JSONObject {
        let backend = try ChardevBackend.parse(value, profile: profile)
        guard chardevs.index(of: id) == nil else { throw .generic("Chardev with id '\(id)' already exists") }
        var chardev = Chardev(id: id, backend: backend)
        switch backend {
        case .ringbuf(let size):
            if size & (size &- 1) != 0 {
                throw .generic("Failed to add chardev '\(id)': size of ringbuf chardev must be power of two")
            }
        case .null, .monitor:
            break
        case .socket, .file, .pty:
            if let host = chardevs.host {
                do {
                    let opened = try host.open(backend)
                    chardev.handle = opened.handle
                    chardev.ptyPath = opened.ptyPath
                } catch {
                    throw .generic("Failed to add chardev '\(id)': \(error.desc)")
                }
            } else if case .pty = backend {
                chardev.ptyPath = "/dev/pts/0"
            }
        }
        chardevs.chardevs.append(chardev)
        var reply = JSONObject()
        if let pty = chardev.ptyPath { reply.append("pty", .string(pty)) }
        return reply
    }

    /// `chardev-remove`: a chardev a frontend holds is busy; the rest is closed (a server's socket
    /// file removed, as QEMU removes it).
    public func chardevRemove(id: String) throws(QMPError) {
        guard let index = chardevs.index(of: id) else { throw .generic("Chardev '\(id)' not found") }
        guard !chardevs.chardevs[index].isBusy else { throw .generic("Chardev '\(id)' is busy") }
        let chardev = chardevs.chardevs.remove(at: index)
        if let handle = chardev.handle { chardevs.host?.close(handle) }
    }

    /// Closes the OS side of every chardev (the daemon is exiting).
    public func closeAllChardevs() {
        for index in chardevs.chardevs.indices {
            if let handle = chardevs.chardevs[index].handle { chardevs.host?.close(handle) }
            chardevs.chardevs[index].handle = nil
        }
    }

    /// `query-chardev`: `[ChardevInfo]` in creation order (QEMU: hash order), with QEMU's filenames.
    public func queryChardev() -> JSONValue {
        .array(
            chardevs.chardevs.map { chardev in
                var info = JSONObject(capacity: 3)
                info.append("label", .string(chardev.id))
                info.append("filename", .string(filename(of: chardev)))
                info.append("frontend-open", .bool(chardev.frontendOpen))
                return .object(info)
            }
        )
    }

    /// QEMU's `filename` of a chardev: `unix:PATH,server=on`, `disconnected:unix:...`, `pty:PATH`, ...
    func filename(of chardev: Chardev) -> String {
        switch chardev.backend {
        case .monitor(let path):
            let connected = monitorClients[path, default: 0] > 0
            return "\(connected ? "" : "disconnected:")unix:\(path),server=on"
        case .socket(let path, let server):
            let connected = chardev.handle.map { chardevs.host?.isConnected($0) ?? false } ?? !server
            if !connected { return "disconnected:unix:\(path)\(server ? ",server=on" : "")" }
            if server { return "unix:\(path),server=on" }
            return profile.chardevClientFilenameHasPath ? "unix:\(path)" : "unix:"
        case .file: return "file"
        case .null: return "null"
        case .pty: return "pty:\(chardev.ptyPath ?? "")"
        case .ringbuf: return "ringbuf"
        }
    }

    /// `chardev=NAME` of a device being created: the chardev must exist and be free.
    func attachChardev(_ link: BackendLink, owner: String) throws(QMPError) {
        guard let index = chardevs.index(of: link.name) else { throw Self.cannotFind(link, owner: owner) }
        guard !chardevs.chardevs[index].isBusy else {
            throw .generic(
                "Property '\(owner).\(link.property)' can't take value '\(link.name)': \(profile.chardevInUse(link.name))"
            )
        }
        chardevs.chardevs[index].holder = "\(owner).\(link.property)"
        chardevs.chardevs[index].frontendOpen = true
    }

    /// The device holding chardev `link.name` is gone.
    func detachChardev(_ link: BackendLink) {
        guard let index = chardevs.index(of: link.name) else { return }
        chardevs.chardevs[index].holder = nil
        chardevs.chardevs[index].frontendOpen = false
    }
}
