/// The two fixed forms QEMU registers beside a generic virtio PCI proxy (`virtio-blk-pci`):
/// `virtio-blk-pci-transitional` (legacy and modern interfaces on every bus) and
/// `virtio-blk-pci-non-transitional` (modern only on every bus). The generic proxy decides with
/// `disable-legacy=auto` (modern-only on a PCIe bus); the variants have no `disable-legacy` and
/// `disable-modern` properties, because their class fixes both.
///
/// They matter beyond their own use: libvirt reads `virtio-*-pci-non-transitional` in
/// `qom-list-types` as its `virtio-pci-non-transitional` capability, and without it places virtio
/// devices on conventional PCI only — on q35 with nothing but root ports, every hot-plug then fails
/// with `No more available PCI slots`.
public enum VirtioVariant: String, Sendable, CaseIterable {
    /// Legacy and modern: the transitional device id and the virtio device id as subsystem, on any bus.
    case transitional
    /// Modern only: the modern device id and QEMU's default subsystem id, on any bus.
    case nonTransitional = "non-transitional"

    /// The variant's driver name (`virtio-blk-pci-non-transitional`).
    public func name(of generic: String) -> String { "\(generic)-\(rawValue)" }

    /// The variant of a generic virtio model: same properties but the two its class fixes, same
    /// children and realize rules (``DeviceModel/genericName``), the identity of its form.
    public func model(from generic: DeviceModel) -> DeviceModel {
        var model = generic
        model.name = name(of: generic.name)
        model.genericName = generic.name
        model.properties.removeAll { $0.name == "disable-legacy" || $0.name == "disable-modern" }
        let modern = generic.expressDeviceID ?? generic.deviceID
        switch self {
        case .transitional:
            model.expressDeviceID = generic.deviceID
        case .nonTransitional:
            model.deviceID = modern
            model.expressDeviceID = modern
            model.subsystemID = DeviceModel.defaultSubsystemID
        }
        return model
    }
}
