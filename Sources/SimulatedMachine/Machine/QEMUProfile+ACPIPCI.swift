import QMPWire

/// The differences between releases in ACPI PCI hot-plug (`acpi-hotplug.md` §8).
extension QEMUProfile {
    /// pc with `acpi-pci-hotplug-with-bridge-support=off` (PIIX legacy mode): only the root bus gets a
    /// bsel (10.0.2, observed) rather than every hot-pluggable bus, SHPC ones included (7.2.22, observed,
    /// harmless since SEL is forced to 0). Upstream changed it with the rework of `acpi_set_pci_info` in
    /// 8.0, so the 8.2 profile numbers like 10.0 (unverified against an 8.2 binary).
    public var acpiLegacyNumbersOnlyRootBus: Bool { version.isAtLeast(8, 0) }
}
