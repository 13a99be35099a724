/// A function the machine type puts on the root bus itself (host bridge, chipset functions): what
/// `query-pci` reports for it. None of them can be unplugged.
struct BuiltinFunction {
    var slot: Int
    var function: Int
    var vendorID: UInt16
    var deviceID: UInt16
    var classCode: UInt16
    var description: String
    /// Configuration-space Interrupt Pin: 0 for functions without a PCI interrupt (host and ISA
    /// bridges, PIIX3 IDE with its legacy IRQs 14/15), 1 (INTA#) for the others.
    var interruptPin: UInt8

    init(
        _ slot: Int,
        _ function: Int,
        _ vendorID: UInt16,
        _ deviceID: UInt16,
        _ classCode: UInt16,
        _ description: String,
        pin: UInt8
    ) {
        self.slot = slot
        self.function = function
        self.vendorID = vendorID
        self.deviceID = deviceID
        self.classCode = classCode
        self.description = description
        self.interruptPin = pin
    }
}
