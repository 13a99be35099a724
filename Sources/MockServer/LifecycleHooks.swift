/// What the daemon tells its service manager, injected by the executable (libsystemd there,
/// nothing in tests), so the server layer does not depend on systemd.
public struct LifecycleHooks: Sendable {
    /// Every socket listens and signals are armed (`READY=1`).
    public var ready: @Sendable () -> Void
    /// Shutdown began (`STOPPING=1`).
    public var stopping: @Sendable () -> Void

    public init(ready: @escaping @Sendable () -> Void = {}, stopping: @escaping @Sendable () -> Void = {}) {
        self.ready = ready
        self.stopping = stopping
    }
}
