/// Copies the class part of a machine — its devices and buses, which refer to each other — for
/// ``Machine/copy(hostClock:)``: each device and bus is copied once, and every reference among
/// them (a bus's devices and owner, a device's parent, secondary and child buses) points into the
/// copy. Value-typed state (slot registers, properties, links) is copied with its device.
final class MachineCopier {
    private var devices: [ObjectIdentifier: Device] = [:]
    private var buses: [ObjectIdentifier: PCIBus] = [:]
    /// Copies whose original had a controller interrupt handler (it is bound to the new machine
    /// once that exists).
    private(set) var interruptSources: [Device] = []

    /// The copy of `original`, made on first use.
    func device(_ original: Device) -> Device {
        if let copy = devices[ObjectIdentifier(original)] { return copy }
        let copy = Device(copying: original)
        devices[ObjectIdentifier(original)] = copy
        if original.interruptHandler != nil { interruptSources.append(copy) }
        copy.parentBus = original.parentBus.map(bus)
        copy.secondaryBus = original.secondaryBus.map(bus)
        copy.childBus = original.childBus.map(bus)
        return copy
    }

    /// The copy of `original`, made on first use.
    func bus(_ original: PCIBus) -> PCIBus {
        if let copy = buses[ObjectIdentifier(original)] { return copy }
        let copy = PCIBus(copying: original)
        buses[ObjectIdentifier(original)] = copy
        copy.adopt(original, copy: device)
        return copy
    }
}
