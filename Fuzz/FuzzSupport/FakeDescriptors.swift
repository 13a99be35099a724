/// Fake descriptor numbers for the fuzz targets (fuzz-machine hands them to the machine, fuzz-session's
/// transport to the session): each is handed out once, from 1001 up, and the machine's release hook
/// gives it back; one never handed out, or given back twice, breaks an invariant. Only the fuzzing
/// thread touches it.
public final class FakeDescriptors {
    /// Descriptors handed out since the last ``reset()``.
    public private(set) var handedOut = 0
    /// Descriptors given back, each once.
    public private(set) var released: Set<Int32> = []
    private var next: Int32 = 1000

    public init() {}

    /// A new descriptor number.
    public func take() -> Int32 {
        next += 1
        handedOut += 1
        return next
    }

    /// The machine's release hook: `fd` must have been handed out and not given back yet.
    public func release(_ fd: Int32) {
        require(fd > 1000 && fd <= next, "released descriptor \(fd) was never handed out")
        require(released.insert(fd).inserted, "descriptor \(fd) released twice")
    }

    /// Starts again from 1001, for the next input.
    public func reset() {
        next = 1000
        handedOut = 0
        released.removeAll(keepingCapacity: true)
    }

    /// The accounting invariant: every descriptor handed out was given back or is `held` (the
    /// machine's ``count``); `when` names the moment in the message.
    public func requireBalanced(held: Int, _ when: String = "") {
        require(
            handedOut == released.count + held,
            "descriptors\(when): handed out \(handedOut), released \(released.count), held \(held)"
        )
    }
}
