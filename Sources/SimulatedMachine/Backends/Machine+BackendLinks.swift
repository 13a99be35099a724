import QMPWire

/// Resolving the backend properties of `device_add` and releasing them with the device: the one
/// place where devices meet the block layer, the network backends, the character devices and the
/// user-created objects. Each area answers for its own kind (`attach`, `detach`); a kind whose area
/// has nothing of that name answers QEMU's `Property 'TYPE.PROP' can't find value 'NAME'`.
extension Machine {
    /// Makes the backend `link` names used by the device being created (each area counts its users:
    /// "in use" rules need no more), and returns the link the device keeps (an object link names the
    /// object's serial, see ``attachObject(_:type:)``). `owner` is the QOM type
    /// that holds the property in QEMU's error texts (a virtio proxy forwards `drive`, `netdev`,
    /// `chardev` and its links to its `virtio-backend` child, whose type QEMU names).
    func attachBackend(_ link: BackendLink, owner: String) throws(QMPError) -> BackendLink {
        switch link.kind {
        case .block:
            try attachBlock(link, owner: owner)

        case .netdev:
            try attachNetdev(link, owner: owner)

        case .chardev:
            try attachChardev(link, owner: owner)

        case .object(let type):
            return try attachObject(link, type: type)
        }
        return link
    }

    /// Lets the backend go: the device it was attached to is gone (or was never realized).
    func detachBackend(_ link: BackendLink) {
        switch link.kind {
        case .block:
            detachBlock(link)

        case .netdev:
            detachNetdev(link)

        case .chardev:
            detachChardev(link)

        case .object:
            detachObject(link)
        }
    }

    /// Realize: the device being made takes its backends (permissions, what the queries name it by).
    /// Runs after the address is assigned and the required properties are checked, as QEMU's realize
    /// of the device (or its virtio backend) does.
    func realizeBackends(_ links: [BackendLink], of device: Device) throws(QMPError) {
        let owner = Self.backendPropertyOwner(of: device.model)
        let holder = device.model.children.first { $0.name == "virtio-backend" }
        let qdev = holder.map { "\(device.path)/\($0.name)" } ?? device.id ?? device.path
        // SCSI disks enable I/O status; a scsi-cd without `drive` gets an empty, removable medium.
        let isSCSIDisk = device.model.busType == .scsi
        if device.model.name == "scsi-cd" && !links.contains(where: { $0.kind == .block }) {
            realizeEmptyMedium(qdev: qdev)
        }
        for link in links {
            switch link.kind {
            case .block:
                try realizeBlock(
                    link,
                    qdev: qdev,
                    reportsIOStatus: owner == "virtio-blk-device" || isSCSIDisk,
                    hasRemovableMedium: device.model.name == "scsi-cd",
                    sharesResize: device.model.name != "nvme"
                )

            case .netdev:
                break

            case .chardev:
                // A virtserialport's chardev opens when the guest opens the port; a console's at once.
                if device.model.name == "virtserialport", let index = chardevs.index(of: link.name) {
                    chardevs.chardevs[index].frontendOpen = false
                }

            case .object:
                break
            }
        }
    }

    /// Lets every backend of a destroyed device go (when its `DEVICE_DELETED` is sent).
    func releaseBackends(of device: Device) {
        for link in device.links.reversed() { detachBackend(link) }
        device.links = []
        releaseDescriptors(device.descriptors)
        device.descriptors = []
        if device.model.name == "scsi-cd" { releaseEmptyMedium(qdev: device.id ?? device.path) }
    }

    /// QEMU's `QERR_PROPERTY_VALUE_NOT_FOUND`.
    static func cannotFind(_ link: BackendLink, owner: String) -> QMPError {
        .generic("Property '\(owner).\(link.property)' can't find value '\(link.name)'")
    }

    /// The QOM type that owns a device's backend properties in QEMU's texts.
    static func backendPropertyOwner(of model: DeviceModel) -> String {
        model.children.first { $0.name == "virtio-backend" || $0.name == "serial" }?.type ?? model.name
    }
}
