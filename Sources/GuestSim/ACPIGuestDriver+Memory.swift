import SimulatedMachine

extension ACPIGuestDriver {
    /// `_E03`: MSCN, then the memory driver's Device Check and Eject Request handling. Not implemented yet.
    func memoryScan() {}
}
