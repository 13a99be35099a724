/// One QEMU `-global DRIVER.PROPERTY=VALUE`: a default for a property of every device of a type,
/// including the built-in ones. The ACPI PM device's (`ICH9-LPC`, `PIIX4_PM`) decide which PCI
/// hot-plug the machine uses (see ``PCIHotplugSettings``).
public struct GlobalProperty: Sendable, Equatable, CustomStringConvertible {
    /// The QOM type (`ICH9-LPC`).
    public var driver: String
    /// The property (`acpi-pci-hotplug-with-bridge-support`).
    public var property: String
    /// The value as written (`off`).
    public var value: String

    /// Makes a global from its parts.
    public init(driver: String, property: String, value: String) {
        self.driver = driver
        self.property = property
        self.value = value
    }

    /// Reads `DRIVER.PROPERTY=VALUE` as QEMU's `-global` does: the driver ends at the first dot, the
    /// property at the first `=`. Nil for text without both.
    public init?(_ text: String) {
        guard let dot = text.firstIndex(of: "."), let equals = text[dot...].firstIndex(of: "=") else { return nil }
        let driver = String(text[..<dot])
        let property = String(text[text.index(after: dot)..<equals])
        guard !driver.isEmpty, !property.isEmpty else { return nil }
        self.init(driver: driver, property: property, value: String(text[text.index(after: equals)...]))
    }

    /// `DRIVER.PROPERTY=VALUE`.
    public var description: String { "\(driver).\(property)=\(value)" }
}
