import QMPWire

/// Addresses on the non-PCI buses, as their realize assigns and checks them: a SCSI device's
/// channel, target (`scsi-id`) and LUN (QEMU's `scsi_qdev_realize`, with virtio-scsi's limits).
/// The address chosen is stored in the device's properties (`qom-get` reports it).
extension Machine {
    /// virtio-scsi's limits (`virtio_scsi_scsi_info`): one channel, targets 0–255, LUNs 0–16383.
    static let scsiMaxChannel: Int64 = 0
    static let scsiMaxTarget: Int64 = 255
    static let scsiMaxLUN: Int64 = 16383

    /// Checks and completes the bus address of a device being added to a non-PCI bus.
    func assignBusAddress(_ properties: inout [String: JSONValue], on bus: PCIBus, model: DeviceModel) throws(QMPError)
    {
        switch bus.kind {
        case .scsi: try assignSCSIAddress(&properties, on: bus)
        case .virtioSerial: try assignSerialPort(&properties, on: bus, isConsole: model.name == "virtconsole")
        default: break
        }
    }

    /// `scsi_qdev_realize`: the channel, target and LUN limits, then an automatic target (the first
    /// free one at the LUN, LUN 0 when not given) or LUN (the first free one at the target), or the
    /// check that the address given is free (`lun already used by 'hd0'`).
    private func assignSCSIAddress(_ properties: inout [String: JSONValue], on bus: PCIBus) throws(QMPError) {
        let channel = properties["channel"]?.int64Value ?? 0
        var target = properties["scsi-id"]?.int64Value ?? -1
        var lun = properties["lun"]?.int64Value ?? -1
        if channel > Self.scsiMaxChannel { throw .generic("bad scsi channel id: \(channel)") }
        if target != -1 && target > Self.scsiMaxTarget { throw .generic("bad scsi device id: \(target)") }
        if lun != -1 && lun > Self.scsiMaxLUN { throw .generic("bad scsi device lun: \(lun)") }

        func occupant(_ target: Int64, _ lun: Int64) -> Device? {
            bus.children.first {
                $0.integer("channel") == channel && $0.integer("scsi-id") == target && $0.integer("lun") == lun
            }
        }
        if target == -1 {
            if lun == -1 { lun = 0 }
            guard let free = (0...Self.scsiMaxTarget).first(where: { occupant($0, lun) == nil }) else {
                throw .generic("no free target")
            }
            target = free
        } else if lun == -1 {
            guard let free = (0...Self.scsiMaxLUN).first(where: { occupant(target, $0) == nil }) else {
                throw .generic("no free lun")
            }
            lun = free
        } else if let other = occupant(target, lun) {
            throw .generic("lun already used by '\(other.idForErrors)'")
        }
        properties["channel"] = .int(channel)
        properties["scsi-id"] = .int(target)
        properties["lun"] = .int(lun)
    }
}
