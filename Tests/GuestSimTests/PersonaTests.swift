import GuestSim
import QMPWire
import SimulatedMachine
import Testing

/// The personas management stacks rehearse against (users.md §4).
@Suite struct PersonaTests {
    // MARK: never-ack

    @Test func neverAckLeavesAHotAddedCardUnpowered() throws {
        let h = try GuestHarness(configuration: GuestConfiguration(persona: .neverAck))
        #expect(try h.slotControl("pci.1") == 0x7C0)  // not even probed
        #expect(h.add(rng("hp1", bus: "pci.1")) == nil)
        h.advance(ms: 60_000)
        #expect(h.takeEvents() == [])
        #expect(try h.slotStatus("pci.1") == 0x49)  // PDS, PDC and ABP as QEMU left them
        #expect(try !h.deviceOn("hp1"))
        #expect(h.guest.state(controller: "pci.1") == "never-ack")
        // The slot was never powered: QEMU empties it at once.
        #expect(h.del("hp1") == nil)
        #expect(h.takeEvents() == deleted("hp1", at: "60000"))
    }

    @Test func neverAckIgnoresRemovalRequestsAndRetries() throws {
        let h = try GuestHarness(configuration: GuestConfiguration(persona: .neverAck))
        #expect(h.del("virtio-disk0") == nil)
        #expect(try h.slotStatus("pci.8") & 0x1 == 0x1)  // attention button latched
        h.advance(ms: 2_000)
        #expect(h.del("virtio-disk0") == "Device virtio-disk0 is already in the process of unplug")
        h.advance(ms: 3_000)
        #expect(h.del("virtio-disk0") == nil)  // presses again
        h.advance(ms: 60_000)
        #expect(h.takeEvents() == [])
        #expect(h.machine.device(id: "virtio-disk0") != nil)
    }

    // MARK: run-time switches

    @Test func switchingPersonaAtRunTime() throws {
        let h = try GuestHarness()
        #expect(h.setPersona(.neverAck, controller: "pci.1") == nil)
        _ = h.add(rng("hp1", bus: "pci.1"))
        h.advance(ms: 10_000)
        #expect(h.takeEvents() == [])
        #expect(h.guest.state(controller: "pci.1") == "never-ack")
        // Linux takes over: its probe finds the card and brings it up.
        #expect(h.setPersona(.linux, controller: "pci.1") == nil)
        #expect(h.guest.persona(controller: "pci.1") == .linux)
        h.advance(ms: 100)
        #expect(h.takeEvents() == ["X_DEVICE_ON hp1@10100"])
        // A removal under way is abandoned when the persona changes: nothing fires any more.
        #expect(h.del("hp1") == nil)
        h.advance(ms: 1_000)
        #expect(h.setPersona(.manual, controller: "pci.1") == nil)
        h.advance(ms: 60_000)
        #expect(h.takeEvents() == [])
        #expect(h.guest.state(controller: "pci.1") == "manual")
        #expect(h.del("hp1") == "Hot-unplug failed: guest is busy (power indicator blinking)")
        // Linux again: the probe settles the blinking indicator, and a new request goes through.
        #expect(h.setPersona(.linux, controller: "pci.1") == nil)
        #expect(try h.slotControl("pci.1") & 0x3C0 == 0x1C0)
        #expect(h.guest.state(controller: "pci.1") == "on")
        #expect(h.del("hp1") == nil)
        h.advance(ms: 6_000)
        #expect(h.takeEvents() == deleted("hp1", at: "77100"))
    }

    @Test func abandonedHotAddIsSettledByTheNextDriver() throws {
        let h = try GuestHarness()
        // PCIe: abandoned while waiting for the link (powered, indicator blinking): the next driver finds a
        // powered card and turns the indicator on.
        _ = h.add(rng("hp1", bus: "pci.1"))
        #expect(h.setPersona(.neverAck, controller: "pci.1") == nil)
        h.advance(ms: 1_000)
        #expect(h.takeEvents() == [])
        #expect(h.setPersona(.linux, controller: "pci.1") == nil)
        #expect(h.takeEvents() == ["X_DEVICE_ON hp1@1000"])
        // SHPC: abandoned in the button window (disabled, LED blinking): shpchp turns the LED off, which makes
        // the slot "off" for QEMU (8.0+), so QEMU frees it, as when Linux cancels a hot-add.
        _ = h.add(rng("hp3", bus: "pci.7", addr: "3"))
        #expect(h.setPersona(.manual, controller: "pci.7", slot: 3) == nil)
        h.advance(ms: 10_000)
        #expect(try h.shpc().powerLED(3) == .blinking)
        #expect(h.takeEvents() == [])
        #expect(h.setPersona(.linux, controller: "pci.7", slot: 3) == nil)
        #expect(try h.shpc().powerLED(3) == .off)
        #expect(h.guest.state(controller: "pci.7", slot: 3) == "off")
        #expect(h.takeEvents() == deleted("hp3", at: "11000"))
    }

    @Test func settingTheSamePersonaLeavesADriverAlone() throws {
        let h = try GuestHarness()
        _ = h.add(rng("hp1", bus: "pci.1"))
        h.advance(ms: 100)
        #expect(h.del("hp1") == nil)
        h.advance(ms: 1_000)
        #expect(h.setPersona(.linux, controller: "pci.1") == nil)
        #expect(h.setPersona(.linux) == nil)
        h.advance(ms: 5_000)
        #expect(h.takeEvents() == ["X_DEVICE_ON hp1@100"] + deleted("hp1", at: "6100"))
    }

    @Test func personaResolutionAndErrors() throws {
        let h = try GuestHarness()
        #expect(h.setPersona(.slow(factor: 2), controller: "pci.7") == nil)
        #expect(h.setPersona(.neverAck, controller: "pci.7", slot: 3) == nil)
        #expect(h.guest.persona(controller: "pci.7", slot: 3) == .neverAck)
        #expect(h.guest.persona(controller: "pci.7", slot: 4) == .slow(factor: 2))
        #expect(h.guest.persona(controller: "/machine/peripheral/pci.7", slot: 4) == .slow(factor: 2))
        #expect(h.guest.persona(controller: "pci.1") == .linux)
        // A controller-wide choice replaces the slot's; a machine-wide one replaces all.
        #expect(h.setPersona(.manual, controller: "pci.7") == nil)
        #expect(h.guest.persona(controller: "pci.7", slot: 3) == .manual)
        #expect(h.setPersona(.cancelOnSecondPress) == nil)
        #expect(h.guest.persona(controller: "pci.7", slot: 3) == .cancelOnSecondPress)
        #expect(h.guest.configuration.assignments.isEmpty)

        #expect(h.setPersona(.linux, controller: "nosuch") == "Device 'nosuch' not found")
        #expect(h.setPersona(.linux, controller: "virtio-disk0") == "'virtio-disk0' is not a hotplug controller")
        #expect(
            h.setPersona(.linux, controller: "pci.1", slot: 1)
                == "'pci.1' is a PCIe port: 'slot' applies only to SHPC bridges"
        )
        #expect(
            h.setPersona(.linux, controller: "pci.7", slot: 0) == "SHPC slot 0 does not exist (valid slots are 1 to 31)"
        )
        #expect(h.setPersona(.linux, slot: 3) == "'slot' needs 'controller' (an SHPC bridge)")
    }

    // MARK: cancel-on-second-press

    @Test func cancelOnSecondPressTakesARetriedDeleteAsCancel() throws {
        let h = try GuestHarness(configuration: GuestConfiguration(persona: .cancelOnSecondPress))
        _ = h.add(rng("hp1", bus: "pci.1"))
        h.advance(ms: 100)
        #expect(h.takeEvents() == ["X_DEVICE_ON hp1@100"])  // hot-add as Linux
        #expect(h.del("hp1") == nil)
        #expect(h.guest.state(controller: "pci.1") == "confirming-off")
        #expect(try h.slotControl("pci.1") & 0x3C0 == 0x180)  // power indicator on, attention blinking
        h.advance(ms: 5_500)
        #expect(h.del("hp1") == nil)  // QEMU's guard expired and nothing blinks: the press reaches the guest
        #expect(h.guest.state(controller: "pci.1") == "on")
        #expect(try h.slotControl("pci.1") & 0x3C0 == 0x1C0)
        h.advance(ms: 30_000)
        #expect(h.takeEvents() == [])
        // An undisturbed request completes after the 10 s window and the power-off settle.
        #expect(h.del("hp1") == nil)
        h.advance(ms: 10_000)
        #expect(h.guest.state(controller: "pci.1") == "powering-off")
        #expect(h.del("hp1") == "Hot-unplug failed: guest is busy (power indicator blinking)")
        h.advance(ms: 1_000)
        #expect(h.takeEvents() == deleted("hp1", at: "46600"))
    }

    @Test func cancelOnSecondPressOnAnSHPCSlot() throws {
        let h = try GuestHarness()
        #expect(h.setPersona(.cancelOnSecondPress, controller: "pci.7", slot: 3) == nil)
        _ = h.add(rng("hp3", bus: "pci.7", addr: "3"))
        h.advance(ms: 6_000)
        #expect(h.takeEvents() == ["X_DEVICE_ON hp3@6000"])
        #expect(h.del("hp3") == nil)
        #expect(try h.shpc().attentionLED(3) == .blinking)
        h.advance(ms: 1_000)
        #expect(h.del("hp3") == nil)  // SHPC has no pending guard: the second press cancels at once
        #expect(try h.shpc().attentionLED(3) == .off)
        h.advance(ms: 30_000)
        #expect(h.takeEvents() == [])
        #expect(h.del("hp3") == nil)
        h.advance(ms: 10_000)
        #expect(h.takeEvents() == deleted("hp3", at: "47000"))
    }

    @Test func linuxRefusesTheRetryThatWouldCancel() throws {
        let h = try GuestHarness()
        _ = h.add(rng("hp1", bus: "pci.1"))
        h.advance(ms: 100)
        #expect(h.del("hp1") == nil)
        h.advance(ms: 5_500)
        #expect(h.del("hp1") == "Hot-unplug failed: guest is busy (power indicator blinking)")
        h.advance(ms: 500)
        #expect(h.takeEvents() == ["X_DEVICE_ON hp1@100"] + deleted("hp1", at: "6100"))
    }

    // MARK: slow

    @Test func slowScalesEveryLatency() throws {
        let h = try GuestHarness(configuration: GuestConfiguration(persona: .slow(factor: 4)))
        _ = h.add(rng("hp1", bus: "pci.1"))
        h.advance(ms: 399)
        #expect(h.takeEvents() == [])
        h.advance(ms: 1)
        #expect(h.takeEvents() == ["X_DEVICE_ON hp1@400"])
        #expect(h.del("hp1") == nil)
        h.advance(ms: 23_999)
        #expect(h.takeEvents() == [])
        h.advance(ms: 1)
        #expect(h.takeEvents() == deleted("hp1", at: "24400"))
    }

    @Test func slowSHPCSlot() throws {
        let h = try GuestHarness()
        #expect(h.setPersona(.slow(factor: 2), controller: "pci.7", slot: 3) == nil)
        _ = h.add(rng("hp3", bus: "pci.7", addr: "3"))
        _ = h.add(rng("hp4", bus: "pci.7", addr: "4"))
        h.advance(ms: 12_000)
        #expect(h.takeEvents() == ["X_DEVICE_ON hp4@6000", "X_DEVICE_ON hp3@12000"])
    }

    // MARK: booting

    @Test func bootingGuestIgnoresHotplugUntilBooted() throws {
        let persona = GuestPersona.booting(untilNanoseconds: 30_000_000_000, scanTreatsNewDeviceAsRemoval: false)
        let h = try GuestHarness(configuration: GuestConfiguration(persona: persona))
        #expect(h.guest.state(controller: "pci.1") == "booting")
        h.advance(ms: 1_000)
        _ = h.add(rng("hp1", bus: "pci.1"))
        h.advance(ms: 28_999)
        #expect(h.takeEvents() == [])
        #expect(try h.slotControl("pci.1") == 0x7C0)
        h.advance(ms: 1)
        #expect(h.guest.state(controller: "pci.1") == "powering-on")
        h.advance(ms: 100)
        #expect(h.takeEvents() == ["X_DEVICE_ON hp1@30100"])
    }

    @Test func removalRequestedWhileBootingCompletesAfterTheBoot() throws {
        // Linux clears Slot Status at probe, but QEMU restores the events (the write names bits that were
        // not set): the latched button press is handled once notifications are enabled.
        let persona = GuestPersona.booting(untilNanoseconds: 30_000_000_000, scanTreatsNewDeviceAsRemoval: false)
        let h = try GuestHarness(configuration: GuestConfiguration(persona: persona))
        #expect(h.del("virtio-disk0") == nil)
        h.advance(ms: 35_999)
        #expect(h.takeEvents() == [])
        h.advance(ms: 1)
        #expect(h.takeEvents() == deleted("virtio-disk0", at: "36000"))
    }

    @Test func bootScanRemovesAFreshDevice() throws {
        let persona = GuestPersona.booting(untilNanoseconds: 30_000_000_000, scanTreatsNewDeviceAsRemoval: true)
        let h = try GuestHarness(configuration: GuestConfiguration(persona: persona))
        _ = h.add(rng("hp1", bus: "pci.1"))
        h.advance(ms: 30_000)
        #expect(h.guest.state(controller: "pci.1") == "powering-off")
        h.advance(ms: 1_000)
        #expect(h.takeEvents() == deleted("hp1", at: "31000"))
        #expect(h.guest.state(controller: "pci.1") == "off")
        // Once booted the guest is Linux: the next card is taken.
        _ = h.add(rng("hp1", bus: "pci.1"))
        h.advance(ms: 100)
        #expect(h.takeEvents() == ["X_DEVICE_ON hp1@31100"])
    }

    @Test func bootingSHPCSlotLosesEventsLatchedDuringTheBoot() throws {
        let h = try GuestHarness()
        let persona = GuestPersona.booting(untilNanoseconds: 30_000_000_000, scanTreatsNewDeviceAsRemoval: false)
        #expect(h.setPersona(persona, controller: "pci.7", slot: 3) == nil)
        #expect(try h.shpc().eventMask(3) == 0x7F)
        _ = h.add(rng("hp3", bus: "pci.7", addr: "3"))
        h.advance(ms: 60_000)
        #expect(h.takeEvents() == [])
        let shpc = try h.shpc()
        #expect(shpc.eventLatch(3) == 0)  // cleared by shpchp's probe
        #expect(shpc.slotState(3) == .disabled)
        #expect(h.guest.state(controller: "pci.7", slot: 3) == "off")
        // The client's way out: remove (the disabled slot empties at once) and add again.
        #expect(h.del("hp3") == nil)
        #expect(h.takeEvents() == deleted("hp3", at: "60000"))
        _ = h.add(rng("hp3", bus: "pci.7", addr: "3"))
        h.advance(ms: 6_000)
        #expect(h.takeEvents() == ["X_DEVICE_ON hp3@66000"])
    }

    @Test func bootScanRemovesAFreshSHPCDevice() throws {
        let h = try GuestHarness()
        let persona = GuestPersona.booting(untilNanoseconds: 30_000_000_000, scanTreatsNewDeviceAsRemoval: true)
        #expect(h.setPersona(persona, controller: "pci.7", slot: 3) == nil)
        _ = h.add(rng("hp3", bus: "pci.7", addr: "3"))
        h.advance(ms: 30_000)
        #expect(h.guest.state(controller: "pci.7", slot: 3) == "blinking-off")
        h.advance(ms: 5_000)
        #expect(h.takeEvents() == deleted("hp3", at: "35000"))
    }
}
