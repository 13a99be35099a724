import SimulatedMachine
import Testing

@Suite struct MachineRunStateTests {
    final class Events: MachineEventSink {
        var names: [String] = []
        func emit(_ event: MachineEvent) { names.append(event.name) }
    }

    @Test func stopAndCont() throws {
        let machine = Machine(profile: try #require(QEMUProfile("8.2.0", package: "")))
        let events = Events()
        machine.sink = events
        machine.stop()
        machine.stop()
        try machine.cont()
        try machine.cont()
        #expect(events.names == ["STOP", "RESUME"])
        #expect(machine.runState == .running)
    }
}
