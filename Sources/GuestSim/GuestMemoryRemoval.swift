/// What the simulated guest's memory driver does when QEMU asks it to give a DIMM back
/// (`guest: {memory-removal: ...}`).
///
/// Linux offlines the DIMM's memory blocks before it ejects the DIMM; that fails when the blocks hold
/// unmovable pages (kernel allocations, pinned pages, `movable_node` not set), and the guest then
/// reports `_OST(3, 0x82)` (busy) and keeps the DIMM: no eject, no `DEVICE_DELETED`, QEMU does nothing
/// more (`acpi-hotplug.md` §6.3). Stacks must survive that, so a guest can be told to refuse.
public enum GuestMemoryRemoval: String, Sendable, Equatable, CaseIterable {
    /// Offline the memory (after ``GuestLatencies/memoryOffline``), then eject: `_OST(3, 0x84)`, `_EJ0`,
    /// `_OST(3, 0)`. The default.
    case offline
    /// Offlining fails: `_OST(3, 0x84)`, then after ``GuestLatencies/memoryOffline`` `_OST(3, 0x82)`;
    /// the DIMM stays.
    case refuse

    /// The configuration spellings.
    public static var names: [String] { allCases.map(\.rawValue) }
}
