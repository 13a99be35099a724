/// Where one x86 CPU sits in the topology (QEMU's `X86CPUTopoIDs`): the fields its APIC id is made of,
/// and the `socket-id`/`die-id`/`core-id`/`thread-id` properties `device_add` takes.
public struct CPUTopologyIDs: Sendable, Equatable {
    public var socket: Int
    public var die: Int
    public var core: Int
    public var thread: Int

    public init(socket: Int, die: Int, core: Int, thread: Int) {
        self.socket = socket
        self.die = die
        self.core = core
        self.thread = thread
    }
}
