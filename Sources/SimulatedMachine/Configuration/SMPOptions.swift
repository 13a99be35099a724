/// QEMU's `-smp` option as written (`cpus`, `maxcpus`, `sockets`, `dies`, `cores`, `threads`), each nil
/// when not given. The machine derives the CPU topology from it with QEMU's rules for the omitted
/// values; an absent option is `-smp 1`.
public struct SMPOptions: Sendable, Equatable {
    /// CPUs present at start (`cpus`, default 1, or the product of the topology).
    public var cpus: Int?
    /// Possible CPUs (`maxcpus`, default `cpus`).
    public var maxcpus: Int?
    public var sockets: Int?
    public var dies: Int?
    public var cores: Int?
    public var threads: Int?

    /// Makes the option; every value not given is nil.
    public init(
        cpus: Int? = nil,
        maxcpus: Int? = nil,
        sockets: Int? = nil,
        dies: Int? = nil,
        cores: Int? = nil,
        threads: Int? = nil
    ) {
        self.cpus = cpus
        self.maxcpus = maxcpus
        self.sockets = sockets
        self.dies = dies
        self.cores = cores
        self.threads = threads
    }
}
