import SimulatedMachine

extension ACPIGuestDriver {
    /// `_E01`: PCNT over every bus with a bsel, then acpiphp's Device Check and Eject Request handling. Not implemented yet.
    func pciScan() {}
}
