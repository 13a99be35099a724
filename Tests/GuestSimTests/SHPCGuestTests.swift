import GuestSim
import QMPWire
import SimulatedMachine
import Testing

/// The Linux shpchp guest on the pcie-pci-bridge pci.7, slot 3 (hotplug-semantics.md §3.7).
@Suite struct SHPCGuestTests {
    @Test func probeUnmasksSlotEventsAndControllerInterrupts() throws {
        let h = try GuestHarness()
        let shpc = try h.shpc()
        #expect(shpc.eventMask(3) == 0x60)
        #expect(shpc.serrIntEnable == 0xA)  // global and command interrupts unmasked, SERR masked
        #expect(shpc.interruptLocator == 0)
    }

    @Test func hotAddEnablesTheSlotAfterTheButtonWindow() throws {
        let h = try GuestHarness()
        #expect(h.add(rng("hp3", bus: "pci.7", addr: "3")) == nil)
        var shpc = try h.shpc()
        #expect(shpc.powerLED(3) == .blinking)
        #expect(shpc.attentionLED(3) == .off)
        #expect(shpc.eventLatch(3) == 0)  // BUTTON|MRL|PRESENCE acknowledged
        #expect(h.guest.state(controller: "pci.7", slot: 3) == "blinking-on")
        #expect(h.del("hp3") == "Hot-unplug failed: guest is busy (power indicator blinking)")
        h.advance(ms: 5_000)
        shpc = try h.shpc()
        #expect(shpc.slotState(3) == .enabled)
        #expect(shpc.powerLED(3) == .blinking)
        #expect(h.guest.state(controller: "pci.7", slot: 3) == "powering-on")
        #expect(h.takeEvents() == [])
        h.advance(ms: 999)
        #expect(h.takeEvents() == [])
        h.advance(ms: 1)
        #expect(h.takeEvents() == ["X_DEVICE_ON hp3@6000"])
        shpc = try h.shpc()
        #expect(shpc.powerLED(3) == .on)
        #expect(shpc.interruptLocator == 0)
        #expect(h.guest.state(controller: "pci.7", slot: 3) == "on")
    }

    @Test func removalDisablesTheSlotAfterTheButtonWindow() throws {
        let h = try GuestHarness()
        _ = h.add(rng("hp3", bus: "pci.7", addr: "3"))
        h.advance(ms: 6_000)
        _ = h.takeEvents()
        #expect(h.del("hp3") == nil)
        #expect(h.guest.state(controller: "pci.7", slot: 3) == "blinking-off")
        #expect(try h.shpc().powerLED(3) == .blinking)
        h.advance(ms: 2_000)
        #expect(h.del("hp3") == "Hot-unplug failed: guest is busy (power indicator blinking)")
        h.advance(ms: 2_999)
        #expect(h.takeEvents() == [])
        h.advance(ms: 1)
        #expect(h.takeEvents() == deleted("hp3", at: "11000"))
        let shpc = try h.shpc()
        #expect(shpc.slotState(3) == .disabled)
        #expect(shpc.powerLED(3) == .off)
        #expect(shpc.attentionLED(3) == .off)  // attention on with the disable, off right after
        #expect(shpc.isMRLOpen(3))
        #expect(shpc.eventLatch(3) == 0)  // MRL|PRESENCE of the removal acknowledged
        #expect(h.guest.state(controller: "pci.7", slot: 3) == "off")
    }

    @Test func secondPressWithinTheWindowCancelsOnQEMU7() throws {
        // 7.2 has no blink check for SHPC: a repeated device_del reaches Linux, which cancels.
        let h = try GuestHarness(version: "7.2.0")
        _ = h.add(rng("hp3", bus: "pci.7", addr: "3"))
        h.advance(ms: 6_000)
        #expect(h.takeEvents() == [])  // 7.2 ignores power-only -> enabled: the slot stays power-only
        #expect(h.guest.state(controller: "pci.7", slot: 3) == "power-only")
        #expect(h.del("hp3") == nil)
        h.advance(ms: 2_000)
        #expect(h.del("hp3") == nil)
        #expect(h.guest.state(controller: "pci.7", slot: 3) == "power-only")
        #expect(try h.shpc().powerLED(3) == .on)
        h.advance(ms: 60_000)
        #expect(h.takeEvents() == [])
        #expect(h.del("hp3") == nil)
        h.advance(ms: 5_000)
        #expect(h.takeEvents() == deleted("hp3", at: "73000"))
    }

    @Test func twoSlotsWorkIndependently() throws {
        let h = try GuestHarness()
        _ = h.add(rng("a", bus: "pci.7", addr: "3"))
        h.advance(ms: 1_000)
        _ = h.add(rng("b", bus: "pci.7", addr: "5"))
        h.advance(ms: 6_000)
        #expect(h.takeEvents() == ["X_DEVICE_ON a@6000", "X_DEVICE_ON b@7000"])
    }

    @Test func neverAckSlotDoesNotBlockItsNeighbours() throws {
        let h = try GuestHarness()
        #expect(h.setPersona(.neverAck, controller: "pci.7", slot: 3) == nil)
        #expect(try h.shpc().eventMask(3) == 0x7F)
        _ = h.add(rng("a", bus: "pci.7", addr: "3"))
        _ = h.add(rng("b", bus: "pci.7", addr: "4"))
        h.advance(ms: 6_000)
        #expect(h.takeEvents() == ["X_DEVICE_ON b@6000"])
        let shpc = try h.shpc()
        #expect(shpc.eventLatch(3) == 0x0D)  // BUTTON|MRL|PRESENCE still latched
        #expect(shpc.slotState(3) == .disabled)
        #expect(h.guest.state(controller: "pci.7", slot: 3) == "never-ack")
    }

    @Test func scriptOnAnSHPCSlot() throws {
        let h = try GuestHarness()
        let steps: [GuestScriptStep] = [
            .waitFor(.presence), .acknowledgeEvents, .shpcCommand(code: 0x01), .shpcCommand(code: 0x3A),
            .wait(1_000_000_000), .shpcCommand(code: 0x04),
        ]
        #expect(h.setPersona(.script(steps), controller: "pci.7", slot: 3) == nil)
        #expect(h.guest.state(controller: "pci.7", slot: 3) == "script-waiting")
        h.advance(ms: 500)
        _ = h.add(rng("hp3", bus: "pci.7", addr: "3"))
        #expect(h.guest.state(controller: "pci.7", slot: 3) == "script-step-5")
        #expect(try h.shpc().eventLatch(3) == 0)
        h.advance(ms: 1_000)
        #expect(h.takeEvents() == ["X_DEVICE_ON hp3@1500"])
        #expect(h.guest.state(controller: "pci.7", slot: 3) == "script-done")
        // The script ran once: a removal request is left alone.
        #expect(h.del("hp3") == nil)
        h.advance(ms: 30_000)
        #expect(h.takeEvents() == [])
    }
}
