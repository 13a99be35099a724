import QMPWire
import SimulatedMachine
import Testing
import YAMLConfig

#if canImport(Glibc)
    import Glibc
#endif

/// The configuration files in config/ load and build, and bad files name the line and the key.
@Suite struct ConfigurationTests {
    static let configDirectory: String = {
        let file = #filePath
        let tests = file.split(separator: "/").dropLast(3).joined(separator: "/")
        return "/\(tests)/config"
    }()

    static func read(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw MissingValue() }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test(arguments: [
        "default.yaml", "oracle-q35.yaml", "switch-and-catalog.yaml", "pc-shpc.yaml", "objects.yaml", "acpi-q35.yaml",
        "acpi-pc.yaml", "acpi-q35-script.yaml",
    ])
    func exampleLoadsAndBuilds(_ name: String) throws {
        let configuration = try MachineConfiguration.load(yaml: try Self.read("\(Self.configDirectory)/\(name)"))
        let h = try MachineHarness(configuration: configuration)
        #expect(!h.machine.allDevices.isEmpty)
    }

    @Test func defaultFileEqualsEmbeddedDefault() throws {
        let file = try MachineConfiguration.load(yaml: try Self.read("\(Self.configDirectory)/default.yaml"))
        let a = try MachineHarness(configuration: file).machine.queryPCI()
        let b = try MachineHarness(configuration: .standard).machine.queryPCI()
        #expect(a == b)
    }

    @Test func switchPortsAreHotplugSlots() throws {
        let configuration = try MachineConfiguration.load(
            yaml: try Self.read("\(Self.configDirectory)/switch-and-catalog.yaml")
        )
        let h = try MachineHarness(configuration: configuration)
        #expect(try h.machine.slotRegisters(port: "dn2").isHotplugCapable)
        #expect(try h.machine.queryHotplug("nic0")["type"] == "pcie-native")
        #expect(
            h.error { () throws(QMPError) in
                try h.machine.deviceAdd(["driver": "virtio-net-pci", "id": "n2", "bus": "dn2"])
            } == nil
        )
        #expect(
            h.error { () throws(QMPError) in
                try h.machine.deviceAdd(["driver": "xio3130-downstream", "id": "d3", "bus": "up1"])
            } == "Bus 'up1' does not support hotplugging"
        )
        #expect(h.machine.device(id: "nic0")?.property("firmware") == nil)
    }

    @Test func errorsNameLineAndKey() {
        func error(_ text: String) -> String? {
            do {
                let configuration = try MachineConfiguration.load(yaml: text)
                _ = try MachineHarness(configuration: configuration)
                return nil
            } catch let error as MachineConfigurationError {
                return error.description
            } catch {
                return "\(error)"
            }
        }
        #expect(error("machine: q36\n") == "line 1, column 10: unknown machine type 'q36' (expected q35 or pc)")
        #expect(error("machine: q35\nmachin: pc\n")?.hasPrefix("line 2, column 1: unknown key 'machin'") == true)
        #expect(error("devices:\n  - {id: x}\n") == "line 2, column 5: missing required key 'driver'")
        #expect(
            error("devices:\n  - {driver: virtio-net-pci, id: x, bus: nowhere}\n")
                == "line 2: -device virtio-net-pci,id=x: Bus 'nowhere' not found"
        )
        #expect(
            error("devices:\n  - {driver: virtio-net-pci, id: x, bogus: 1}\n")
                == "line 2: -device virtio-net-pci,id=x: Property 'virtio-net-pci.bogus' not found"
        )
    }
}
