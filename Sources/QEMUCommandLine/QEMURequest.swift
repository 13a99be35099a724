/// What a QEMU command line asks for: run a machine, or print QEMU's help or version text and exit
/// 0 (`-help`, `-version`), as `qemu-system-x86_64` does at the moment it reads those options.
public enum QEMURequest: Sendable {
    /// Start the machine the command line describes.
    case run(QEMUInvocation)
    /// `-help` / `-h`.
    case help
    /// `-version`.
    case version
}
