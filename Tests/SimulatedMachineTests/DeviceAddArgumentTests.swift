import QMPWire
import SimulatedMachine
import Testing

/// How `device_add` reads its arguments in each profile (facts from real QEMU 7.2.22 and 10.0.2, also
/// compared by `conformance/scenarios/device-add-argument-types.yaml`).
@Suite struct DeviceAddArgumentTests {
    static let cases: [(version: String, arguments: String, error: String?)] = [
        // Until 9.2, QemuOpts: scalars become text, arrays / objects / null vanish.
        ("7.2.0", #"{"driver": 5, "bus": "rp1"}"#, "'5' is not a valid device model name"),
        ("7.2.0", #"{"driver": true, "bus": "rp1"}"#, "'on' is not a valid device model name"),
        ("7.2.0", #"{"driver": [1], "bus": "rp1"}"#, "Parameter 'driver' is missing"),
        ("7.2.0", #"{"driver": "virtio-rng-pci", "bus": null}"#, "Bus 'pcie.0' does not support hotplugging"),
        ("7.2.0", #"{"driver": "virtio-rng-pci", "bus": 7}"#, "Bus '7' not found"),
        ("7.2.0", #"{"driver": "virtio-net-pci", "bus": "rp1", "mac": [1]}"#, nil),
        (
            "7.2.0", #"{"driver": "pci-testdev", "bus": "pb1", "addr": 56}"#,
            "Property 'pci-testdev.addr' doesn't take value '56'"
        ),
        ("7.2.0", #"{"driver": "pci-testdev", "bus": "pb1", "addr": 5}"#, nil),
        ("7.2.0", #"{"driver": "pci-testdev", "bus": "pb1", "addr": "5", "membar": "1k"}"#, nil),
        (
            "7.2.0", #"{"driver": "pci-testdev", "bus": "pb1", "addr": "5", "membar": 1.5}"#,
            "Parameter 'membar' expects size"
        ),
        (
            "7.2.0", #"{"driver": "pci-testdev", "bus": "pb1", "addr": "5", "membar": -1}"#,
            "Parameter 'membar' expects size"
        ),
        ("7.2.0", #"{"driver": "pci-testdev", "bus": "pb1", "addr": "5", "multifunction": "on"}"#, nil),
        (
            "7.2.0", #"{"driver": "virtio-net-pci", "bus": "rp1", "mac": "52:54:00:12:34:5g"}"#,
            "Property 'virtio-net-device.mac' doesn't take value '52:54:00:12:34:5g'"
        ),
        (
            "7.2.0", #"{"driver": "e1000", "bus": "pb1", "addr": "1", "mac": "52.54.00.12.34.56"}"#,
            "Property 'e1000.mac' doesn't take value '52.54.00.12.34.56'"
        ),
        ("7.2.0", #"{"driver": "e1000", "bus": "pb1", "addr": "1", "mac": "52-54-00-ab-CD-ef"}"#, nil),
        ("7.2.0", #"{"driver": "virtio-blk-pci", "bus": "rp1"}"#, "drive property not set"),
        ("7.2.0", #"{"driver": "nvme", "bus": "rp1"}"#, "serial property not set"),
        // Since 9.2 the QAPI visitor keeps JSON types.
        ("10.0.0", #"{"driver": 5, "bus": "rp1"}"#, "Parameter 'driver' is missing"),
        ("10.0.0", #"{"driver": "virtio-rng-pci", "bus": true}"#, "Bus 'pcie.0' does not support hotplugging"),
        (
            "10.0.0", #"{"driver": "virtio-net-pci", "bus": "rp1", "mac": 5}"#,
            "Invalid parameter type for 'mac', expected: string"
        ),
        (
            "10.0.0", #"{"driver": "virtio-net-pci", "bus": "rp1", "addr": {}}"#,
            "Invalid parameter type for 'addr', expected int or str"
        ),
        (
            "10.0.0", #"{"driver": "pci-testdev", "bus": "pb1", "addr": "5", "multifunction": "on"}"#,
            "Invalid parameter type for 'multifunction', expected: boolean"
        ),
        (
            "10.0.0", #"{"driver": "pci-testdev", "bus": "pb1", "addr": "5", "membar": "4096"}"#,
            "Parameter 'membar' expects uint64"
        ),
        (
            "10.0.0", #"{"driver": "pci-bridge", "bus": "pb1", "addr": "5", "chassis_nr": "3"}"#,
            "Parameter 'chassis_nr' expects uint64"
        ),
        (
            "10.0.0", #"{"driver": "pci-bridge", "bus": "pb1", "addr": "5", "chassis_nr": 300}"#,
            "Parameter 'chassis_nr' expects uint8_t"
        ),
        ("10.0.0", #"{"driver": "pci-testdev", "bus": "pb1", "addr": 40}"#, nil),
    ]

    @Test(arguments: cases.indices)
    func deviceAdd(_ index: Int) throws {
        let c = Self.cases[index]
        let h = try MachineHarness(version: c.version)
        var arguments = try #require(JSONValue(parsing: c.arguments)?.objectValue)
        arguments.append("id", .string("t"))
        let machine = h.machine
        let error = h.error { () throws(QMPError) in try machine.deviceAdd(arguments) }
        #expect(error == c.error, "\(c.version) \(c.arguments)")
    }

    @Test func sizesAndMACAddresses() {
        #expect(Machine.parseSize("4096") == 4096)
        #expect(Machine.parseSize("1k") == 1024)
        #expect(Machine.parseSize("1.5M") == 1_572_864)
        #expect(Machine.parseSize("2g") == 2 << 30)
        #expect(Machine.parseSize("1.5") == nil)
        #expect(Machine.parseSize("-1") == nil)
        #expect(Machine.parseSize("k") == nil)
        #expect(Machine.parseSize("16E") == nil)
        #expect(Machine.isMACAddress("52:54:00:ab:CD:ef"))
        #expect(Machine.isMACAddress("52-54-00-12-34-56"))
        #expect(!Machine.isMACAddress("52:54:00:12:34:5"))
        #expect(!Machine.isMACAddress("52:54:00:12:34:5g"))
        #expect(!Machine.isMACAddress("52.54.00.12.34.56"))
    }

}
