import QMPWire
import SimulatedMachine
import Testing

/// ``Machine/controllers`` is cached by ``Machine/controllerGeneration``, which endpoints leave alone
/// and controllers (or anything that carries a bus) move on.
@Suite struct ControllerGenerationTests {
    @Test func endpointsKeepTheGenerationBridgesMoveIt() throws {
        let harness = try MachineHarness()
        let machine = harness.machine
        let before = machine.controllers.map(\.path)
        let generation = machine.controllerGeneration
        try machine.deviceAdd(JSONObject([("driver", "virtio-net-pci"), ("id", "net0"), ("bus", "rp1")]))
        #expect(machine.controllerGeneration == generation)
        #expect(machine.controllers.map(\.path) == before)
        try machine.deviceAdd(
            JSONObject([("driver", "pci-bridge"), ("id", "pb2"), ("bus", "pb1"), ("addr", "3"), ("chassis_nr", "7")])
        )
        #expect(machine.controllerGeneration != generation)
        // In topology order: behind pb1.
        var expected = before
        expected.insert("/machine/peripheral/pb2", at: (before.firstIndex(of: "/machine/peripheral/pb1") ?? 0) + 1)
        #expect(machine.controllers.map(\.path) == expected)
    }
}
