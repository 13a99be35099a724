public import QMPWire

/// The simulated virtual machine: its run state and (from the next milestone on) its PCI device
/// tree. Pure and deterministic; events leave through ``sink``. Confined to one thread by its owner.
public final class Machine {
    /// The QEMU release being played.
    public let profile: QEMUProfile
    /// The VM name (`-name`), if any.
    public let name: String?
    /// The current run state.
    public private(set) var runState: RunState
    /// Receives the events the machine raises.
    public weak var sink: (any MachineEventSink)?

    /// - Parameters:
    ///   - profile: the QEMU release to play.
    ///   - name: the VM name (`query-name`).
    ///   - startPaused: start in `prelaunch`, like QEMU's `-S`.
    public init(profile: QEMUProfile, name: String? = nil, startPaused: Bool = false) {
        self.profile = profile
        self.name = name
        self.runState = startPaused ? .prelaunch : .running
    }

    private func emit(_ event: MachineEvent) { sink?.emit(event) }

    /// `stop`: a running VM becomes `paused` and raises `STOP`; otherwise nothing happens (QEMU's `vm_stop`).
    public func stop() {
        guard runState.isRunning else { return }
        runState = .paused
        emit(MachineEvent("STOP"))
    }

    /// `cont`: QEMU's `qmp_cont` rules, raising `RESUME` when the VM starts.
    public func cont() throws(QMPError) {
        if runState.needsReset { throw .generic("Resetting the Virtual Machine is required") }
        switch runState {
        case .suspended, .running: return
        case .finishMigrate: throw .generic("Migration is not finalized yet")
        default:
            runState = .running
            emit(MachineEvent("RESUME"))
        }
    }

    /// `query-status`: `StatusInfo` in QEMU's member order.
    public func statusInfo() -> JSONObject {
        var info = JSONObject()
        info.append("running", .bool(runState.isRunning))
        if profile.statusHasSingleStep { info.append("singlestep", .bool(false)) }
        info.append("status", .string(runState.rawValue))
        return info
    }
}
