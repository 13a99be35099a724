/// A persona chosen for one controller, or for one slot of an SHPC bridge (a `guest.slots` entry of the
/// configuration, or a control-plane `guest-set-persona` with `controller`).
///
/// Lets one test mix behaviours on one machine: a never-acknowledging port next to a Linux one, a slow SHPC
/// slot beside fast ones.
public struct GuestPersonaAssignment: Sendable, Equatable {
    /// The controller's id (`pci.2`) or QOM path.
    public var controller: String
    /// The SHPC slot (1...31), or nil for the whole controller.
    public var slot: Int?
    /// The persona.
    public var persona: GuestPersona

    /// Makes an assignment.
    public init(controller: String, slot: Int? = nil, persona: GuestPersona) {
        self.controller = controller
        self.slot = slot
        self.persona = persona
    }
}
