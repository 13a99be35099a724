/// What a driver instance (a PCIe port, or one SHPC slot) is doing with its controller, as decided by its
/// persona.
enum GuestDriverMode: Equatable {
    /// No persona applied yet.
    case new
    /// ``GuestPersona/manual`` or ``GuestPersona/neverAck``: nothing is read or written.
    case idle
    /// ``GuestPersona/booting(untilNanoseconds:scanTreatsNewDeviceAsRemoval:)`` before the boot completes.
    case booting
    /// A driver persona whose probe has not run yet.
    case probing
    /// A Linux-style driver is in charge.
    case driver
    /// A script persona is in charge.
    case script

    /// The state name for the modes that have no slot state.
    func name(persona: GuestPersona?) -> String? {
        switch self {
        case .new, .probing: "not-probed"
        case .idle: persona?.name ?? "idle"
        case .booting: "booting"
        case .driver, .script: nil
        }
    }
}
