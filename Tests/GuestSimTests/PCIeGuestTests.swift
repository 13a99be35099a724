import GuestSim
import QMPWire
import SimulatedMachine
import Testing

/// The Linux pciehp guest on a PCIe root port (hotplug-semantics.md §2.9).
@Suite struct PCIeGuestTests {
    @Test func probeEnablesNotificationsAsLinuxDoes() throws {
        let h = try GuestHarness()
        // Slot Control of the empty pci.1: reset value 0x7c0 plus HPIE, CCIE, PDCE and ABPE.
        #expect(try h.slotControl("pci.1") == 0x7F9)
        #expect(try h.slotStatus("pci.1") == 0)  // Command Completed cleared
        #expect(h.guest.state(controller: "pci.1") == "off")
        #expect(h.guest.state(controller: "pci.8") == "on")  // virtio-disk0, found by the boot scan
        #expect(h.guest.state(controller: "pci.7", slot: nil) == "probed")
        #expect(h.guest.state(controller: "pci.7", slot: 3) == "off")
        #expect(h.guest.state(controller: "virtio-disk0") == "unknown")
        #expect(h.guest.state(controller: "pci.5") == "not-probed")  // hotplug=off: no pciehp
        #expect(try h.slotControl("pci.5") == 0x7C0)
        #expect(h.takeEvents() == [])
    }

    @Test func registerWritesReachTheControlPlane() throws {
        let h = try GuestHarness()
        _ = h.takeWrites()
        #expect(h.add(rng("hp1", bus: "pci.1")) == nil)
        let writes = h.takeWrites().filter { $0.controller == "pci.1" }
        // Acknowledge ABP|PDC, then blink (PIC blink, AIC off), CC cleared after each command, power on, ...
        #expect(writes.first?.register == "slot-status")
        #expect(writes.first?.written == 0x9)
        let controls = writes.filter { $0.register == "slot-control" }.map(\.written)
        #expect(controls == [0x6F9, 0x2F9, 0x2F9])
        #expect(writes.filter { $0.register == "slot-status" }.dropFirst().allSatisfy { $0.written == 0x10 })
    }

    @Test func hotAddPowersOnAndEmitsDeviceOnAfterTheLinkLatency() throws {
        let h = try GuestHarness()
        #expect(h.add(rng("hp1", bus: "pci.1")) == nil)
        // The interrupt handler ran right after the reply: power on, power indicator blinking.
        #expect(try h.slotControl("pci.1") & 0x7C0 == 0x2C0)
        #expect(h.guest.state(controller: "pci.1") == "powering-on")
        #expect(h.del("hp1") == "Hot-unplug failed: guest is busy (power indicator blinking)")
        h.advance(ms: 99)
        #expect(h.takeEvents() == [])
        h.advance(ms: 1)
        #expect(h.takeEvents() == ["X_DEVICE_ON hp1@100"])
        #expect(try h.slotControl("pci.1") & 0x7C0 == 0x1C0)
        #expect(try h.slotStatus("pci.1") == 0x40)  // present, every event acknowledged
        #expect(try h.deviceOn("hp1"))
        #expect(h.guest.state(controller: "pci.1") == "on")
        h.advance(ms: 60_000)
        #expect(h.takeEvents() == [])
    }

    @Test func removalBlinksForFiveSecondsThenPowersOff() throws {
        let h = try GuestHarness()
        _ = h.add(rng("hp1", bus: "pci.1"))
        h.advance(ms: 900)
        _ = h.takeEvents()
        #expect(h.del("hp1") == nil)  // at 900 ms
        #expect(h.guest.state(controller: "pci.1") == "blinking-off")
        #expect(try h.slotControl("pci.1") & 0x7C0 == 0x2C0)
        h.advance(ms: 2_000)
        #expect(h.del("hp1") == "Device hp1 is already in the process of unplug")
        h.advance(ms: 3_500)  // 6.4 s: QEMU's guard expired, the guest is powering off
        #expect(h.guest.state(controller: "pci.1") == "powering-off")
        #expect(try h.slotControl("pci.1") & 0x7C0 == 0x6C0)
        #expect(h.del("hp1") == "Hot-unplug failed: guest is busy (power indicator blinking)")
        #expect(h.takeEvents() == [])
        h.advance(ms: 499)
        #expect(h.takeEvents() == [])
        h.advance(ms: 1)
        #expect(h.takeEvents() == deleted("hp1", at: "6900"))
        #expect(try h.slotControl("pci.1") == 0x7F9)
        #expect(h.guest.state(controller: "pci.1") == "off")
        #expect(h.del("hp1") == "Device 'hp1' not found")
        // The port is ready for the next card.
        #expect(h.add(rng("hp1", bus: "pci.1")) == nil)
        h.advance(ms: 100)
        #expect(h.takeEvents() == ["X_DEVICE_ON hp1@7000"])
    }

    @Test func coldPluggedDeviceIsRemovedLikeAHotPluggedOne() throws {
        let h = try GuestHarness()
        #expect(h.del("virtio-disk0") == nil)
        h.advance(ms: 6_000)
        #expect(h.takeEvents() == deleted("virtio-disk0", at: "6000"))
        #expect(h.guest.state(controller: "pci.8") == "off")
    }

    @Test func pausedVMFreezesTheGuest() throws {
        let h = try GuestHarness()
        _ = h.add(rng("hp1", bus: "pci.1"))
        h.advance(ms: 100)
        _ = h.takeEvents()
        #expect(h.del("hp1") == nil)
        h.advance(ms: 2_000)
        h.machine.stop()
        h.advance(ms: 60_000)
        #expect(h.takeEvents() == ["STOP @2100"])
        #expect(h.guest.state(controller: "pci.1") == "blinking-off")
        #expect(h.del("hp1") == "Device hp1 is already in the process of unplug")  // frozen guard too
        #expect(h.command { () throws(QMPError) in try h.machine.cont() } == nil)
        h.advance(ms: 3_999)
        #expect(h.takeEvents() == ["RESUME @2100"])
        h.advance(ms: 1)
        #expect(h.takeEvents() == deleted("hp1", at: "6100"))
    }

    @Test func interruptWhilePausedIsHandledWhenTheVMRuns() throws {
        let h = try GuestHarness()
        h.machine.stop()
        _ = h.takeEvents()
        #expect(h.add(rng("hp2", bus: "pci.2")) == nil)
        h.advance(ms: 10_000)
        #expect(try h.slotControl("pci.2") == 0x7F9)  // nothing done while paused
        #expect(h.command { () throws(QMPError) in try h.machine.cont() } == nil)
        h.advance(ms: 100)
        #expect(h.takeEvents() == ["RESUME @0"])  // the handler runs 1 ns after the VM resumes
        h.advance(ms: 1)
        #expect(h.takeEvents().map { $0.hasPrefix("X_DEVICE_ON hp2@100.000") } == [true])
    }

    @Test func hotPluggedBridgeGetsItsOwnDriver() throws {
        let h = try GuestHarness()
        #expect(h.add(["driver": "pcie-pci-bridge", "id": "br1", "bus": "pci.2"]) == nil)
        #expect(h.guest.state(controller: "br1", slot: 1) == "not-probed")  // not enumerated yet
        h.advance(ms: 100)
        #expect(h.takeEvents() == ["X_DEVICE_ON br1@100"])
        #expect(h.guest.state(controller: "br1") == "probed")
        #expect(h.add(rng("leaf", bus: "br1", addr: "1")) == nil)
        h.advance(ms: 6_000)
        #expect(h.takeEvents() == ["X_DEVICE_ON leaf@6100"])
        // Removing the bridge removes what sits behind it; its driver goes with it.
        #expect(h.del("br1") == nil)
        h.advance(ms: 6_000)
        #expect(
            h.takeEvents() == deleted("leaf", at: "12100") + ["DEVICE_DELETED br1@12100"]
        )
        #expect(h.guest.state(controller: "br1") == "unknown")
    }

    @Test func guestRebootAfterSystemResetProbesAgain() throws {
        let h = try GuestHarness()
        h.machine.systemReset()
        #expect(try h.slotControl("pci.1") == 0x7C0)  // notifications disabled by the reset
        #expect(try h.shpc().eventMask(3) == 0x7F)
        h.guest.guestReset()
        h.machine.runDueTimers()
        #expect(try h.slotControl("pci.1") == 0x7F9)
        #expect(try h.shpc().eventMask(3) == 0x60)
        _ = h.takeEvents()
        _ = h.add(rng("hp1", bus: "pci.1"))
        _ = h.add(rng("hp3", bus: "pci.7", addr: "3"))
        h.advance(ms: 6_000)
        #expect(h.takeEvents() == ["X_DEVICE_ON hp1@100", "X_DEVICE_ON hp3@6000"])
    }
}
