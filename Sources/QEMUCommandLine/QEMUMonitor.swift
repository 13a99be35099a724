/// A monitor a QEMU command line asks for on a Unix socket: QMP (`-qmp unix:PATH,server=on,wait=off`,
/// or `-mon chardev=ID,mode=control` over `-chardev socket,id=ID,path=PATH` or `fd=N`: libvirt passes
/// its monitor socket already listening, as descriptor N), or a human monitor (`-monitor
/// unix:PATH,...`, `-mon chardev=ID[,mode=readline]`). The daemon listens on the path, or accepts on
/// the inherited socket.
public struct QEMUMonitor: Sendable, Equatable {
    /// Where the monitor listens.
    public enum Socket: Sendable, Equatable {
        /// A Unix socket path the daemon creates (and removes at exit).
        case path(String)
        /// An inherited listening socket (`-chardev socket,fd=N`).
        case descriptor(Int32)
    }

    /// The chardev's id (`charmonitor`; `compat_monitorN` for `-qmp`, as QEMU names them).
    public var chardev: String
    public var socket: Socket
    /// A human monitor (HMP text with QEMU's line editing) rather than QMP.
    public var isHuman: Bool
    /// The option that named the socket, as written (`-chardev socket,id=charmonitor,fd=21,...`),
    /// for errors about the socket.
    public var option: String

    /// Makes a monitor.
    public init(chardev: String, socket: Socket, option: String, isHuman: Bool = false) {
        self.chardev = chardev
        self.socket = socket
        self.option = option
        self.isHuman = isHuman
    }
}
