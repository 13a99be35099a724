import QEMUCommandLine
import QMPWire
import SimulatedMachine
import Testing
import YAMLConfig

/// One machine, one code path: libvirt's domain command line and the `--config` file that says the
/// same build the same machine (the same `MachineConfiguration` parts, and machines that answer
/// `query-pci` alike).
@Suite struct SameMachineTests {
    static let commandLine = [
        "-machine", "pc-q35-7.2,usb=off", "-accel", "tcg", "-m", "256", "-smp", "1,sockets=1,cores=1,threads=1",
        "-global", "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off",
        "-netdev", "user,id=hostnet0",
        "-blockdev", #"{"driver":"null-co","node-name":"disk0"}"#,
        "-device",
        #"{"driver":"pcie-root-port","port":8,"chassis":1,"id":"pci.1","bus":"pcie.0","multifunction":true,"addr":"0x1"}"#,
        "-device", #"{"driver":"pcie-root-port","port":9,"chassis":2,"id":"pci.2","bus":"pcie.0","addr":"0x1.0x1"}"#,
        "-device", "virtio-net-pci,id=net0,netdev=hostnet0,bus=pci.1,addr=0x0",
        "-device", "virtio-blk-pci,id=disk0,drive=disk0,bus=pci.2",
    ]

    static let file = """
        machine: q35
        accel: tcg
        memory: {size: 256}
        smp: {cpus: 1, sockets: 1, cores: 1, threads: 1}
        globals: [ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off]
        netdevs: [{type: user, id: hostnet0}]
        blockdevs: [{driver: null-co, node-name: disk0}]
        controllers:
          - {driver: pcie-root-port, port: 8, chassis: 1, id: pci.1, bus: pcie.0, multifunction: true, addr: "0x1"}
          - {driver: pcie-root-port, port: 9, chassis: 2, id: pci.2, bus: pcie.0, addr: "0x1.0x1"}
        devices:
          - {driver: virtio-net-pci, id: net0, netdev: hostnet0, bus: pci.1, addr: "0x0"}
          - {driver: virtio-blk-pci, id: disk0, drive: disk0, bus: pci.2}
        """

    private func machine(_ configuration: MachineConfiguration) throws -> Machine {
        let profile = try #require(QEMUProfile("7.2.0", package: ""))
        let machine = Machine(
            profile: profile,
            machineType: configuration.machineType,
            board: configuration.board
        )
        try machine.coldPlug(configuration)
        return machine
    }

    @Test func commandLineAndFileBuildTheSameMachine() throws {
        guard case .run(let invocation) = try QEMUCommandLine.parse(Self.commandLine) else {
            Issue.record("not a run request")
            return
        }
        let fromCommandLine = invocation.machine
        let fromFile = try MachineConfiguration.load(yaml: Self.file)
        #expect(fromCommandLine.machineType == fromFile.machineType)
        #expect(fromCommandLine.board == fromFile.board)
        #expect(fromCommandLine.devices.map(\.driver) == fromFile.devices.map(\.driver))
        #expect(fromCommandLine.devices.map(\.id) == fromFile.devices.map(\.id))
        #expect(fromCommandLine.blockdevs.map(\.arguments) == fromFile.blockdevs.map(\.arguments))
        #expect(try machine(fromCommandLine).queryPCI() == machine(fromFile).queryPCI())
    }
}
