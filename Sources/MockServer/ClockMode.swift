public import SimulatedMachine

/// How the machine's time source moves (`--clock`).
public enum ClockMode: Sendable {
    /// Host monotonic time, scaled (`--time-scale`: 2 runs the guest twice as fast).
    case realtime(scale: Double)
    /// Time moves only when the control plane says (`clock-advance`).
    case manual(ManualHostClock)

    public var name: String {
        switch self {
        case .realtime: return "realtime"
        case .manual: return "manual"
        }
    }
}
