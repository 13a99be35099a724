import QMPWire
public import SimulatedMachine

/// What `qemu-system-x86_64 -version` and `-help` print: QEMU's version banner for the profile's
/// release (`QEMU emulator version 7.2.0 (qmp-mock 0.1.0)` and its copyright line, the format
/// libvirt and other spawners parse), and a usage text listing the options qmp-mockd reads.
public enum QEMUHelpText {
    /// `-version`'s two lines for `profile`.
    public static func version(_ profile: QEMUProfile) -> String {
        let v = profile.version
        let package = v.package.isEmpty ? "" : " (\(v.package))"
        return "QEMU emulator version \(v.major).\(v.minor).\(v.micro)\(package)\n"
            + "Copyright (c) 2003-\(copyrightYear(v.major, v.minor)) Fabrice Bellard and the QEMU Project developers\n"
    }

    /// The last year of the release's copyright line (QEMU's `QEMU_COPYRIGHT`).
    static func copyrightYear(_ major: Int, _ minor: Int) -> Int {
        switch (major, minor) {
        case (..<8, _): 2022
        case (8, _): 2023
        case (9, _): 2024
        default: 2025
        }
    }

    /// `-help`: the version banner and QEMU's usage line, as QEMU starts its help, then what
    /// qmp-mockd reads.
    public static func help(_ profile: QEMUProfile, program: String) -> String {
        version(profile)
            + """
            usage: \(program) [options] [disk_image]

            qmp-mockd running as \(program): a simulated machine behind QEMU's command line and QMP.
            See docs/qemu-command-line.md. Options read:

            -machine [type=]q35|pc-q35-X.Y|pc|pc-i440fx-X.Y|none[,accel=A[:B]][,memory-backend=ID]
            -accel kvm|tcg    -enable-kvm    -cpu MODEL    -m [size=]N[,slots=N,maxmem=SIZE]
            -smp [cpus=]N[,maxcpus=N,sockets=N,dies=N,cores=N,threads=N]
            -global DRIVER.PROPERTY=VALUE
            -device, -object, -blockdev, -netdev (key=value or JSON), -drive if=none,..., -chardev
            -qmp unix:PATH,server=on,wait=off    -mon chardev=ID,mode=control    -monitor
            -name [guest=]NAME    -uuid UUID    -S    -daemonize    -pidfile FILE
            -no-shutdown    -no-acpi    -msg timestamp=on|off    -version    -help
            Environment: QMP_MOCK_CONFIG=FILE (guest, clock, control socket, qemu-version).

            """
    }
}
