/// The models whose realize is mostly about a backend: `virtio-serial-pci` with the ports on its
/// bus (`virtserialport`, `virtconsole`, each on a chardev), `vhost-vsock-pci` (a vhost descriptor)
/// and the vhost-user proxies (`vhost-user-blk-pci`, `vhost-user-fs-pci`, on a socket chardev).
/// Their realize rules are in `Machine+BackendDeviceRealize.swift`.
extension DeviceCatalog {
    static let backendDeviceModels: [DeviceModel] = [
        // Identity as QEMU 7.2.22's `query-pci` reports it (the `devices-serial` scenario).
        virtio(
            "virtio-serial-pci",
            backend: "virtio-serial-device",
            legacy: 0x1003,
            modern: 0x1043,
            classCode: 0x0780,
            description: nil,
            extra: virtioSerialProperties
        ).providing(.virtioSerial),
        DeviceModel(
            name: "virtserialport",
            properties: virtioSerialPortProperties,
            vendorID: 0,
            deviceID: 0,
            classCode: 0
        )
        .plugged(into: .virtioSerial),
        DeviceModel(name: "virtconsole", properties: virtioSerialPortProperties, vendorID: 0, deviceID: 0, classCode: 0)
            .plugged(into: .virtioSerial),
        // Modern-only virtio devices (no transitional id). vhost-vsock-pci's identity is from QEMU's
        // source (QEMU realizes it only over /dev/vhost-vsock); vhost-user-fs-pci's was measured on
        // 7.2.22 and 10.0.2 over a minimal vhost-user back-end (scripts/measure-vhost-user-fs.py).
        modernOnly(
            virtio(
                "vhost-vsock-pci",
                backend: "vhost-vsock-device",
                legacy: 0x1053,
                modern: 0x1053,
                classCode: 0x0780,
                description: nil,
                extra: vhostVsockProperties
            )
        ),
        virtio(
            "vhost-user-blk-pci",
            backend: "vhost-user-blk",
            legacy: 0x1001,
            modern: 0x1042,
            classCode: 0x0100,
            description: "SCSI controller",
            extra: vhostUserBlkProperties
        ).requiring("chardev", error: "chardev is mandatory"),
        modernOnly(
            virtio(
                "vhost-user-fs-pci",
                backend: "vhost-user-fs-device",
                legacy: 0x105A,
                modern: 0x105A,
                classCode: 0x0180,
                description: "Storage controller",
                extra: vhostUserFSProperties
            )
        ).requiring("chardev", error: "missing chardev").requiring("tag", error: "missing tag property"),
        pcDIMM,
    ]

    /// A virtio device without a transitional form: the modern id and QEMU's default subsystem id
    /// on any bus.
    private static func modernOnly(_ model: DeviceModel) -> DeviceModel {
        var copy = model
        copy.subsystemID = DeviceModel.defaultSubsystemID
        return copy
    }
}
