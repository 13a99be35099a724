/// One possible CPU as QEMU's modern ACPI CPU hot-plug block keeps it (`AcpiCpuStatus` in
/// `hw/acpi/cpu.c`): whether a CPU is plugged there, the pending events the guest has not cleared yet,
/// and the last `_OST` the guest reported for it (`acpi-hotplug.md` §5.3).
public struct ACPICPUSlot: Sendable, Equatable {
    /// FLAGS bit 0: a CPU is plugged in the slot.
    public static let enabledFlag: UInt8 = 0x01
    /// FLAGS bit 1: hot-added, not yet acknowledged by the guest.
    public static let insertingFlag: UInt8 = 0x02
    /// FLAGS bit 2: removal requested, not yet acknowledged by the guest.
    public static let removingFlag: UInt8 = 0x04
    /// FLAGS write bit 3: eject.
    public static let ejectFlag: UInt8 = 0x08
    /// FLAGS bit 4: removal handed to the firmware (SMI), set by the guest.
    public static let firmwareRemoveFlag: UInt8 = 0x10

    /// The APIC id of the CPU that can sit here.
    public let apicID: UInt32
    public var isPresent = false
    public var isInserting = false
    public var isRemoving = false
    public var isFirmwareRemoving = false
    /// The last `_OST` source event and status (0 and 0 until the guest reports).
    public var ostEvent: UInt32 = 0
    public var ostStatus: UInt32 = 0

    public init(apicID: UInt32) {
        self.apicID = apicID
    }

    /// The FLAGS byte the guest reads.
    public var flags: UInt8 {
        (isPresent ? Self.enabledFlag : 0) | (isInserting ? Self.insertingFlag : 0)
            | (isRemoving ? Self.removingFlag : 0) | (isFirmwareRemoving ? Self.firmwareRemoveFlag : 0)
    }

    /// Whether the slot has an event for `GET_NEXT_CPU_WITH_EVENT`.
    public var hasEvent: Bool { isInserting || isRemoving || isFirmwareRemoving }
}
