/// The options of QEMU's command line that shape the board beyond its devices: `-accel`, `-smp`, `-m`
/// and `-global`. Kept as written; the machine derives its CPU topology, memory map and PCI hot-plug
/// settings from them when it is made, and ``Machine/coldPlug(_:)`` refuses what QEMU refuses at start.
///
/// The defaults are QEMU's (no `-global`: ACPI PCI hot-plug; `-smp 1`; `-m 128M`), except the
/// accelerator, which is KVM because that is what the stacks qmp-mock serves run (see ``Accelerator``).
public struct BoardOptions: Sendable, Equatable {
    public var accel: Accelerator
    public var smp: SMPOptions
    public var memory: MemoryOptions
    /// `-global` options in command-line order (a later one for the same property wins).
    public var globals: [GlobalProperty]

    /// Makes the options; QEMU's defaults for anything not given.
    public init(
        accel: Accelerator = .kvm,
        smp: SMPOptions = SMPOptions(),
        memory: MemoryOptions = MemoryOptions(),
        globals: [GlobalProperty] = []
    ) {
        self.accel = accel
        self.smp = smp
        self.memory = memory
        self.globals = globals
    }

    /// The board with native PCI hot-plug on `machineType`: the global that turns ACPI PCI hot-plug
    /// off for bridges and ports (`ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off` on q35,
    /// `PIIX4_PM.acpi-pci-hotplug-with-bridge-support=off` on pc), what the embedded default machine
    /// and qmp-mock's first releases run.
    public static func nativePCIHotplug(_ machineType: MachineType) -> BoardOptions {
        BoardOptions(globals: [
            GlobalProperty(
                driver: machineType.acpiDeviceType,
                property: PCIHotplugSettings.bridgeSupportProperty,
                value: "off"
            )
        ])
    }

    /// The value of the last `-global` for `driver.property`, if any.
    public func global(_ driver: String, _ property: String) -> String? {
        globals.last { $0.driver == driver && $0.property == property }?.value
    }
}
