import QMPWire
import SimulatedMachine
import Testing

/// virtio-serial-pci's port bus and the ports on it, as measured on QEMU 7.2.22 and 10.0.2: port
/// numbers and names, the full bus, chardevs held and freed, immediate unplug, and the controller's
/// removal taking its ports with it.
@Suite struct VirtioSerialBusTests {
    static func harness(_ version: String = "7.2.0") throws -> MachineHarness {
        let h = try MachineHarness(version: version)
        for id in ["c1", "c2", "c3"] {
            _ = try h.machine.chardevAdd(id: id, backend: JSONValue(parsing: #"{"type": "null", "data": {}}"#))
        }
        return h
    }

    static func add(_ h: MachineHarness, _ json: String) -> String? {
        h.error { () throws(QMPError) in
            guard case .object(let a)? = JSONValue(parsing: json) else { throw .generic("bad test JSON") }
            try h.machine.deviceAdd(a)
        }
    }

    static func nr(_ h: MachineHarness, _ id: String) throws -> JSONValue {
        try h.machine.qomGet("/machine/peripheral/\(id)", property: "nr")
    }

    @Test(arguments: ["7.2.0", "10.0.0"]) func portNumbersAndNames(version: String) throws {
        let h = try Self.harness(version)
        #expect(
            Self.add(h, #"{"driver": "virtserialport", "id": "p0", "chardev": "c1"}"#)
                == "No 'virtio-serial-bus' bus found for device 'virtserialport'"
        )
        #expect(
            Self.add(h, #"{"driver": "virtio-serial-pci", "id": "x", "bus": "pb1", "addr": "2.0", "max_ports": 0}"#)
                == "Maximum number of serial ports not specified"
        )
        #expect(
            Self.add(h, #"{"driver": "virtio-serial-pci", "id": "x", "bus": "pb1", "addr": "2.0", "max_ports": 600}"#)
                == "maximum ports supported: 511"
        )
        #expect(Self.add(h, #"{"driver": "virtio-serial-pci", "id": "vs0", "bus": "rp1", "max_ports": 3}"#) == nil)
        #expect(Self.add(h, #"{"driver": "virtserialport", "id": "p1", "chardev": "c1", "name": "org.a"}"#) == nil)
        #expect(try Self.nr(h, "p1") == .int(1))
        #expect(
            try h.machine.qomGet("/machine/peripheral/p1", property: "parent_bus")
                == .string("/machine/peripheral/vs0/virtio-backend/vs0.0")
        )
        #expect(
            Self.add(h, #"{"driver": "virtserialport", "id": "p2", "name": "org.a"}"#)
                == "virtio-serial-bus: A port already exists by name org.a"
        )
        #expect(
            Self.add(h, #"{"driver": "virtserialport", "id": "p2", "nr": 1}"#)
                == "virtio-serial-bus: A port already exists at id 1"
        )
        #expect(
            Self.add(h, #"{"driver": "virtserialport", "id": "p2", "nr": 0}"#)
                == "Port number 0 on virtio-serial devices reserved for virtconsole devices for backward compatibility."
        )
        #expect(
            Self.add(h, #"{"driver": "virtserialport", "id": "p2", "nr": 5}"#)
                == "virtio-serial-bus: Out-of-range port id specified, max. allowed: 2"
        )
        #expect(Self.add(h, #"{"driver": "virtconsole", "id": "k0", "chardev": "c2"}"#) == nil)
        #expect(try Self.nr(h, "k0") == .int(0))
        #expect(Self.add(h, #"{"driver": "virtserialport", "id": "p3", "chardev": "c3"}"#) == nil)
        #expect(try Self.nr(h, "p3") == .int(2))
        // Full: the bitmap's next free bit (3) is past max_ports.
        #expect(
            Self.add(h, #"{"driver": "virtserialport", "id": "p4"}"#)
                == "virtio-serial-bus: Out-of-range port id specified, max. allowed: 2"
        )
        // A bus of 32 ports fills its whole bitmap word: QEMU's other text.
        #expect(
            Self.add(h, #"{"driver": "virtio-serial-pci", "id": "vs1", "bus": "pb1", "addr": "2.0", "max_ports": 32}"#)
                == nil
        )
        for n in 1...31 {
            #expect(Self.add(h, #"{"driver": "virtserialport", "id": "q\#(n)", "bus": "vs1.0"}"#) == nil)
        }
        #expect(
            Self.add(h, #"{"driver": "virtserialport", "id": "q32", "bus": "vs1.0"}"#)
                == "virtio-serial-bus: Maximum port limit for this device reached"
        )
        // Names are unique across buses.
        #expect(
            Self.add(h, #"{"driver": "virtserialport", "id": "x", "bus": "vs1.0", "name": "org.a"}"#)
                == "virtio-serial-bus: A port already exists by name org.a"
        )
    }

    @Test func chardevsAreHeldAndFreedByImmediateUnplug() throws {
        let h = try Self.harness("10.0.0")
        #expect(Self.add(h, #"{"driver": "virtio-serial-pci", "id": "vs0", "bus": "rp1"}"#) == nil)
        #expect(Self.add(h, #"{"driver": "virtserialport", "id": "p1", "chardev": "c1"}"#) == nil)
        #expect(Self.add(h, #"{"driver": "virtconsole", "id": "k0", "chardev": "c2"}"#) == nil)
        #expect(
            Self.add(h, #"{"driver": "virtserialport", "id": "p2", "chardev": "c1"}"#)
                == "Property 'virtserialport.chardev' can't take value 'c1': chardev 'c1' is already in use"
        )
        // A console's chardev is open at once; a port's when the guest opens the port.
        let open = h.machine.chardevs.chardevs.filter { $0.id.hasPrefix("c") }.map { $0.frontendOpen }
        #expect(open == [false, true, false])
        #expect(h.error { () throws(QMPError) in try h.machine.chardevRemove(id: "c1") } == "Chardev 'c1' is busy")
        _ = h.takeEvents()
        try h.machine.deviceDel("p1")
        h.machine.flushDeferredEvents()
        #expect(h.takeEvents() == [#"DEVICE_DELETED {"device": "p1", "path": "/machine/peripheral/p1"}"#])
        #expect(h.error { () throws(QMPError) in try h.machine.chardevRemove(id: "c1") } == nil)
        // The console left port 0 free for the next console.
        try h.machine.deviceDel("k0")
        #expect(Self.add(h, #"{"driver": "virtconsole", "id": "k1"}"#) == nil)
        #expect(try Self.nr(h, "k1") == .int(0))
    }

    @Test func controllerRemovalTakesItsPortsNewestFirst() throws {
        let h = try Self.harness()
        #expect(Self.add(h, #"{"driver": "virtio-serial-pci", "id": "vs0", "bus": "rp1"}"#) == nil)
        #expect(Self.add(h, #"{"driver": "virtserialport", "id": "p1", "chardev": "c1"}"#) == nil)
        #expect(Self.add(h, #"{"driver": "virtconsole", "id": "k0", "chardev": "c2"}"#) == nil)
        _ = h.takeEvents()
        try h.machine.deviceDel("vs0")  // rp1 was never powered: the slot is emptied at once
        h.machine.flushDeferredEvents()
        #expect(
            h.takeEvents() == [
                #"DEVICE_DELETED {"device": "k0", "path": "/machine/peripheral/k0"}"#,
                #"DEVICE_DELETED {"device": "p1", "path": "/machine/peripheral/p1"}"#,
                #"DEVICE_DELETED {"path": "/machine/peripheral/vs0/virtio-backend"}"#,
                #"DEVICE_DELETED {"device": "vs0", "path": "/machine/peripheral/vs0"}"#,
            ]
        )
        #expect(h.machine.chardevs.chardevs.allSatisfy { !$0.isBusy })
        #expect(Self.add(h, #"{"driver": "virtserialport", "id": "p2", "bus": "vs0.0"}"#) == "Bus 'vs0.0' not found")
    }
}
