import QMPWire
import SimulatedMachine
import Testing

/// `query-blockstats` and `block_resize` as measured on QEMU 7.2.22 and 10.0.2: which entries there
/// are, their nesting and accounting flags, the 8.1 zoned-append counters; the resize's checks in
/// QEMU's order, the host truncate of a `file` node and the sizes reported afterwards.
@Suite struct BlockStatsAndResizeTests {
    /// A host whose `/img` is a 1000-byte file; truncating it answers the new size, `/huge` fails as
    /// a file system refusing the length does.
    static let host = BlockHost(
        open: { path, _ in
            path == "/img" || path == "/huge" ? .success(BlockHostFile(size: 1000)) : .failure(.noSuchFile)
        },
        descriptorFlags: { _ in 2 },
        inspect: { _ in .success(BlockHostFile(size: 4096)) },
        truncate: { target, size in
            target == .path("/huge")
                ? .failure(BlockHostError(errno: 27, text: "File too large")) : .success(BlockHostFile(size: size))
        }
    )

    static func harness(_ version: String = "7.2.0") throws -> MachineHarness {
        let h = try MachineHarness(version: version)
        h.machine.blockHost = host
        return h
    }

    static func add(_ h: MachineHarness, _ json: String) throws {
        guard case .object(let arguments)? = JSONValue(parsing: json) else { throw QMPError.generic("bad JSON") }
        try h.machine.blockdevAdd(arguments)
    }

    static func resize(_ h: MachineHarness, device: String? = nil, node: String? = nil, _ size: Int64) -> String? {
        h.error { () throws(QMPError) in try h.machine.blockResize(device: device, nodeName: node, size: size) }
    }

    static func size(_ h: MachineHarness, _ node: String) -> Int64? {
        for entry in h.machine.queryNamedBlockNodes().arrayValue ?? []
        where entry.objectValue?["node-name"]?.stringValue == node {
            return entry.objectValue?["image"]?.objectValue?["virtual-size"]?.int64Value
        }
        return nil
    }

    @Test func statsListBackendsAndNodes() throws {
        let h = try Self.harness()
        try Self.add(h, #"{"driver": "file", "filename": "/img", "node-name": "f0"}"#)
        try Self.add(h, #"{"driver": "raw", "node-name": "r0", "file": "f0"}"#)
        try Self.add(h, #"{"driver": "null-co", "node-name": "n0"}"#)
        // No backend has a name or a device yet.
        #expect(h.machine.queryBlockstats() == .array([]))
        let nodes = h.machine.queryBlockstats(queryNodes: true).arrayValue ?? []
        #expect(nodes.compactMap { $0.objectValue?["node-name"]?.stringValue } == ["f0", "r0", "n0"])
        let raw = nodes[1].objectValue
        #expect(raw?["parent"]?.objectValue?["node-name"]?.stringValue == "f0")
        #expect(raw?["stats"]?.objectValue?["account_invalid"] == .bool(false))
        #expect(raw?["driver-specific"] == nil)
        let file = nodes[0].objectValue?["driver-specific"]?.objectValue
        #expect(file?.members.map(\.key) == ["driver", "discard-nb-ok", "discard-nb-failed", "discard-bytes-ok"])
        #expect(nodes[2].objectValue?.members.map(\.key) == ["node-name", "stats"])

        try h.machine.deviceAdd(["driver": "virtio-blk-pci", "id": "v0", "bus": "rp1", "drive": "r0"])
        let devices = h.machine.queryBlockstats().arrayValue ?? []
        #expect(devices.count == 1)
        let entry = devices.first?.objectValue
        #expect(entry?.members.map(\.key) == ["device", "qdev", "node-name", "stats", "parent"])
        #expect(entry?["device"] == .string(""))
        #expect(entry?["qdev"] == .string("/machine/peripheral/v0/virtio-backend"))
        let stats = entry?["stats"]?.objectValue
        #expect(stats?["account_invalid"] == .bool(true) && stats?["account_failed"] == .bool(true))
        #expect(stats?["timed_stats"] == .array([]) && stats?["wr_highest_offset"] == .int(0))
        #expect(stats?["zone_append_bytes"] == nil && stats?.count == 26)
        #expect(entry?["parent"]?.objectValue?["stats"]?.objectValue?["account_invalid"] == .bool(false))
    }

    @Test func statsOfDrivesAndTheZoneCountersOf10() throws {
        let h = try Self.harness("10.0.0")
        try h.machine.driveAdd(["id": "d1", "file": "/img", "format": "raw"])
        let entry = h.machine.queryBlockstats().arrayValue?.first?.objectValue
        #expect(entry?["device"] == .string("d1") && entry?["qdev"] == nil)
        #expect(entry?["stats"]?.objectValue?.count == 32)
        #expect(entry?["stats"]?.objectValue?["zone_append_merged"] == .int(0))
        // A drive drive_del'ed under its device: no medium, stats only.
        try h.machine.deviceAdd(["driver": "virtio-blk-pci", "id": "v0", "bus": "rp1", "drive": "d1"])
        try h.machine.driveDel("d1")
        let held = h.machine.queryBlockstats().arrayValue?.first?.objectValue
        #expect(held?.members.map(\.key) == ["device", "qdev", "stats"])
    }

    @Test func resizeChecksInQEMUsOrder() throws {
        let h = try Self.harness()
        try Self.add(h, #"{"driver": "file", "filename": "/img", "node-name": "f0"}"#)
        try Self.add(h, #"{"driver": "raw", "node-name": "r0", "file": "f0"}"#)
        try Self.add(h, #"{"driver": "file", "filename": "/img", "node-name": "ro", "read-only": true}"#)
        try Self.add(h, #"{"driver": "raw", "node-name": "rs", "size": 512, "file": {"driver": "null-co"}}"#)
        try Self.add(h, #"{"driver": "null-co", "node-name": "n0"}"#)
        try Self.add(h, #"{"driver": "file", "filename": "/huge", "node-name": "big"}"#)
        #expect(Self.resize(h, node: "zz", -1) == "Cannot find device='' nor node-name='zz'")
        #expect(Self.resize(h, device: "r0", 4096) == "Cannot find device='r0' nor node-name=''")
        #expect(Self.resize(h, device: "x", node: "y", 4096) == "Cannot find device='x' nor node-name='y'")
        #expect(Self.resize(h, node: "r0", -512) == "Parameter 'size' expects a >0 size")
        #expect(Self.resize(h, node: "ro", -1) == "Parameter 'size' expects a >0 size")
        #expect(
            Self.resize(h, node: "f0", Int64.max)
                == "offset(9223372036854775807) exceeds maximum(9223372035781033984)"
        )
        #expect(Self.resize(h, node: "ro", 4096) == "Image is read-only")
        #expect(Self.resize(h, node: "rs", 4096) == "Cannot resize fixed-size raw disks")
        #expect(Self.resize(h, node: "n0", 4096) == "Image format driver does not support resize")
        #expect(Self.resize(h, node: "big", 1 << 62) == "Could not resize file: File too large")
        // Through the format to the file; sizes in whole sectors.
        #expect(Self.resize(h, node: "r0", 1000) == nil)
        #expect(Self.size(h, "r0") == 1024 && Self.size(h, "f0") == 1024)
        #expect(Self.resize(h, device: "", node: "f0", 2 << 20) == nil)
        #expect(Self.size(h, "r0") == 2 << 20)
        #expect(h.takeEvents().isEmpty)
    }

    @Test func resizePermissionsAndDrives() throws {
        let h = try Self.harness()
        try h.machine.driveAdd(["id": "d1", "file": "/img", "format": "raw"])
        #expect(Self.resize(h, device: "d1", 3 << 20) == nil)
        try Self.add(
            h,
            #"{"driver": "raw", "node-name": "r3", "file": {"driver": "file", "filename": "/img", "node-name": "f3"}}"#
        )
        try h.machine.deviceAdd(["driver": "nvme", "id": "nv0", "bus": "rp2", "drive": "r3", "serial": "x"])
        #expect(
            Self.resize(h, node: "r3", 4096)
                == "Permission conflict on node 'r3': permissions 'resize' are both required by an unnamed block "
                + "device (uses node 'r3' as 'root' child) and unshared by block device 'nv0' (uses node 'r3' as "
                + "'root' child)."
        )
        #expect(
            Self.resize(h, node: "f3", 4096)
                == "Permission conflict on node 'f3': permissions 'resize' are both required by an unnamed block "
                + "device (uses node 'f3' as 'root' child) and unshared by node 'r3' (uses node 'f3' as 'file' child)."
        )
        // virtio-blk shares the permission.
        try Self.add(h, #"{"driver": "raw", "node-name": "r4", "file": {"driver": "file", "filename": "/img"}}"#)
        try h.machine.deviceAdd(["driver": "virtio-blk-pci", "id": "v4", "bus": "rp1", "drive": "r4"])
        #expect(Self.resize(h, node: "r4", 8192) == nil)
        let blocks = h.machine.queryBlock().arrayValue ?? []
        let image = blocks.last?.objectValue?["inserted"]?.objectValue?["image"]?.objectValue
        #expect(image?["virtual-size"] == .int(8192))
    }
}
