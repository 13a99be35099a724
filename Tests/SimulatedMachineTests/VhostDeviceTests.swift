import QMPWire
import SimulatedMachine
import Testing

/// vhost-vsock-pci, vhost-user-blk-pci and vhost-user-fs-pci: QEMU's checks (7.2.22 and 10.0.2
/// texts) and what qmp-mockd simulates in place of the host (docs/deviations.md).
@Suite struct VhostDeviceTests {
    final class Harness {
        let h: MachineHarness
        var released: [Int32] = []
        var machine: Machine { h.machine }

        init(_ version: String = "7.2.0") throws {
            h = try MachineHarness(version: version)
            h.machine.descriptors.release = { [unowned self] in released.append($0) }
        }

        func add(_ json: String) -> String? {
            h.error { () throws(QMPError) in
                guard case .object(let a)? = JSONValue(parsing: json) else { throw .generic("bad test JSON") }
                try machine.deviceAdd(a, monitor: "m")
            }
        }
    }

    /// The `query-pci` entry of the device `id`, anywhere in the tree.
    static func pciEntry(_ id: String, in value: JSONValue) -> JSONObject? {
        func search(_ devices: [JSONValue]) -> JSONObject? {
            for device in devices.compactMap(\.objectValue) {
                if device["qdev_id"]?.stringValue == id { return device }
                let below = device["pci_bridge"]?.objectValue?["devices"]?.arrayValue ?? []
                if let found = search(below) { return found }
            }
            return nil
        }
        for bus in value.arrayValue ?? [] {
            if let found = search(bus.objectValue?["devices"]?.arrayValue ?? []) { return found }
        }
        return nil
    }

    @Test func vsockGuestCIDAndVhostDescriptor() throws {
        let t = try Harness()
        let vsock = #"{"driver": "vhost-vsock-pci", "id": "v0", "bus": "rp1""#
        #expect(t.add(vsock + "}") == "guest-cid property must be greater than 2")
        #expect(
            t.add(#"{"driver": "vhost-vsock-pci", "id": "v0", "bus": "rp1", "guest-cid": 4294967296}"#)
                == "guest-cid property must be a 32-bit number"
        )
        #expect(
            t.add(#"{"driver": "vhost-vsock-pci", "id": "v0", "bus": "rp1", "guest-cid": 3, "vhostfd": "nosuch"}"#)
                == "vhost-vsock: unable to parse vhostfd: File descriptor named 'nosuch' has not been found"
        )
        #expect(
            t.add(#"{"driver": "vhost-vsock-pci", "id": "v0", "bus": "rp1", "guest-cid": 3, "vhostfd": "999"}"#)
                == "vhost-vsock: unable to set non-blocking mode: Bad file descriptor"
        )
        try t.machine.getfd(name: "vfd", fd: 100, monitor: "m")
        #expect(t.add(vsock + #", "guest-cid": 3, "vhostfd": "vfd"}"#) == nil)
        #expect(
            t.h.error { () throws(QMPError) in try t.machine.closefd(name: "vfd", monitor: "m") }
                == "File descriptor named 'vfd' not found"
        )
        #expect(t.released.isEmpty)
        try t.machine.deviceDel("v0")  // rp1 was never powered: removed at once
        t.machine.flushDeferredEvents()
        #expect(t.released == [100])
        // Without vhostfd QEMU opens /dev/vhost-vsock: simulated.
        #expect(t.add(#"{"driver": "vhost-vsock-pci", "id": "v1", "bus": "rp2", "guest-cid": 4}"#) == nil)
        let backend = try t.machine.qomGet("/machine/peripheral/v1/virtio-backend", property: "type")
        #expect(backend == .string("vhost-vsock-device"))
    }

    @Test(arguments: ["7.2.0", "10.0.0"]) func vhostUserChecksAndChardev(version: String) throws {
        let t = try Harness(version)
        for (id, backend) in [
            ("nul", #"{"type": "null", "data": {}}"#),
            (
                "vu",
                #"{"type": "socket", "data": {"addr": {"type": "unix", "data": {"path": "/tmp/vu.sock"}}, "#
                    + #""server": true}}"#
            ),
        ] {
            _ = try t.machine.chardevAdd(id: id, backend: JSONValue(parsing: backend))
        }
        #expect(t.add(#"{"driver": "vhost-user-blk-pci", "id": "b0", "bus": "rp1"}"#) == "chardev is mandatory")
        #expect(
            t.add(#"{"driver": "vhost-user-blk-pci", "id": "b0", "bus": "rp1", "chardev": "x"}"#)
                == "Property 'vhost-user-blk.chardev' can't find value 'x'"
        )
        #expect(
            t.add(#"{"driver": "vhost-user-blk-pci", "id": "b0", "bus": "rp1", "chardev": "nul", "queue-size": 0}"#)
                == "queue size must be non-zero"
        )
        #expect(
            t.add(#"{"driver": "vhost-user-blk-pci", "id": "b0", "bus": "rp1", "chardev": "nul"}"#)
                == "vhost_backend_init failed: Protocol error"
        )
        #expect(t.add(#"{"driver": "vhost-user-fs-pci", "id": "f0", "bus": "rp1"}"#) == "missing chardev")
        #expect(
            t.add(#"{"driver": "vhost-user-fs-pci", "id": "f0", "bus": "rp1", "chardev": "x"}"#)
                == "Property 'vhost-user-fs-device.chardev' can't find value 'x'"
        )
        let fs = #"{"driver": "vhost-user-fs-pci", "id": "f0", "bus": "rp1", "chardev": "nul""#
        #expect(t.add(fs + "}") == "missing tag property")
        #expect(t.add(fs + #", "tag": "", "queue-size": 100}"#) == "tag property cannot be empty")
        #expect(t.add(fs + #", "tag": "t", "queue-size": 100}"#) == "queue-size property must be a power of 2")
        #expect(t.machine.chardevs.chardevs.allSatisfy { !$0.isBusy })
        // On a socket chardev the vhost-user backend is simulated.
        #expect(
            t.add(#"{"driver": "vhost-user-fs-pci", "id": "f0", "bus": "rp1", "chardev": "vu", "tag": "t"}"#) == nil
        )
        // Its identity as query-pci reports it on 7.2.22 and 10.0.2 (scripts/measure-vhost-user-fs.py).
        let fsInfo = try #require(Self.pciEntry("f0", in: t.machine.queryPCI()))
        let classInfo = fsInfo["class_info"]?.objectValue
        #expect(classInfo?["class"]?.int64Value == 0x0180 && classInfo?["desc"]?.stringValue == "Storage controller")
        let ids = fsInfo["id"]?.objectValue
        #expect(
            [ids?["vendor"], ids?["device"], ids?["subsystem-vendor"], ids?["subsystem"]].map { $0?.int64Value }
                == [0x1AF4, 0x105A, 0x1AF4, 0x1100]
        )
        #expect(fsInfo["irq_pin"]?.int64Value == 1)
        let blk = #"{"driver": "vhost-user-blk-pci", "id": "b0", "bus": "pb1", "addr": "3.0", "chardev": "vu"}"#
        #expect(
            t.add(blk)
                == "Property 'vhost-user-blk.chardev' can't take value 'vu': \(t.machine.profile.chardevInUse("vu"))"
        )
        try t.machine.deviceDel("f0")
        t.machine.flushDeferredEvents()
        #expect(t.add(blk) == nil)
    }
}
