public import QMPWire

/// The whole picture `watch` draws, read from one `machine-state` reply: the VM's name, run state,
/// virtual time and clock mode, and every hot-plug slot in the daemon's order (controllers in
/// topology order, SHPC slots ascending).
public struct MachineSnapshot: Sendable, Equatable {
    /// The VM name (`--name`), when it has one.
    public var name: String?
    /// `running`, `paused`, `prelaunch`, ...
    public var runState: String
    /// Virtual time when the daemon answered.
    public var nowNanoseconds: Int64
    /// `manual` or `realtime`.
    public var clock: String
    public var slots: [SlotView]

    public init(name: String? = nil, runState: String, nowNanoseconds: Int64, clock: String, slots: [SlotView]) {
        self.name = name
        self.runState = runState
        self.nowNanoseconds = nowNanoseconds
        self.clock = clock
        self.slots = slots
    }

    /// Reads a `machine-state` reply; nil when it is not one (no `run-state`).
    public init?(state: JSONValue) {
        guard let object = state.objectValue, let runState = object["run-state"]?.stringValue else { return nil }
        let devices = (object["devices"]?.arrayValue ?? []).compactMap(\.objectValue)
        self.init(
            name: object["name"]?.stringValue,
            runState: runState,
            nowNanoseconds: object["now-ns"]?.int64Value ?? 0,
            clock: object["clock"]?.stringValue ?? "realtime",
            slots: (object["slots"]?.arrayValue ?? []).compactMap {
                $0.objectValue.flatMap { SlotView(slot: $0, devices: devices) }
            }
        )
    }

    /// Whether virtual time moves by itself (realtime clock, VM running): only then does a
    /// terminal view tick between events to count pending unplugs down.
    public var timeFlows: Bool { clock == "realtime" && runState == "running" }

    /// The snapshot as it stands `elapsed` virtual nanoseconds later, with no event in between:
    /// time moved on and every pending unplug counted down (gone once it reaches zero, as
    /// `machine-state` leaves it out).
    public func advanced(by elapsed: Int64) -> MachineSnapshot {
        guard elapsed > 0 else { return self }
        var later = self
        later.nowNanoseconds += elapsed
        for index in later.slots.indices {
            if let pending = later.slots[index].pendingNanoseconds {
                later.slots[index].pendingNanoseconds = pending > elapsed ? pending - elapsed : nil
            }
        }
        return later
    }
}
