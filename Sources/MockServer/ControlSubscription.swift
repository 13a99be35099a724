/// The control events a control session asked for with `subscribe-events`, beyond
/// `GUEST_REGISTER_WRITE` (which every control session receives).
///
/// They are opt-in so that a control session that did not ask sees exactly the lines it saw before
/// they existed (tests assert control-socket sequences; `qmp-bench cycle-server` replays them), and
/// so that the daemon renders none of them while no session subscribed: ``ServerCore`` keeps a count
/// of subscribed sessions and checks only that integer on its hot paths. `qmp-mockctl watch` is
/// their first user: it learns from them that the machine changed without opening a QMP monitor
/// (which, exclusive, would be taken from the stack under test).
public struct ControlSubscription: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `MONITOR_EVENT {event, data?}`: a copy of every event raised for the QMP monitors, whether
    /// or not a monitor is connected.
    public static let monitorEvents = ControlSubscription(rawValue: 1 << 0)
    /// `MONITOR_COMMAND {command, arguments?, session}`: a monitor command that succeeded (command
    /// mode), after its reply: `device_add` and `device_del` change slots without any QMP event.
    public static let monitorCommands = ControlSubscription(rawValue: 1 << 1)
    /// `CLOCK_ADVANCED {now-ns}`: the manual clock moved (`clock-advance`, from any control session).
    public static let clockAdvances = ControlSubscription(rawValue: 1 << 2)

    /// Every subscription with its event name, in the order `subscribe-events` reports them.
    public static let events: [(name: String, subscription: ControlSubscription)] = [
        ("MONITOR_EVENT", .monitorEvents),
        ("MONITOR_COMMAND", .monitorCommands),
        ("CLOCK_ADVANCED", .clockAdvances),
    ]

    /// The subscription of an event name, or nil for a name that is not an opt-in control event.
    public init?(eventName: String) {
        guard let entry = Self.events.first(where: { $0.name == eventName }) else { return nil }
        self = entry.subscription
    }

    /// The event names this set holds, in ``events`` order.
    public var eventNames: [String] { Self.events.filter { contains($0.subscription) }.map(\.name) }
}
