/// The options of `qemu-system-x86_64` that qmp-mockd reads: those that shape the machine or the
/// process, and those accepted and ignored (display, firmware, timing and sandbox settings a
/// simulated machine has no use for). Any other option is QEMU's `invalid option`.
enum QEMUOption: Equatable {
    case help, version
    case machine, accel, enableKVM, cpu, memory, smp, global
    case device, object, blockdev, netdev, chardev, drive
    case qmp, mon, monitor
    case name, uuid, startPaused, daemonize, pidfile, noShutdown, noACPI, msg
    /// Read and ignored; the flag says whether it takes an argument.
    case ignored(takesArgument: Bool)

    /// The option named `name` (without its leading dashes); nil when QEMU has no such option, or
    /// qmp-mockd does not accept it.
    init?(_ name: String) {
        switch name {
        case "h", "help": self = .help
        case "version": self = .version
        case "machine", "M": self = .machine
        case "accel": self = .accel
        case "enable-kvm": self = .enableKVM
        case "cpu": self = .cpu
        case "m": self = .memory
        case "smp": self = .smp
        case "global": self = .global
        case "device": self = .device
        case "object": self = .object
        case "blockdev": self = .blockdev
        case "netdev": self = .netdev
        case "chardev": self = .chardev
        case "drive": self = .drive
        case "qmp": self = .qmp
        case "mon": self = .mon
        case "monitor": self = .monitor
        case "name": self = .name
        case "uuid": self = .uuid
        case "S": self = .startPaused
        case "daemonize": self = .daemonize
        case "pidfile": self = .pidfile
        case "no-shutdown": self = .noShutdown
        case "no-acpi": self = .noACPI
        case "msg": self = .msg
        case "no-user-config", "nodefaults", "nographic", "no-hpet", "no-reboot", "enable-fips", "qmp-pretty",
            "snapshot", "full-screen", "no-fd-bootchk", "no-frame", "no-quit", "only-migratable", "preconfig",
            "mem-prealloc":
            self = .ignored(takesArgument: false)
        case "display", "rtc", "boot", "overcommit", "sandbox", "audiodev", "vga", "serial", "parallel", "k",
            "smbios", "fw_cfg", "bios", "L", "D", "d", "trace", "vnc", "spice", "numa", "iothread", "watchdog-action",
            "action", "add-fd", "set", "icount", "seed", "usbdevice", "chroot", "runas", "run-with", "debugcon",
            "mem-path", "option-rom", "device-tree", "semihosting-config":
            self = .ignored(takesArgument: true)
        default: return nil
        }
    }

    /// Whether the option reads the next word as its argument.
    var takesArgument: Bool {
        switch self {
        case .help, .version, .enableKVM, .startPaused, .daemonize, .noShutdown, .noACPI: false
        case .ignored(let takesArgument): takesArgument
        default: true
        }
    }
}
