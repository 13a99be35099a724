/// The property lists of the virtio proxies and of the devices on their buses, as QEMU 7.2.22's
/// `device-list-properties` gives them (names and `qom-list` types; ``QEMUProfile/adjust(_:)``
/// applies 10.0's differences). Only facts are kept: which properties exist and their types;
/// `device_add` checks a value's type, and the backend properties (`drive`, `netdev`, `chardev`)
/// are resolved.
extension DeviceCatalog {
    /// The virtio-pci transport's properties, which every virtio proxy has (besides ``pciCommon``).
    static let virtioTransport: [DeviceModel.Property] = [
        .init("migrate-extra", "bool"), .init("ats", "bool", default: .bool(false)),
        .init("x-ignore-backend-features", "bool"), .init("x-pcie-pm-init", "bool"), .init("aer", "bool"),
        .init("x-pcie-flr-init", "bool"), .init("x-pcie-lnkctl-init", "bool"), .init("x-ats-page-aligned", "bool"),
        .init("page-per-vq", "bool"), .init("x-pcie-deverr-init", "bool"),
        .init("virtio-pci-bus-master-bug-migration", "bool"), .init("modern-pio-notify", "bool"),
        .init("x-disable-pcie", "bool"), .init("vectors", "uint32"), .init("x-disable-legacy-check", "bool"),
        .init("queue_reset", "bool"), .init("use-disabled-flag", "bool"), .init("packed", "bool"),
        .init("iommu_platform", "bool", default: .bool(false)), .init("event_idx", "bool"),
        .init("notify_on_empty", "bool"), .init("any_layout", "bool"), .init("use-started", "bool"),
        .init("indirect_desc", "bool"),
    ]

    /// `virtio-net-pci`'s own properties (QEMU 7.2.22's `device-list-properties`).
    static let virtioNetProperties: [DeviceModel.Property] = [
        .init("ioeventfd", "bool", default: .bool(true)), .init("disable-legacy", "OnOffAuto"),
        .init("disable-modern", "bool", default: .bool(false)), .init("mac", "str"), .init("gso", "bool"),
        .init("x-txtimer", "uint32"), .init("mq", "bool"), .init("mrg_rxbuf", "bool"), .init("x-txburst", "int32"),
        .init("host_mtu", "uint16"), .init("tx", "str"), .init("rss", "bool"), .init("status", "bool"),
        .init("failover", "bool"), .init("ctrl_mac_addr", "bool"), .init("tx_queue_size", "uint16"),
        .init("guest_tso4", "bool"), .init("hash", "bool"), .init("host_tso6", "bool"),
        .init("ctrl_guest_offloads", "bool"), .init("guest_ufo", "bool"), .init("ctrl_vq", "bool"),
        .init("guest_ecn", "bool"), .init("host_ufo", "bool"), .init("host_ecn", "bool"),
        .init("guest_rsc_ext", "bool"), .init("duplex", "str"), .init("rsc_interval", "uint32"),
        .init("guest_announce", "bool"), .init("netdev", "str", backend: .netdev), .init("host_tso4", "bool"),
        .init("x-mtu-bypass-backend", "bool"), .init("ctrl_rx_extra", "bool"), .init("rx_queue_size", "uint16"),
        .init("guest_csum", "bool"), .init("bootindex", "int32"), .init("ctrl_vlan", "bool"),
        .init("guest_tso6", "bool"), .init("speed", "int32"), .init("csum", "bool"), .init("ctrl_rx", "bool"),
    ]

    /// `virtio-blk-pci`'s own properties (QEMU 7.2.22's `device-list-properties`).
    static let virtioBlkProperties: [DeviceModel.Property] = [
        .init("ioeventfd", "bool", default: .bool(true)), .init("disable-legacy", "OnOffAuto"),
        .init("disable-modern", "bool", default: .bool(false)), .init("class", "uint32"), .init("share-rw", "bool"),
        .init("lcyls", "uint32"), .init("queue-size", "uint16"), .init("lsecs", "uint32"), .init("heads", "uint32"),
        .init("account-invalid", "OnOffAuto"), .init("iothread", "link<iothread>", backend: .object(type: "iothread")),
        .init("lheads", "uint32"),
        .init("num-queues", "uint16"), .init("cyls", "uint32"), .init("secs", "uint32"),
        .init("min_io_size", "size"), .init("bootindex", "int32"), .init("config-wce", "bool"),
        .init("seg-max-adjust", "bool"), .init("drive", "str", backend: .block), .init("werror", "BlockdevOnError"),
        .init("report-discard-granularity", "bool"), .init("rerror", "BlockdevOnError"),
        .init("write-cache", "OnOffAuto"), .init("physical_block_size", "size"), .init("scsi", "bool"),
        .init("opt_io_size", "size"), .init("logical_block_size", "size"), .init("max-discard-sectors", "uint32"),
        .init("discard", "bool"), .init("discard_granularity", "size"), .init("request-merging", "bool"),
        .init("write-zeroes", "bool"), .init("max-write-zeroes-sectors", "uint32"),
        .init("account-failed", "OnOffAuto"), .init("x-enable-wce-if-config-wce", "bool"),
        .init("backend_defaults", "OnOffAuto"), .init("serial", "str"),
    ]

    /// `virtio-scsi-pci`'s own properties (QEMU 7.2.22's `device-list-properties`).
    static let virtioSCSIProperties: [DeviceModel.Property] = [
        .init("ioeventfd", "bool", default: .bool(true)), .init("disable-legacy", "OnOffAuto"),
        .init("disable-modern", "bool", default: .bool(false)), .init("hotplug", "bool", default: .bool(true)),
        .init("num_queues", "uint32"), .init("max_sectors", "uint32"),
        .init("iothread", "link<iothread>", backend: .object(type: "iothread")),
        .init("param_change", "bool"), .init("virtqueue_size", "uint32"), .init("seg_max_adjust", "bool"),
        .init("cmd_per_lun", "uint32"),
    ]

    /// `virtio-rng-pci`'s own properties (QEMU 7.2.22's `device-list-properties`).
    static let virtioRNGProperties: [DeviceModel.Property] = [
        .init("ioeventfd", "bool", default: .bool(true)), .init("disable-legacy", "OnOffAuto"),
        .init("disable-modern", "bool", default: .bool(false)), .init("period", "uint32"),
        .init("max-bytes", "uint64"), .init("rng", "link<rng-backend>", backend: .object(type: "rng-backend")),
    ]

    /// `virtio-serial-pci`'s own properties (QEMU 7.2.22's `device-list-properties`).
    static let virtioSerialProperties: [DeviceModel.Property] = [
        .init("ioeventfd", "bool", default: .bool(true)), .init("disable-legacy", "OnOffAuto"),
        .init("disable-modern", "bool", default: .bool(false)), .init("class", "uint32"),
        .init("max_ports", "uint32", default: .int(31)), .init("emergency-write", "bool"),
    ]

    /// `vhost-user-blk-pci`'s own properties (QEMU 7.2.22's `device-list-properties`).
    static let vhostUserBlkProperties: [DeviceModel.Property] = [
        .init("disable-legacy", "OnOffAuto"), .init("disable-modern", "bool", default: .bool(false)),
        .init("class", "uint32"), .init("bootindex", "int32"), .init("config-wce", "bool"),
        .init("write-zeroes", "bool"), .init("num-queues", "uint16"), .init("chardev", "str", backend: .chardev),
        .init("discard", "bool"), .init("queue-size", "uint32"),
    ]

    /// `vhost-user-fs-pci`'s own properties (QEMU 7.2.22's `device-list-properties`).
    static let vhostUserFSProperties: [DeviceModel.Property] = [
        .init("bootindex", "int32"), .init("num-request-queues", "uint16"),
        .init("chardev", "str", backend: .chardev), .init("queue-size", "uint16"), .init("tag", "str"),
    ]

    /// `vhost-vsock-pci`'s own properties (QEMU 7.2.22's `device-list-properties`).
    static let vhostVsockProperties: [DeviceModel.Property] = [
        .init("disable-legacy", "OnOffAuto"), .init("disable-modern", "bool", default: .bool(false)),
        .init("guest-cid", "uint64"), .init("seqpacket", "OnOffAuto"), .init("vhostfd", "str"),
    ]

    /// `scsi-hd`'s own properties (QEMU 7.2.22's `device-list-properties`).
    static let scsiHDProperties: [DeviceModel.Property] = [
        .init("drive", "str", backend: .block), .init("scsi-id", "uint32"), .init("lun", "uint32"),
        .init("channel", "uint32"), .init("lheads", "uint32"), .init("lcyls", "uint32"), .init("share-rw", "bool"),
        .init("account-invalid", "OnOffAuto"), .init("lsecs", "uint32"), .init("scsi_version", "int32"),
        .init("secs", "uint32"), .init("removable", "bool"), .init("ver", "str"), .init("max_unmap_size", "uint64"),
        .init("cyls", "uint32"), .init("serial", "str"), .init("min_io_size", "size"), .init("product", "str"),
        .init("rotation_rate", "uint16"), .init("heads", "uint32"), .init("dpofua", "bool"),
        .init("werror", "BlockdevOnError"), .init("wwn", "uint64"), .init("vendor", "str"),
        .init("rerror", "BlockdevOnError"), .init("write-cache", "OnOffAuto"), .init("physical_block_size", "size"),
        .init("max_io_size", "uint64"), .init("quirk_mode_page_vendor_specific_apple", "bool"),
        .init("opt_io_size", "size"), .init("logical_block_size", "size"), .init("discard_granularity", "size"),
        .init("port_wwn", "uint64"), .init("port_index", "uint16"), .init("account-failed", "OnOffAuto"),
        .init("device_id", "str"), .init("backend_defaults", "OnOffAuto"), .init("bootindex", "int32"),
    ]

    /// `scsi-cd`'s own properties (QEMU 7.2.22's `device-list-properties`).
    static let scsiCDProperties: [DeviceModel.Property] = [
        .init("drive", "str", backend: .block), .init("scsi-id", "uint32"), .init("lun", "uint32"),
        .init("channel", "uint32"), .init("account-invalid", "OnOffAuto"),
        .init("quirk_mode_sense_rom_use_dbd", "bool"), .init("device_id", "str"), .init("max_io_size", "uint64"),
        .init("serial", "str"), .init("logical_block_size", "size"), .init("ver", "str"), .init("share-rw", "bool"),
        .init("write-cache", "OnOffAuto"), .init("scsi_version", "int32"), .init("wwn", "uint64"),
        .init("discard_granularity", "size"), .init("backend_defaults", "OnOffAuto"), .init("vendor", "str"),
        .init("quirk_mode_page_truncated", "bool"), .init("quirk_mode_page_vendor_specific_apple", "bool"),
        .init("product", "str"), .init("opt_io_size", "size"), .init("rerror", "BlockdevOnError"),
        .init("quirk_mode_page_apple_vendor", "bool"), .init("min_io_size", "size"),
        .init("account-failed", "OnOffAuto"), .init("physical_block_size", "size"), .init("port_wwn", "uint64"),
        .init("port_index", "uint16"), .init("werror", "BlockdevOnError"), .init("bootindex", "int32"),
    ]

    /// `virtserialport`'s own properties (QEMU 7.2.22's `device-list-properties`).
    static let virtioSerialPortProperties: [DeviceModel.Property] = [
        .init("nr", "uint32"), .init("name", "str"), .init("chardev", "str", backend: .chardev),
    ]

}
