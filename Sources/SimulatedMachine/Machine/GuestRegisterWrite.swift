/// One guest write to a hotplug controller register, with the register's value before and after.
public struct GuestRegisterWrite: Sendable, Equatable {
    /// The controller's id, or its QOM path when it has none.
    public var controller: String
    /// `slot-control`, `slot-status` (PCIe) or `shpc-command`, `shpc-register` (SHPC).
    public var register: String
    /// SHPC slot number or register offset, when it applies.
    public var target: Int?
    public var written: UInt32
    public var old: UInt32
    public var new: UInt32

    public init(controller: String, register: String, target: Int? = nil, written: UInt32, old: UInt32, new: UInt32) {
        self.controller = controller
        self.register = register
        self.target = target
        self.written = written
        self.old = old
        self.new = new
    }
}
