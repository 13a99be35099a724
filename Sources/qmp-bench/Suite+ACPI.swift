#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// The ACPI PCI hot-plug cycle's machine: q35 with QEMU's default board (no `globals:`), so the root
/// port `pci.1`'s bus is served by ACPI hot-plug and the default Linux guest's acpiphp ejects.
extension Suite {
    /// The configuration file's text.
    static let acpiMachine = """
        # qmp-bench: the ACPI PCI hot-plug cycle's machine (QEMU's default board).
        machine: q35
        controllers:
          - {driver: pcie-root-port, id: pci.1, chassis: 1, slot: 1, addr: "0x2"}
        """

    /// Writes `text` to `path` (created or truncated).
    func writeFile(_ path: String, _ text: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BenchError("cannot write \(path)") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw BenchError("cannot write \(path)") }
    }
}
