import QMPWire
import SimulatedMachine
import Testing

/// virtio-scsi-pci's SCSI bus and the disks on it, as measured on QEMU 7.2.22 and 10.0.2: bus
/// naming and look-up, channel/target/LUN rules, immediate unplug with the node released at
/// DEVICE_DELETED, and the controller's removal taking its disks with it.
@Suite struct SCSIBusTests {
    static func harness(_ version: String = "7.2.0") throws -> MachineHarness {
        let h = try MachineHarness(version: version)
        for node in ["n0", "n1", "n2"] {
            try h.machine.blockdevAdd(JSONObject([("driver", .string("null-co")), ("node-name", .string(node))]))
        }
        return h
    }

    static func add(_ h: MachineHarness, _ json: String) -> String? {
        h.error { () throws(QMPError) in
            guard case .object(let a)? = JSONValue(parsing: json) else { throw .generic("bad test JSON") }
            try h.machine.deviceAdd(a)
        }
    }

    @Test func busLookupAndAddressRules() throws {
        let h = try Self.harness()
        #expect(
            Self.add(h, #"{"driver": "scsi-hd", "id": "hd0", "drive": "n0"}"#)
                == "No 'SCSI' bus found for device 'scsi-hd'"
        )
        #expect(Self.add(h, #"{"driver": "virtio-scsi-pci", "id": "scsi0", "bus": "rp1"}"#) == nil)
        #expect(Self.add(h, #"{"driver": "scsi-hd", "id": "hd0", "drive": "n0"}"#) == nil)
        #expect(
            Self.add(h, #"{"driver": "scsi-hd", "id": "x", "bus": "rp2", "drive": "n1"}"#)
                == "Device 'scsi-hd' can't go on PCIE bus"
        )
        #expect(
            Self.add(h, #"{"driver": "e1000", "id": "x", "bus": "scsi0.0"}"#) == "Device 'e1000' can't go on SCSI bus"
        )
        #expect(Self.add(h, #"{"driver": "scsi-hd", "id": "x", "bus": "scsi0.0"}"#) == "drive property not set")
        #expect(
            Self.add(h, #"{"driver": "scsi-hd", "id": "x", "bus": "scsi0.0", "drive": "n1", "channel": 1}"#)
                == "bad scsi channel id: 1"
        )
        #expect(
            Self.add(h, #"{"driver": "scsi-hd", "id": "x", "bus": "scsi0.0", "drive": "n1", "scsi-id": 300}"#)
                == "bad scsi device id: 300"
        )
        #expect(
            Self.add(h, #"{"driver": "scsi-hd", "id": "x", "bus": "scsi0.0", "drive": "n1", "lun": 20000}"#)
                == "bad scsi device lun: 20000"
        )
        #expect(
            Self.add(h, #"{"driver": "scsi-hd", "id": "x", "bus": "scsi0.0", "drive": "n1", "scsi-id": 0, "lun": 0}"#)
                == "lun already used by 'hd0'"
        )
        // Target given, LUN free: the first free LUN at that target.
        #expect(
            Self.add(h, #"{"driver": "scsi-hd", "id": "hd1", "bus": "scsi0.0", "drive": "n1", "scsi-id": 0}"#) == nil
        )
        #expect(try h.machine.qomGet("/machine/peripheral/hd1", property: "lun") == .int(1))
        // Neither given: LUN 0 at the first free target.
        #expect(Self.add(h, #"{"driver": "scsi-hd", "id": "hd2", "drive": "n2"}"#) == nil)
        #expect(try h.machine.qomGet("/machine/peripheral/hd2", property: "scsi-id") == .int(1))
        #expect(
            try h.machine.qomGet("/machine/peripheral/hd2", property: "parent_bus")
                == .string("/machine/peripheral/scsi0/virtio-backend/scsi0.0")
        )
    }

    @Test func unplugIsImmediateAndReleasesTheNode() throws {
        let h = try Self.harness()
        #expect(Self.add(h, #"{"driver": "virtio-scsi-pci", "bus": "rp1"}"#) == nil)
        #expect(Self.add(h, #"{"driver": "scsi-hd", "id": "hd0", "bus": "scsi.0", "drive": "n0"}"#) == nil)
        #expect(Self.add(h, #"{"driver": "scsi-cd", "id": "cd0", "bus": "scsi.0"}"#) == nil)
        let blocks = h.machine.queryBlock().arrayValue ?? []
        #expect(blocks.map { $0.objectValue?["qdev"]?.stringValue } == ["hd0", "cd0"])
        #expect(blocks.last?.objectValue?["tray_open"] == .bool(false))
        #expect(blocks.allSatisfy { $0.objectValue?["io-status"] == .string("ok") })
        #expect(h.error { () throws(QMPError) in try h.machine.blockdevDel(nodeName: "n0") } == "Node n0 is in use")
        try h.machine.deviceDel("hd0")
        h.machine.flushDeferredEvents()
        #expect(h.takeEvents() == [#"DEVICE_DELETED {"device": "hd0", "path": "/machine/peripheral/hd0"}"#])
        #expect(h.error { () throws(QMPError) in try h.machine.blockdevDel(nodeName: "n0") } == nil)
    }

    @Test func controllerRemovalTakesItsDisksNewestFirst() throws {
        let h = try Self.harness("10.0.0")
        #expect(Self.add(h, #"{"driver": "virtio-scsi-pci", "id": "scsi0", "bus": "rp1"}"#) == nil)
        #expect(Self.add(h, #"{"driver": "scsi-hd", "id": "hd0", "bus": "scsi0.0", "drive": "n0"}"#) == nil)
        #expect(Self.add(h, #"{"driver": "scsi-cd", "id": "cd0", "bus": "scsi0.0"}"#) == nil)
        _ = h.takeEvents()
        // rp1 was never powered: the slot is emptied at once.
        try h.machine.deviceDel("scsi0")
        h.machine.flushDeferredEvents()
        #expect(
            h.takeEvents() == [
                #"DEVICE_DELETED {"device": "cd0", "path": "/machine/peripheral/cd0"}"#,
                #"DEVICE_DELETED {"device": "hd0", "path": "/machine/peripheral/hd0"}"#,
                #"DEVICE_DELETED {"path": "/machine/peripheral/scsi0/virtio-backend"}"#,
                #"DEVICE_DELETED {"device": "scsi0", "path": "/machine/peripheral/scsi0"}"#,
            ]
        )
        #expect(h.machine.queryBlock().arrayValue?.isEmpty == true)
        #expect(
            Self.add(h, #"{"driver": "scsi-hd", "id": "hd1", "bus": "scsi0.0", "drive": "n0"}"#)
                == "Bus 'scsi0.0' not found"
        )
    }
}
