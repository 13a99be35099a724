import QMPWire

/// The realize rules of the models that are mostly a backend (QEMU 7.2.22 and 10.0.2 texts):
/// `virtio-serial-pci`'s port count, `vhost-vsock-pci`'s guest CID and vhost descriptor, the
/// vhost-user proxies' queue settings and their chardev. Checked after the address and the required
/// properties, as the virtio backend's realize runs after the PCI function is registered.
///
/// What QEMU does with the host is simulated: `vhost-vsock-pci` without `vhostfd` opens no
/// `/dev/vhost-vsock`, a `vhostfd` descriptor is held but never inspected, and a vhost-user device
/// on a socket chardev is realized as if a vhost-user backend answered (docs/deviations.md).
extension Machine {
    /// The vhost-user message size limits (`VIRTIO_QUEUE_MAX`, `VIRTQUEUE_MAX_SIZE`).
    static let virtioQueueMax: Int64 = 1024

    /// Runs the model's own realize checks. Returns the descriptors the device takes (owned by it
    /// from now on).
    func realizeBackendDevice(
        _ model: DeviceModel,
        properties: [String: JSONValue],
        links: [BackendLink],
        monitor: String?
    ) throws(QMPError) -> [Int32] {
        func integer(_ name: String) -> Int64? {
            properties[name]?.int64Value ?? model.property(name).flatMap { Self.defaultInteger($0.defaultValue) }
        }
        switch model.family {
        case "virtio-serial-pci":
            let maxPorts = integer("max_ports") ?? 31
            if maxPorts == 0 { throw .generic("Maximum number of serial ports not specified") }
            let limit = Self.virtioQueueMax / 2 - 1
            if maxPorts > limit { throw .generic("maximum ports supported: \(limit)") }

        case "vhost-vsock-pci":
            let cid = properties["guest-cid"]?.int64Value ?? 0
            if cid <= 2 { throw .generic("guest-cid property must be greater than 2") }
            if cid > Int64(UInt32.max) { throw .generic("guest-cid property must be a 32-bit number") }
            if let text = properties["vhostfd"]?.stringValue {
                return try takeVhostDescriptor(text, monitor: monitor)
            }

        case "vhost-user-blk-pci":
            let queues = integer("num-queues") ?? 0xFFFF
            if queues == 0 || (queues != 0xFFFF && queues > Self.virtioQueueMax) {
                throw .generic("invalid number of IO queues")
            }
            let queueSize = integer("queue-size") ?? 128
            if queueSize == 0 { throw .generic("queue size must be non-zero") }
            if queueSize > Self.virtioQueueMax {
                throw .generic("queue size must not exceed \(Self.virtioQueueMax)")
            }
            try connectVhostUser(links)

        case "vhost-user-fs-pci":
            let tag = properties["tag"]?.stringValue ?? ""
            if tag.isEmpty { throw .generic("tag property cannot be empty") }
            if tag.utf8.count > 36 { throw .generic("tag property must be 36 bytes or less") }
            if (integer("num-request-queues") ?? 1) == 0 {
                throw .generic("num-request-queues property must be larger than 0")
            }
            let queueSize = integer("queue-size") ?? 128
            if queueSize <= 0 || queueSize & (queueSize - 1) != 0 {
                throw .generic("queue-size property must be a power of 2")
            }
            if queueSize > Self.virtioQueueMax {
                throw .generic("queue-size property must be \(Self.virtioQueueMax) or smaller")
            }
            try connectVhostUser(links)

        default:
            break
        }
        return []
    }

    /// `monitor_fd_param` as `vhost_vsock_device_realize` uses it: a `getfd` name of the calling
    /// monitor (taken: the device owns it), or a number (the daemon's own descriptor, not owned).
    private func takeVhostDescriptor(_ text: String, monitor: String?) throws(QMPError) -> [Int32] {
        if let first = text.utf8.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") {
            guard let number = Int32(text) else {
                throw .generic("vhost-vsock: unable to parse vhostfd: Invalid file descriptor number '\(text)'")
            }
            guard descriptors.isOpen(number) else {
                throw .generic("vhost-vsock: unable to set non-blocking mode: Bad file descriptor")
            }
            return []
        }
        let fd: Int32
        do {
            fd = try takeNamedDescriptor(text, monitor: monitor ?? "")
        } catch {
            throw .generic("vhost-vsock: unable to parse vhostfd: \(error.desc)")
        }
        descriptors.heldByBackends += 1
        return [fd]
    }

    /// `vhost_dev_init` over the device's chardev: only a socket can carry the vhost-user protocol;
    /// QEMU's first message fails on anything else.
    private func connectVhostUser(_ links: [BackendLink]) throws(QMPError) {
        guard let link = links.first(where: { $0.kind == .chardev }),
            let index = chardevs.index(of: link.name)
        else { return }
        if case .socket = chardevs.chardevs[index].backend { return }
        throw .generic("vhost_backend_init failed: Protocol error")
    }

    private static func defaultInteger(_ value: DeviceModel.JSONDefault) -> Int64? {
        if case .int(let number) = value { return number }
        return nil
    }
}
