public import QMPWire

/// Which PCI hot-plug serves which bus, as the properties of QEMU's ACPI PM device (`ICH9-LPC` on
/// q35, `PIIX4_PM` on pc) decide after `-global` (`acpi-hotplug.md` §2):
///
/// | machine | root bus | buses of cold-plugged ports and bridges |
/// |---|---|---|
/// | q35 | never hot-pluggable | ACPI; native (PCIe slots, SHPC) with bridge support off |
/// | pc | ACPI unless `acpi-root-pci-hotplug=off` | ACPI; SHPC with bridge support off |
///
/// Hot-added bridges never get ACPI hot-plug: their own controller (SHPC) serves them.
public struct PCIHotplugSettings: Sendable, Equatable {
    /// The property of both ACPI PM devices that turns ACPI hot-plug of bridges and ports on or off.
    public static let bridgeSupportProperty = "acpi-pci-hotplug-with-bridge-support"
    /// PIIX4_PM's property that turns ACPI hot-plug of pc's root bus on or off (q35 has none).
    public static let rootHotplugProperty = "acpi-root-pci-hotplug"

    /// ACPI hot-plug for the buses of cold-plugged ports and bridges (default on).
    public var bridgeSupport: Bool
    /// ACPI hot-plug of the root bus: pc only (default on); always false on q35.
    public var rootHotplug: Bool
    /// The machine type the settings are for.
    public var machineType: MachineType

    /// The register block at 0xcc0 (q35) or 0xae00 (pc) exists: q35 with bridge support on; pc unless
    /// both properties are off.
    public var hasRegisterBlock: Bool { bridgeSupport || rootHotplug }
    /// PIIX "legacy" mode: pc with bridge support off but root hot-plug on (SEL forced to 0, reading UP
    /// does not clear it).
    public var isPIIXLegacy: Bool { machineType == .pc && !bridgeSupport && rootHotplug }

    /// The settings of a board, with QEMU's refusals of the ACPI PM device's globals (`can't apply
    /// global ICH9-LPC.acpi-root-pci-hotplug=on: Property 'ICH9-LPC.acpi-root-pci-hotplug' not found`).
    public init(machineType: MachineType, board: BoardOptions) throws(QMPError) {
        self.machineType = machineType
        var bridgeSupport = true
        var rootHotplug = machineType == .pc
        for global in board.globals where global.driver == machineType.acpiDeviceType {
            let known =
                global.property == Self.bridgeSupportProperty
                || (machineType == .pc && global.property == Self.rootHotplugProperty)
            guard known else {
                throw .generic(
                    "can't apply global \(global): Property '\(global.driver).\(global.property)' not found"
                )
            }
            guard let value = Self.qemuBool(global.value) else {
                throw .generic("can't apply global \(global): Parameter '\(global.property)' expects 'on' or 'off'")
            }
            if global.property == Self.bridgeSupportProperty { bridgeSupport = value } else { rootHotplug = value }
        }
        self.bridgeSupport = bridgeSupport
        self.rootHotplug = rootHotplug
    }

    /// The settings of a board whose globals were already checked (QEMU's defaults where one is refused).
    public init(lenient machineType: MachineType, board: BoardOptions) {
        if let settings = try? PCIHotplugSettings(machineType: machineType, board: board) {
            self = settings
        } else {
            self.machineType = machineType
            bridgeSupport = true
            rootHotplug = machineType == .pc
        }
    }

    /// QEMU's boolean property text: `on`/`off`, `yes`/`no`, `true`/`false`.
    static func qemuBool(_ text: String) -> Bool? {
        switch text {
        case "on", "yes", "true": return true
        case "off", "no", "false": return false
        default: return nil
        }
    }
}
