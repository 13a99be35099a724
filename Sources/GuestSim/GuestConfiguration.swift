/// What the simulated guest OS is: its default persona, the personas of particular controllers and SHPC
/// slots, and its latencies. Read from the `guest:` section of the YAML configuration (``load(from:)``) or
/// built in code.
///
/// A machine-wide persona, a controller's or a slot's: the most specific one applies (slot, then controller,
/// then ``persona``); among several for the same place, the last one.
public struct GuestConfiguration: Sendable, Equatable {
    /// The persona of every controller that has no assignment (default ``GuestPersona/linux``).
    public var persona: GuestPersona
    /// The driver latencies (Linux's by default); ``GuestPersona/slow(factor:)`` scales them.
    public var latencies: GuestLatencies
    /// Personas of particular controllers and SHPC slots, in the order given.
    public var assignments: [GuestPersonaAssignment]
    /// The guest cannot offline CPUs (`refuse-cpu-offline: true`): every CPU removal ends with
    /// `_OST(3, 0x82)` (busy) and no eject (``ACPIProcessorDriver``).
    public var refusesCPUOffline = false
    /// What the memory driver does with a DIMM removal request (`memory-removal`; default: offline and eject).
    public var memoryRemoval: GuestMemoryRemoval = .offline

    /// A configuration; the default is a Linux guest everywhere.
    public init(
        persona: GuestPersona = .linux,
        latencies: GuestLatencies = GuestLatencies(),
        assignments: [GuestPersonaAssignment] = []
    ) {
        self.persona = persona
        self.latencies = latencies
        self.assignments = assignments
    }

    /// The persona of a controller (named by any of `names`: its id and its QOM path), or of one of its SHPC
    /// slots.
    /// - Parameters:
    ///   - names: the names the controller answers to.
    ///   - slot: an SHPC slot, or nil for the controller itself.
    public func persona(names: [String], slot: Int?) -> GuestPersona {
        if let slot, let match = assignments.last(where: { names.contains($0.controller) && $0.slot == slot }) {
            return match.persona
        }
        if let match = assignments.last(where: { names.contains($0.controller) && $0.slot == nil }) {
            return match.persona
        }
        return persona
    }

    /// Sets a persona machine-wide (`controller` nil), for a controller, or for one SHPC slot. A broader
    /// setting replaces the narrower ones beneath it: machine-wide drops every assignment, a controller's
    /// drops its slots' assignments.
    /// - Parameters:
    ///   - persona: the persona.
    ///   - controller: the controller's names (id and QOM path); the first is recorded. Empty: machine-wide.
    ///   - slot: an SHPC slot, or nil.
    public mutating func setPersona(_ persona: GuestPersona, controller names: [String], slot: Int?) {
        guard let name = names.first else {
            self.persona = persona
            assignments.removeAll()
            return
        }
        if let slot {
            assignments.removeAll { names.contains($0.controller) && $0.slot == slot }
        } else {
            assignments.removeAll { names.contains($0.controller) }
        }
        assignments.append(GuestPersonaAssignment(controller: name, slot: slot, persona: persona))
    }
}
