import QMPWire
import SimulatedMachine
import Testing

/// The block layer's rules as measured on QEMU 7.2.22 and 10.0.2: the node graph and its names,
/// `blockdev-del`'s refusals, `drive=` resolving drives and nodes, one writer per node, backends
/// released with `DEVICE_DELETED`, legacy drives, files through the host hook and fd sets.
@Suite struct BlockLayerTests {
    /// A host with one regular file, one device, and descriptors of known access modes.
    static let host = BlockHost(
        open: { path, writable in
            switch path {
            case "/img": return .success(BlockHostFile(size: 1000, allocated: 4096))
            case "/dev/sdz": return .success(BlockHostFile(size: 1 << 20, isDevice: true))
            case "/ro.img":
                return writable
                    ? .failure(.permissionDenied) : .success(BlockHostFile(size: 512))
            default: return .failure(.noSuchFile)
            }
        },
        descriptorFlags: { fd in fd == 200 ? 0 : 2 },
        inspect: { _ in .success(BlockHostFile(size: 4096)) }
    )

    static func harness(_ version: String = "7.2.0") throws -> MachineHarness {
        let h = try MachineHarness(version: version)
        h.machine.blockHost = host
        return h
    }

    static func add(_ h: MachineHarness, _ json: String) -> String? {
        h.error { () throws(QMPError) in
            guard case .object(let arguments)? = JSONValue(parsing: json) else { throw .generic("bad test JSON") }
            try h.machine.blockdevAdd(arguments)
        }
    }

    static func names(_ h: MachineHarness) -> [String] {
        (h.machine.queryNamedBlockNodes().arrayValue ?? []).compactMap { $0.objectValue?["node-name"]?.stringValue }
    }

    @Test func graphNamesAndOrder() throws {
        let h = try Self.harness()
        #expect(Self.add(h, #"{"driver": "null-co", "node-name": "n0"}"#) == nil)
        #expect(Self.add(h, #"{"driver": "raw", "node-name": "r0", "file": {"driver": "null-co"}}"#) == nil)
        let listed = Self.names(h)
        #expect(listed.count == 3 && listed[0] == "r0" && listed[2] == "n0")
        #expect(listed[1].hasPrefix("#block0") && listed[1].count == "#block012".count)
        #expect(Self.add(h, #"{"driver": "null-co", "node-name": "n0"}"#) == "Duplicate nodes with node-name='n0'")
        #expect(Self.add(h, #"{"driver": "null-co"}"#) == "'node-name' must be specified for the root node")
        #expect(Self.add(h, #"{"driver": "null-co", "node-name": "1x"}"#) == "Invalid node-name: '1x'")
        #expect(
            Self.add(h, #"{"driver": "nope", "node-name": "x"}"#) == "Parameter 'driver' does not accept value 'nope'"
        )
        #expect(Self.add(h, #"{"driver": "raw", "node-name": "x"}"#) == "Parameter 'file' is missing")
        #expect(
            Self.add(h, #"{"driver": "raw", "node-name": "x", "file": {}}"#) == "Parameter 'file.driver' is missing"
        )
        #expect(
            Self.add(h, #"{"driver": "raw", "node-name": "x", "file": "zz"}"#)
                == "Cannot find device='zz' nor node-name='zz'"
        )
        #expect(Self.add(h, #"{"driver": "null-co", "node-name": "x", "y": 1}"#) == "Parameter 'y' is unexpected")
        // A failed parent drops the inline child it made (its generated name is used up).
        #expect(Self.add(h, #"{"driver": "raw", "node-name": "n0", "file": {"driver": "null-co"}}"#) != nil)
        #expect(Self.names(h).count == 3)
        #expect(Self.add(h, #"{"driver": "raw", "node-name": "r1", "file": {"driver": "null-co"}}"#) == nil)
        #expect(Self.names(h)[1].hasPrefix("#block2"))
    }

    @Test func blockdevDelRefusals() throws {
        let h = try Self.harness()
        _ = Self.add(h, #"{"driver": "null-co", "node-name": "n0"}"#)
        _ = Self.add(h, #"{"driver": "raw", "node-name": "r0", "file": "n0"}"#)
        _ = Self.add(h, #"{"driver": "raw", "node-name": "r1", "file": {"driver": "null-co", "node-name": "p1"}}"#)
        let del = { (name: String) in h.error { () throws(QMPError) in try h.machine.blockdevDel(nodeName: name) } }
        #expect(del("zz") == "Failed to find node with node-name='zz'")
        #expect(del("n0") == "Block device n0 is in use")
        #expect(del("p1") == "Node p1 is not owned by the monitor")
        #expect(del("r1") == nil)
        #expect(del("p1") == "Failed to find node with node-name='p1'")  // went with its parent
        #expect(del("r0") == nil)
        #expect(del("n0") == nil)
        #expect(Self.names(h).isEmpty)
    }

    @Test func devicesHoldNodesUntilDeviceDeleted() throws {
        let h = try Self.harness()
        _ = Self.add(h, #"{"driver": "raw", "node-name": "d0", "file": {"driver": "null-co"}}"#)
        let add = { (json: String) in
            h.error { () throws(QMPError) in
                guard case .object(let a)? = JSONValue(parsing: json) else { return }
                try h.machine.deviceAdd(a)
            }
        }
        #expect(
            add(#"{"driver": "virtio-blk-pci", "id": "v0", "bus": "rp1", "drive": "zz"}"#)
                == "Property 'virtio-blk-device.drive' can't find value 'zz'"
        )
        #expect(add(#"{"driver": "virtio-blk-pci", "id": "v0", "bus": "rp1", "drive": "d0"}"#) == nil)
        #expect(
            add(#"{"driver": "nvme", "id": "nv", "bus": "pb1", "drive": "d0", "serial": "s"}"#)
                == "Permission conflict on node 'd0': permissions 'write' are both required by block device "
                + "'/machine/peripheral/v0/virtio-backend' (uses node 'd0' as 'root' child) and unshared by "
                + "block device 'nv' (uses node 'd0' as 'root' child)."
        )
        let blocks = h.machine.queryBlock().arrayValue ?? []
        #expect(blocks.count == 1)
        #expect(blocks.first?.objectValue?["qdev"]?.stringValue == "/machine/peripheral/v0/virtio-backend")
        #expect(h.error { () throws(QMPError) in try h.machine.blockdevDel(nodeName: "d0") } == "Node d0 is in use")
        // rp1 was never powered on: the unplug is immediate, and the node is free once DEVICE_DELETED is sent.
        try h.machine.writeSlotStatus(port: "rp1", value: 0x9)
        try h.machine.deviceDel("v0")
        h.machine.flushDeferredEvents()
        #expect(h.takeEvents().contains { $0.hasPrefix("DEVICE_DELETED") })
        #expect(h.machine.queryBlock().arrayValue?.isEmpty == true)
        #expect(h.error { () throws(QMPError) in try h.machine.blockdevDel(nodeName: "d0") } == nil)
    }

    @Test func legacyDrives() throws {
        let h = try Self.harness()
        try h.machine.driveAdd(["if": "none", "id": "d1", "file": "null-co://", "format": "raw"])
        #expect(
            h.error { () throws(QMPError) in try h.machine.driveAdd(["id": "d1", "file": "null-co://"]) }
                == "Duplicate ID 'd1' for drive"
        )
        #expect(
            h.error { () throws(QMPError) in try h.machine.driveAdd(["id": "d2", "file": "/missing"]) }
                == "Could not open '/missing': No such file or directory"
        )
        let info = h.machine.queryBlock().arrayValue?.first?.objectValue
        #expect(info?["device"]?.stringValue == "d1" && info?["removable"]?.boolValue == true)
        #expect(Self.names(h).count == 2)
        #expect(
            h.error { () throws(QMPError) in try h.machine.blockdevDel(nodeName: Self.names(h)[0]) }?.hasSuffix(
                "is in use"
            ) == true
        )
        let device: JSONObject = ["driver": "virtio-blk-pci", "id": "v0", "bus": "rp1", "drive": "d1"]
        try h.machine.deviceAdd(device)
        #expect(
            h.error { () throws(QMPError) in
                try h.machine.deviceAdd(["driver": "virtio-blk-pci", "id": "v1", "bus": "rp3", "drive": "d1"])
            } == "Drive 'd1' is already in use by another device"
        )
        try h.machine.writeSlotStatus(port: "rp1", value: 0x9)
        try h.machine.deviceDel("v0")
        #expect(h.machine.queryBlock().arrayValue?.isEmpty == true)  // the drive went with its device
        #expect(Self.names(h).isEmpty)
        // drive_del of a drive a device holds: the device keeps an anonymous backend without medium.
        try h.machine.driveAdd(["id": "d2", "file": "null-co://", "format": "raw"])
        try h.machine.deviceAdd(["driver": "virtio-blk-pci", "id": "v2", "bus": "rp1", "drive": "d2"])
        try h.machine.driveDel("d2")
        let left = h.machine.queryBlock().arrayValue?.first?.objectValue
        #expect(left?["device"]?.stringValue == "" && left?["inserted"] == nil && Self.names(h).isEmpty)
        try h.machine.deviceDel("v2")
        #expect(h.machine.queryBlock().arrayValue?.isEmpty == true)
        try h.machine.driveAdd(["id": "d3", "driver": "null-co"])
        try h.machine.driveDel("d3")
        #expect(h.error { () throws(QMPError) in try h.machine.driveDel("d3") } == "Device 'd3' not found")
    }

    @Test func aDriveOutlivesAFailedRealize() throws {
        let h = try Self.harness("10.0.0")
        // drive_add defaults to auto-read-only: /ro.img opens, and its writer cannot reopen it.
        try h.machine.driveAdd(["id": "d1", "file": "/ro.img", "format": "raw"])
        #expect(
            h.error { () throws(QMPError) in
                try h.machine.deviceAdd(["driver": "virtio-blk-pci", "id": "v1", "bus": "rp1", "drive": "d1"])
            } == "Could not open '/ro.img': Permission denied"
        )
        #expect(h.machine.queryBlock().arrayValue?.first?.objectValue?["device"]?.stringValue == "d1")
        try h.machine.driveDel("d1")
        #expect(
            h.error { () throws(QMPError) in
                try h.machine.driveAdd(["id": "d2", "file": "/ro.img", "format": "raw", "auto-read-only": "off"])
            } == "Could not open '/ro.img': Permission denied"
        )
    }

    @Test func filesThroughTheHost() throws {
        let h = try Self.harness("10.0.0")
        #expect(
            Self.add(h, #"{"driver": "file", "node-name": "f0", "filename": "/missing"}"#)
                == "Could not open '/missing': No such file or directory"
        )
        #expect(Self.add(h, #"{"driver": "file", "node-name": "f0", "filename": "/img"}"#) == nil)
        #expect(
            Self.add(h, #"{"driver": "host_device", "node-name": "h0", "filename": "/img"}"#)
                == "'host_device' driver requires '/img' to be either a character or block device"
        )
        #expect(Self.add(h, #"{"driver": "host_device", "node-name": "h0", "filename": "/dev/sdz"}"#) == nil)
        #expect(
            Self.add(h, #"{"driver": "file", "node-name": "ro", "filename": "/ro.img"}"#)
                == "Could not open '/ro.img': Permission denied"
        )
        // auto-read-only opens read-only while nothing writes; the node is not ro for all that.
        #expect(
            Self.add(h, #"{"driver": "file", "node-name": "ro", "filename": "/ro.img", "auto-read-only": true}"#) == nil
        )
        #expect(Self.add(h, #"{"driver": "qcow2", "node-name": "q", "file": "f0"}"#) == "Image is not in qcow2 format")
        let nodes = (h.machine.queryNamedBlockNodes().arrayValue ?? []).compactMap(\.objectValue)
        let ro = try #require(nodes.first { $0["node-name"]?.stringValue == "ro" })
        #expect(ro["ro"]?.boolValue == false && ro["active"]?.boolValue == true)
        let f0 = try #require(nodes.first { $0["node-name"]?.stringValue == "f0" })
        let image = f0["image"]?.objectValue
        #expect(image?["virtual-size"]?.int64Value == 1024 && image?["actual-size"]?.int64Value == 4096)
        #expect(image?["format-specific"]?.objectValue?["type"]?.stringValue == "file")
    }

    @Test func fdSetsCountTheirNodes() throws {
        let h = try Self.harness()
        let released = ReleaseLog()
        h.machine.descriptors.release = { released.fds.append($0) }
        #expect(
            Self.add(h, #"{"driver": "file", "node-name": "f", "filename": "/dev/fdset/3"}"#)
                == "Could not dup FD for /dev/fdset/3 flags 2: No such file or directory"
        )
        _ = try h.machine.addFD(200, fdsetID: 3, opaque: nil)  // read-only
        #expect(
            Self.add(h, #"{"driver": "file", "node-name": "f", "filename": "/dev/fdset/3"}"#)
                == "Could not dup FD for /dev/fdset/3 flags 2: Permission denied"
        )
        #expect(
            Self.add(h, #"{"driver": "file", "node-name": "f", "filename": "/dev/fdset/3", "read-only": true}"#) == nil
        )
        try h.machine.cont()
        h.machine.monitorClientOpened(on: "m")
        h.machine.monitorClientClosed(on: "m")  // 7.2: the last client leaves, but a node uses the set
        #expect(released.fds.isEmpty && h.machine.descriptors.fdsets.count == 1)
        // The last node leaving cleans the set up (QEMU's monitor_fdset_dup_fd_remove): no client, running.
        try h.machine.blockdevDel(nodeName: "f")
        #expect(released.fds == [200] && h.machine.descriptors.fdsets.isEmpty)
    }

    @Test func fdSetPathsAndTheirTexts() throws {
        for version in ["7.2.0", "10.0.0"] {
            let h = try Self.harness(version)
            let new = version == "10.0.0"
            _ = try h.machine.addFD(200, fdsetID: 3, opaque: nil)  // read-only
            for bad in ["/dev/fdset/x", "/dev/fdset/", "/dev/fdset/-2", "/dev/fdset/0x3", "/dev/fdset/3 "] {
                #expect(
                    Self.add(h, #"{"driver": "file", "node-name": "f", "filename": "\#(bad)"}"#)
                        == "Could not parse fdset \(bad)"
                )
            }
            #expect(
                Self.add(h, #"{"driver": "file", "node-name": "f", "filename": "/dev/fdset/07"}"#)
                    == (new
                        ? "Failed to find fdset /dev/fdset/7"
                        : "Could not dup FD for /dev/fdset/07 flags 2: No such file or directory")
            )
            #expect(
                Self.add(
                    h,
                    #"{"driver": "file", "node-name": "f", "filename": "/dev/fdset/ +3", "cache": {"direct": true}}"#
                )
                    == (new
                        ? "Failed to find file descriptor with matching flags=0x4002"
                        : "Could not dup FD for /dev/fdset/ +3 flags 4002: Permission denied")
            )
            // 7.2 matches the access mode only; 10.0 wants O_DIRECT as well.
            let direct =
                #"{"driver": "file", "node-name": "d", "filename": "/dev/fdset/3", "read-only": true, "cache": {"direct": true}}"#
            #expect(Self.add(h, direct) == (new ? "Failed to find file descriptor with matching flags=0x4000" : nil))
        }
    }

    @Test func autoReadOnlyReopensForWriters() throws {
        let h = try Self.harness()
        _ = try h.machine.addFD(200, fdsetID: 1, opaque: nil)  // read-only
        _ = try h.machine.addFD(201, fdsetID: 2, opaque: nil)  // read-write
        #expect(
            Self.add(h, #"{"driver": "file", "node-name": "a2", "filename": "/dev/fdset/2", "auto-read-only": true}"#)
                == "Could not dup FD for /dev/fdset/2 flags 0: Permission denied"
        )
        #expect(
            Self.add(h, #"{"driver": "file", "node-name": "a1", "filename": "/dev/fdset/1", "auto-read-only": true}"#)
                == nil
        )
        #expect(h.machine.block.node("a1")?.isOpenWritable == false)
        // A read-write qcow2 node writes metadata: its child must reopen read-write, and cannot.
        #expect(
            Self.add(h, #"{"driver": "qcow2", "node-name": "q", "file": "a1"}"#)
                == "Could not dup FD for /dev/fdset/1 flags 2: Permission denied"
        )
        #expect(Self.add(h, #"{"driver": "raw", "node-name": "r1", "file": "a1"}"#) == nil)
        #expect(
            h.error { () throws(QMPError) in
                try h.machine.deviceAdd(["driver": "virtio-blk-pci", "id": "v1", "bus": "rp1", "drive": "r1"])
            } == "Could not dup FD for /dev/fdset/1 flags 2: Permission denied"
        )
        #expect(h.machine.block.node("a1")?.writers == 0 && h.machine.queryBlock().arrayValue?.isEmpty == true)
        // A path reopens through the host: /img opens read-write, /ro.img does not.
        #expect(
            Self.add(
                h,
                #"{"driver": "raw", "node-name": "r", "file": {"driver": "file", "filename": "/img", "auto-read-only": true}}"#
            ) == nil
        )
        try h.machine.deviceAdd(["driver": "virtio-blk-pci", "id": "v2", "bus": "rp1", "drive": "r"])
        let leafName = try #require(h.machine.block.node("r")?.children.first?.node)
        let leaf = try #require(h.machine.block.node(leafName))
        #expect(leaf.isOpenWritable && leaf.writers == 1 && !leaf.options.readOnly)
        #expect(
            Self.add(
                h,
                #"{"driver": "raw", "node-name": "x", "file": {"driver": "file", "filename": "/ro.img", "auto-read-only": true}}"#
            ) == nil
        )
        #expect(
            h.error { () throws(QMPError) in
                try h.machine.deviceAdd(["driver": "virtio-blk-pci", "id": "v3", "bus": "rp2", "drive": "x"])
            } == "Could not open '/ro.img': Permission denied"
        )
    }

    @Test func anEmptiedSetGoesWithItsLastUserWhilePaused() throws {
        let h = try Self.harness()
        let released = ReleaseLog()
        h.machine.descriptors.release = { released.fds.append($0) }
        _ = try h.machine.addFD(201, fdsetID: 2, opaque: nil)
        #expect(Self.add(h, #"{"driver": "file", "node-name": "f", "filename": "/dev/fdset/2"}"#) == nil)
        try h.machine.cont()
        try h.machine.removeFD(fdsetID: 2, fd: nil)  // running: closed, the set stays while used
        #expect(released.fds == [201] && h.machine.queryFDSets().arrayValue?.count == 1)
        h.machine.stop()
        try h.machine.blockdevDel(nodeName: "f")
        #expect(h.machine.descriptors.fdsets.isEmpty)
    }

    @Test func defaultMachineHasLibvirtsBackend() throws {
        let machine = Machine(
            profile: try #require(QEMUProfile("8.2.0", package: "")),
            board: MachineConfiguration.standard.board
        )
        try machine.coldPlug(.standard)
        let info = machine.queryBlock().arrayValue?.first?.objectValue
        #expect(info?["qdev"]?.stringValue == "/machine/peripheral/virtio-disk0/virtio-backend")
        #expect(info?["inserted"]?.objectValue?["node-name"]?.stringValue == "libvirt-1-format")
    }

    final class ReleaseLog: @unchecked Sendable { var fds: [Int32] = [] }
}
