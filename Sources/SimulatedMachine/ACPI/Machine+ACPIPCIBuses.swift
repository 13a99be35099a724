import QMPWire

/// Which PCI buses ACPI hot-plug serves, and their bus numbers for the register block (bsel)
/// (`acpi-hotplug.md` §2, §4.2).
///
/// QEMU's ACPI PM device takes over the hotplug handler of the root bus (pc, unless
/// `acpi-root-pci-hotplug=off`) and, with bridge support on, of the secondary bus of every bridge and
/// port plugged at start (a PCIe port with `hotplug=off` loses its handler instead). Hot-added bridges
/// keep their own (SHPC). At the first reset every bus that is hot-pluggable then gets a bsel: a
/// depth-first pre-order walk from the root bus, children in reverse creation order. Later resets do not
/// renumber, and buses created later never get one.
extension Machine {
    /// The QOM property that shows a bus's bsel.
    static let acpiBusSelectorProperty = "acpi-pcihp-bsel"

    /// Whether ACPI hot-plug decides about `bus`: true when ACPI serves it, false when ACPI took its
    /// handler away (the root bus without ACPI root hot-plug; a cold-plugged `hotplug=off` port with
    /// bridge support on), nil when its own controller decides (native PCIe, SHPC, non-PCI buses).
    func acpiHotplugDecision(_ bus: PCIBus) -> Bool? {
        guard bus.kind.isPCI else { return nil }
        guard let owner = bus.owner else { return bus === rootBus ? pciHotplug.rootHotplug : nil }
        guard pciHotplug.bridgeSupport, !owner.isHotplugged, owner.model.kind.hasSecondaryBus else { return nil }
        if let slot = owner.pcieSlot, !slot.isHotplugCapable { return false }
        return true
    }

    /// Whether ACPI hot-plug serves `bus` (its `device_add` and `device_del` go through the register block).
    public func acpiServes(_ bus: PCIBus) -> Bool { acpiHotplugDecision(bus) == true }

    /// Gives bsel numbers to the buses that are hot-pluggable now (QEMU's `acpi_set_pci_info` at the
    /// first reset). Without the register block nothing is numbered; in PIIX legacy mode 7.2 still numbers
    /// every hot-pluggable bus, while later releases number only the root bus.
    func assignACPIBusSelectors() {
        acpiPCIBuses = []
        guard pciHotplug.hasRegisterBlock else { return }
        let onlyRoot = !pciHotplug.bridgeSupport && profile.acpiLegacyNumbersOnlyRootBus
        func visit(_ bus: PCIBus) {
            guard acpiPCIBuses.count < ACPIPCIHotplug.maxBuses else { return }
            if isHotpluggable(bus) && (!onlyRoot || bus === rootBus) { acpiPCIBuses.append(bus) }
            for device in bus.children.reversed() {
                if let secondary = device.secondaryBus { visit(secondary) }
            }
        }
        visit(rootBus)
        updateACPIRemovable()
    }

    /// The bus a bsel selects (`acpi_pcihp_find_hotplug_bus`): the bus with that number while it is still
    /// in the machine; bsel 0 falls back to a hot-pluggable root bus when no bus has 0.
    func acpiHotplugBus(bsel: Int) -> PCIBus? {
        if bsel >= 0, bsel < acpiPCIBuses.count {
            let bus = acpiPCIBuses[bsel]
            return bus === rootBus || bus.owner != nil ? bus : nil
        }
        return bsel == 0 && acpiPCIBuses.isEmpty && isHotpluggable(rootBus) ? rootBus : nil
    }

    /// The bsel of `bus`, if it has one.
    public func acpiBusSelector(of bus: PCIBus) -> Int? {
        acpiPCIBuses.firstIndex { $0 === bus }
    }

    /// The buses with a bsel that ACPI serves, in the order the DSDT's `PCNT` visits them (root bus
    /// first, then each bridge's own `PCNT`, children in reverse creation order: the numbering order;
    /// 7.2's numbered SHPC buses of PIIX legacy mode have no `PCNT`), with the slots
    /// that have an ACPI device object with `_EJ0`: not those of cold-plugged bridges or devices that
    /// cannot be unplugged, and behind a PCIe port only slot 0 (the DSDT describes no other).
    public func acpiPCIDescription() -> [(bsel: Int, bus: PCIBus, ejectableSlots: UInt32)] {
        var result: [(bsel: Int, bus: PCIBus, ejectableSlots: UInt32)] = []
        for (bsel, bus) in acpiPCIBuses.enumerated() where (bus === rootBus || bus.owner != nil) && acpiServes(bus) {
            var slots: UInt32 = bus.isPortBus ? 1 : ~0
            for device in bus.children where !isACPIEjectable(device) { slots &= ~(1 << UInt32(device.slot)) }
            result.append((bsel, bus, slots))
        }
        return result
    }

    /// `qom-get` of a PCI bus's `acpi-pcihp-bsel` and `type` (nil: not a PCI bus path), with QEMU's
    /// `Property 'PCIE.acpi-pcihp-bsel' not found` for a bus without a bsel.
    func qomGetBus(_ path: String, property name: String) throws(QMPError) -> JSONValue? {
        guard let bus = pciBus(qomPath: path) else { return nil }
        if name == "type" { return .string(bus.typeName) }
        if name == Self.acpiBusSelectorProperty, let bsel = acpiBusSelector(of: bus) { return .int(Int64(bsel)) }
        throw .generic("Property '\(bus.typeName).\(name)' not found")
    }

    /// The PCI bus at a QOM path: `/machine/q35/pcie.0`, `/machine/i440fx/pci.0`, or a port's or
    /// bridge's `DEVICE-PATH/BUS-NAME`.
    func pciBus(qomPath path: String) -> PCIBus? {
        let hostPath = machineType == .q35 ? "/machine/q35" : "/machine/i440fx"
        if path == "\(hostPath)/\(rootBus.name)" { return rootBus }
        guard let slash = path.lastIndex(of: "/"), let owner = deviceAt(path: String(path[..<slash])),
            let bus = owner.secondaryBus, bus.name == path[path.index(after: slash)...]
        else { return nil }
        return bus
    }
}
