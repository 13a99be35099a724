import QMPWire
import SimulatedMachine
import Testing
import YAMLConfig

/// User-creatable objects as measured on QEMU 7.2.22 and 10.0.2: object-add's checks in QEMU's
/// order, the built-in pc.ram, query-memdev and query-iothreads, object-del's in-use rule (memory
/// backends only), device links to objects (`rng`, `iothread`, `memdev`) resolved, held and read
/// back, the OS side through ``ObjectHost``, the configuration's `objects:` and `chardevs:`, and
/// vhost-user netdevs holding their chardev.
@Suite struct ObjectTests {
    final class Harness {
        let h: MachineHarness
        var machine: Machine { h.machine }

        init(_ version: String = "7.2.0", configuration: MachineConfiguration = MachineHarness.oracle) throws {
            h = try MachineHarness(version: version, configuration: configuration)
        }

        func add(_ arguments: JSONObject) -> String? {
            h.error { () throws(QMPError) in try machine.objectAdd(arguments) }
        }
        func del(_ id: String) -> String? { h.error { () throws(QMPError) in try machine.objectDel(id: id) } }
        func deviceAdd(_ arguments: JSONObject) -> String? {
            h.error { () throws(QMPError) in try machine.deviceAdd(arguments) }
        }
        func get(_ path: String, _ property: String) -> String {
            do throws(QMPError) {
                return try machine.qomGet(path, property: property).jsonText
            } catch {
                return "error: \(error.desc)"
            }
        }
        var memdevIDs: [String] {
            (machine.queryMemdev().arrayValue ?? []).compactMap { $0.objectValue?["id"]?.stringValue }
        }
    }

    @Test func builtinRAMIsListedAndInUse() throws {
        let t = try Harness()
        #expect(
            t.machine.queryMemdev().jsonText
                == #"[{"share": false, "reserve": true, "prealloc": false, "host-nodes": [], "size": 134217728, "merge": true, "dump": true, "policy": "default", "id": "pc.ram"}]"#
        )
        #expect(
            try t.machine.qomList("/objects").jsonText.contains(
                #"{"name": "pc.ram", "type": "child<memory-backend-ram>"}"#
            )
        )
        #expect(t.del("pc.ram") == "object 'pc.ram' is in use, can not be deleted")
        #expect(t.del("nope") == "object 'nope' not found")
    }

    @Test func objectAddChecksInQEMUsOrder() throws {
        let t = try Harness()
        #expect(t.add([:]) == "Parameter 'qom-type' is missing")
        #expect(t.add(["qom-type": "iothread"]) == "Parameter 'id' is missing")
        #expect(t.add(["qom-type": "nope", "id": "x"]) == "Parameter 'qom-type' does not accept value 'nope'")
        #expect(
            t.add(["qom-type": "throttle-group", "id": "x"])
                == "qmp-mockd does not simulate object type 'throttle-group'"
        )
        #expect(t.add(["qom-type": "iothread", "id": 5]) == "Invalid parameter type for 'id', expected: string")
        #expect(t.add(["qom-type": "memory-backend-ram", "id": "1x"]) == "Parameter 'size' is missing")
        #expect(
            t.add(["qom-type": "memory-backend-ram", "id": "m", "size": "1M"]) == "Parameter 'size' expects uint64"
        )
        #expect(
            t.add(["qom-type": "memory-backend-ram", "id": "m", "size": 1, "host-nodes": ["a"]])
                == "Parameter 'host-nodes[0]' expects uint64"
        )
        #expect(t.add(["qom-type": "iothread", "id": "x", "bogus": 1]) == "Parameter 'bogus' is unexpected")
        #expect(t.add(["qom-type": "iothread", "id": "1x"]) == "Parameter 'id' expects an identifier")
        #expect(
            t.add(["qom-type": "memory-backend-ram", "id": "m", "size": 0])
                == "property 'size' of memory-backend-ram doesn't take value '0'"
        )
        #expect(
            t.add(["qom-type": "memory-backend-ram", "id": "m", "size": 1, "reserve": false, "prealloc": true])
                == "'prealloc=on' and 'reserve=off' are incompatible"
        )
        #expect(
            t.add(["qom-type": "memory-backend-ram", "id": "m", "size": 1, "prealloc-context": "nope"])
                == "Device 'nope' not found"
        )
        #expect(
            t.add(["qom-type": "iothread", "id": "x", "poll-max-ns": -1])
                == "poll-max-ns value must be in range [0, 9223372036854775807]"
        )
        #expect(
            t.add(["qom-type": "memory-backend-ram", "id": "pc.ram", "size": 1])
                == "attempt to add duplicate property 'pc.ram' to object (type 'container')"
        )
        #expect(
            t.add(["qom-type": "memory-backend-ram", "id": "m", "size": 1, "policy": "bind"])
                == "host-nodes must be set for policy bind"
        )
        #expect(
            t.add(["qom-type": "memory-backend-ram", "id": "m", "size": 1, "host-nodes": [0]])
                == "host-nodes must be empty for policy default, or you should explicitly specify a policy other than default"
        )
        #expect(
            t.add(["qom-type": "rng-builtin", "id": "r", "opened": true])
                == "Property 'rng-builtin.opened' is not writable"
        )
        #expect(t.memdevIDs == ["pc.ram"])
    }

    @Test func profilesDifferInSecretLoadedAndFileSizeText() throws {
        let old = try Harness("7.2.0")
        let new = try Harness("10.0.0")
        #expect(
            old.add(["qom-type": "secret", "id": "s", "data": "x", "loaded": true])
                == "Property 'secret.loaded' is not writable"
        )
        #expect(
            new.add(["qom-type": "secret", "id": "s", "data": "x", "loaded": true])
                == "Parameter 'loaded' is unexpected"
        )
        for t in [old, new] {
            t.machine.objects.host.openMemoryFile = { _, _, _, _ in .success(3) }
        }
        let file: JSONObject = ["qom-type": "memory-backend-file", "id": "f", "size": 1_048_576, "mem-path": "/x"]
        #expect(old.add(file) == "backing store size 0x3 does not match 'size' option 0x100000")
        #expect(
            new.add(file) == "f backing store size 0x3 is too small for 'size' option 0x100000 plus 'offset' option 0x0"
        )
        #expect(old.add(file.merging(["offset": 0])) == "Parameter 'offset' is unexpected")
    }

    @Test func osSideIsAskedWithQEMUsTexts() throws {
        let t = try Harness()
        final class Calls: @unchecked Sendable { var files: [(String, UInt64, Bool, Bool)] = [] }
        let calls = Calls()
        t.machine.objects.host = ObjectHost(
            openMemoryFile: { path, length, readonly, mayCreate in
                calls.files.append((path, length, readonly, mayCreate))
                return path == "/missing/x" ? .failure(ObjectHostError("No such file or directory")) : .success(0)
            },
            createMemfd: { size, _, _, _ in
                .failure(ObjectHostError("failed to resize memfd to \(size): Invalid argument"))
            },
            openForReading: { _ in .failure(ObjectHostError("No such file or directory")) },
            readFile: { _ in .success(Array("key".utf8)) }
        )
        #expect(
            t.add(["qom-type": "memory-backend-file", "id": "f", "size": 4096, "mem-path": "/missing/x"])
                == "can't open backing store /missing/x for guest RAM: No such file or directory"
        )
        #expect(
            t.add(["qom-type": "memory-backend-file", "id": "f", "size": 4096, "mem-path": "/ok", "readonly": true])
                == nil
        )
        #expect(calls.files.last.map { "\($0.0) \($0.1) \($0.2) \($0.3)" } == "/ok 4096 true true")
        #expect(
            t.add(["qom-type": "memory-backend-memfd", "id": "m", "size": 4096, "hugetlb": true])
                == "failed to resize memfd to 4096: Invalid argument"
        )
        #expect(
            t.add(["qom-type": "rng-random", "id": "r"]) == "Could not open '/dev/urandom': No such file or directory"
        )
        #expect(t.add(["qom-type": "secret", "id": "s", "file": "/k"]) == nil)
        #expect(
            t.add(["qom-type": "secret", "id": "s2", "file": "/k", "data": "x"])
                == "'file' and 'data' are mutually exclusive"
        )
        #expect(t.memdevIDs == ["pc.ram", "f"])
    }

    @Test func textValuesAreConvertedAsKeyvalDoes() throws {
        let t = try Harness()
        func text(_ arguments: JSONObject) -> String? {
            t.h.error { () throws(QMPError) in try t.machine.objectAdd(arguments, textValues: true) }
        }
        #expect(text(["qom-type": "memory-backend-ram", "id": "m", "size": "1X"]) == "Parameter 'size' expects size")
        #expect(
            text(["qom-type": "memory-backend-ram", "id": "m", "size": "1M", "merge": "maybe"])
                == "Parameter 'merge' expects 'on' or 'off'"
        )
        #expect(
            text(["qom-type": "memory-backend-ram", "id": "m", "size": "1M", "host-nodes": "0", "policy": "bind"])
                == "Invalid parameter type for 'host-nodes', expected: array"
        )
        #expect(
            text(["qom-type": "iothread", "id": "i", "poll-max-ns": "abc"]) == "Parameter 'poll-max-ns' expects integer"
        )
        #expect(text(["qom-type": "iothread", "id": "i", "poll-max-ns": "0x10"]) == nil)
        #expect(
            text([
                "qom-type": "memory-backend-ram", "id": "m", "size": "2M", "merge": "off", "host-nodes.0": "0",
                "policy": "bind",
            ])
                == nil
        )
        #expect(
            t.machine.queryMemdev().arrayValue?.last?.objectValue.map { JSONValue.object($0).jsonText }
                == #"{"share": false, "reserve": true, "prealloc": false, "host-nodes": [0], "size": 2097152, "merge": false, "dump": true, "policy": "bind", "id": "m"}"#
        )
        #expect(t.get("/objects/i", "poll-max-ns") == "16")
    }

    @Test func secretsFollowQEMUsLoadRules() throws {
        let t = try Harness()
        #expect(t.add(["qom-type": "secret", "id": "s"]) == "Either 'file' or 'data' must be provided")
        #expect(
            t.add(["qom-type": "secret", "id": "s", "data": "!!", "format": "base64"])
                == "Base64 data contains invalid characters"
        )
        #expect(
            t.add(["qom-type": "secret", "id": "s", "file": "/nope"])
                == "Unable to read /nope: Failed to open file \u{201C}/nope\u{201D}: No such file or directory"
        )
        #expect(t.add(["qom-type": "secret", "id": "s", "data": "hunter2"]) == nil)
        #expect(t.add(["qom-type": "secret", "id": "e", "data": "x", "keyid": "nope"]) == "No secret with id 'nope'")
        #expect(
            t.add(["qom-type": "secret", "id": "e", "data": "x", "keyid": "s"]) == "Key should be 32 bytes in length"
        )
        let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
        #expect(t.add(["qom-type": "secret", "id": "k", "data": .string(key), "format": "base64"]) == nil)
        #expect(
            t.add(["qom-type": "secret", "id": "e", "data": "x", "keyid": "k"]) == "IV is required to decrypt secret"
        )
        #expect(t.get("/objects/s", "data") == #""hunter2""#)
        #expect(t.get("/objects/s", "format") == #""raw""#)
    }

    @Test func queryIOThreadsGivesStableFakeThreadIDs() throws {
        let t = try Harness()
        #expect(t.add(["qom-type": "iothread", "id": "io0"]) == nil)
        #expect(t.add(["qom-type": "iothread", "id": "io1", "poll-max-ns": 100, "aio-max-batch": 5]) == nil)
        #expect(t.del("io0") == nil)
        #expect(t.add(["qom-type": "iothread", "id": "io0"]) == nil)
        #expect(
            t.machine.queryIOThreads().jsonText
                == #"[{"poll-shrink": 0, "thread-id": 10002, "aio-max-batch": 5, "poll-grow": 0, "poll-max-ns": 100, "id": "io1"}, {"poll-shrink": 0, "thread-id": 10003, "aio-max-batch": 0, "poll-grow": 0, "poll-max-ns": 32768, "id": "io0"}]"#
        )
    }

    @Test func deviceLinksResolveHoldAndReadBack() throws {
        let t = try Harness()
        #expect(t.add(["qom-type": "rng-random", "id": "rng0"]) == nil)
        #expect(t.add(["qom-type": "iothread", "id": "io0"]) == nil)
        #expect(
            t.deviceAdd(["driver": "virtio-rng-pci", "id": "r0", "bus": "rp1", "rng": "nope"])
                == "Device 'nope' not found"
        )
        #expect(
            t.deviceAdd(["driver": "virtio-rng-pci", "id": "r0", "bus": "rp1", "rng": "io0"])
                == "Invalid parameter type for 'rng', expected: rng-backend"
        )
        #expect(
            t.deviceAdd(["driver": "virtio-rng-pci", "id": "r0", "bus": "rp1", "rng": "rp2"])
                == "Invalid parameter type for 'rng', expected: rng-backend"
        )
        #expect(
            t.deviceAdd(["driver": "virtio-rng-pci", "id": "r0", "bus": "rp1", "rng": "/objects/nope"])
                == "Device '/objects/nope' not found"
        )
        #expect(t.deviceAdd(["driver": "virtio-rng-pci", "id": "r0", "bus": "rp1", "rng": "/objects/rng0"]) == nil)
        #expect(
            t.deviceAdd(["driver": "virtio-rng-pci", "id": "r1", "bus": "pb1", "addr": "0x3", "rng": "rng0"]) == nil
        )
        #expect(t.get("/machine/peripheral/r0", "rng") == #""/objects/rng0""#)
        #expect(t.get("/machine/peripheral/r0/virtio-backend", "rng") == #""/objects/rng0""#)
        #expect(
            t.get("/machine/peripheral/cold1", "rng") == #""/machine/peripheral/cold1/virtio-backend/default-backend""#
        )
        // Deleting an RNG backend or an iothread in use succeeds; the link reads "" even once a new
        // object takes the id.
        #expect(t.del("rng0") == nil)
        #expect(t.add(["qom-type": "rng-random", "id": "rng0"]) == nil)
        #expect(t.get("/machine/peripheral/r0", "rng") == #""""#)
        #expect(
            t.deviceAdd(["driver": "virtio-scsi-pci", "id": "s0", "bus": "pb1", "addr": "0x1", "iothread": "rng0"])
                == "Invalid parameter type for 'iothread', expected: iothread"
        )
        #expect(
            t.deviceAdd(["driver": "virtio-scsi-pci", "id": "s0", "bus": "pb1", "addr": "0x1", "iothread": "io0"])
                == nil
        )
        #expect(t.get("/machine/peripheral/s0", "iothread") == #""/objects/io0""#)
        #expect(t.machine.objects["io0"]?.users == 1)
        #expect(t.del("io0") == nil)
        #expect(t.get("/machine/peripheral/s0", "iothread") == #""""#)
        // The device's DEVICE_DELETED lets its objects go.
        #expect(t.h.error { () throws(QMPError) in try t.machine.deviceDel("r1") } == nil)
        t.machine.flushDeferredEvents()
        #expect(t.machine.objects.objects.allSatisfy { $0.users == 0 || $0.isBuiltin })
    }

    /// A device model that takes a memory backend (pc-dimm's `memdev`, before pc-dimm itself exists).
    static let dimm = DeviceModel(
        name: "test-dimm",
        properties: [.init("memdev", "link<memory-backend>", backend: .object(type: "memory-backend"))],
        vendorID: 0x1234,
        deviceID: 0x5678,
        classCode: 0x0500
    )

    @Test func memoryBackendInUseCannotBeDeleted() throws {
        let t = try Harness()
        t.machine.addModels([Self.dimm])
        #expect(t.add(["qom-type": "memory-backend-ram", "id": "m0", "size": 1_048_576]) == nil)
        #expect(t.add(["qom-type": "rng-builtin", "id": "rng0"]) == nil)
        #expect(
            t.deviceAdd(["driver": "test-dimm", "id": "d0", "bus": "rp1", "memdev": "rng0"])
                == "Invalid parameter type for 'memdev', expected: memory-backend"
        )
        #expect(
            t.deviceAdd(["driver": "test-dimm", "id": "d0", "bus": "rp1", "memdev": "pc.ram"])
                == "can't use already busy memdev: pc.ram"
        )
        #expect(t.deviceAdd(["driver": "test-dimm", "id": "d0", "bus": "rp1", "memdev": "m0"]) == nil)
        #expect(
            t.deviceAdd(["driver": "test-dimm", "id": "d1", "bus": "rp1", "memdev": "m0"])
                == "can't use already busy memdev: m0"
        )
        #expect(t.del("m0") == "object 'm0' is in use, can not be deleted")
        #expect(t.get("/machine/peripheral/d0", "memdev") == #""/objects/m0""#)
        #expect(t.h.error { () throws(QMPError) in try t.machine.deviceDel("d0") } == nil)
        t.machine.flushDeferredEvents()
        #expect(t.del("m0") == nil)
        #expect(t.memdevIDs == ["pc.ram"])
    }

    @Test func failedDeviceAddLetsItsObjectsGo() throws {
        let t = try Harness()
        t.machine.addModels([Self.dimm])
        #expect(t.add(["qom-type": "memory-backend-ram", "id": "m0", "size": 1_048_576]) == nil)
        // rp3 refuses hot-plug after the link was made.
        #expect(t.deviceAdd(["driver": "test-dimm", "id": "d0", "bus": "rp3", "memdev": "m0"]) != nil)
        #expect(t.machine.objects["m0"]?.users == 0)
        #expect(t.del("m0") == nil)
    }

    @Test func vhostUserNetdevHoldsItsChardev() throws {
        let t = try Harness()
        func netdev(_ arguments: JSONObject) -> String? {
            t.h.error { () throws(QMPError) in try t.machine.netdevAdd(arguments, monitor: "m") }
        }
        let socket = JSONValue(
            parsing: #"{"type": "socket", "data": {"addr": {"type": "unix", "data": {"path": "/t/s"}}}}"#
        )
        _ = try? t.machine.chardevAdd(id: "s1", backend: socket)
        _ = try? t.machine.chardevAdd(id: "n1", backend: JSONValue(parsing: #"{"type": "null", "data": {}}"#))
        #expect(netdev(["type": "vhost-user", "id": "v0", "chardev": "nope"]) == "chardev \"nope\" not found")
        #expect(
            netdev(["type": "vhost-user", "id": "v0", "chardev": "n1", "queues": 0])
                == "chardev \"n1\" is not reconnectable"
        )
        #expect(
            netdev(["type": "vhost-user", "id": "v0", "chardev": "s1", "queues": 1025])
                == "vhost-user number of queues must be in range [1, 1024]"
        )
        #expect(netdev(["type": "vhost-user", "id": "v0", "chardev": "s1"]) == nil)
        #expect(t.machine.chardevs["s1"]?.isBusy == true)
        #expect(t.h.error { () throws(QMPError) in try t.machine.chardevRemove(id: "s1") } == "Chardev 's1' is busy")
        #expect(
            netdev(["type": "vhost-user", "id": "v1", "chardev": "s1"])
                == "Device 'vhost-user' could not be initialized"
        )
        #expect(t.h.error { () throws(QMPError) in try t.machine.netdevDel(id: "v0") } == nil)
        #expect(t.h.error { () throws(QMPError) in try t.machine.chardevRemove(id: "s1") } == nil)
    }

    @Test func configurationCreatesObjectsAndChardevsFirst() throws {
        let head = """
            machine: q35
            objects:
              - {qom-type: iothread, id: io0}
              - {qom-type: memory-backend-ram, id: m0, size: 1048576}
            chardevs:
              - {id: c0, backend: {type: "null", data: {}}}

            """
        let netdevs = "netdevs:\n  - {type: vhost-user, id: v0, chardev: c0}\n"
        let tail = """
            controllers:
              - {driver: pcie-root-port, id: rp1, chassis: 1, slot: 1}
            devices:
              - {driver: virtio-scsi-pci, id: s0, bus: rp1, iothread: io0}
            """
        let yaml = head + netdevs + tail
        // A null chardev cannot serve vhost-user: the error names the netdev's line.
        let configuration = try MachineConfiguration.load(yaml: yaml)
        #expect(configuration.objects.count == 2)
        #expect(configuration.chardevs.count == 1)
        #expect(
            throws: MachineConfigurationError(
                line: 8,
                message: "-netdev vhost-user,id=v0: chardev \"c0\" is not reconnectable"
            )
        ) {
            _ = try MachineHarness(version: "7.2.0", configuration: configuration)
        }
        let good = try MachineConfiguration.load(yaml: head + tail)
        let h = try MachineHarness(version: "7.2.0", configuration: good)
        #expect(h.machine.objects["io0"]?.users == 1)
        #expect(h.machine.chardevs["c0"] != nil)
        let bad = try MachineConfiguration.load(yaml: "objects:\n  - {qom-type: memory-backend-ram, id: m0}\n")
        #expect(
            throws: MachineConfigurationError(
                line: 2,
                message: "-object memory-backend-ram,id=m0: Parameter 'size' is missing"
            )
        ) {
            _ = try MachineHarness(version: "7.2.0", configuration: bad)
        }
        let badChardev = try MachineConfiguration.load(
            yaml: "chardevs:\n  - {id: c0, backend: {type: nope, data: {}}}\n"
        )
        #expect(
            throws: MachineConfigurationError(
                line: 2,
                message: "-chardev nope,id=c0: Parameter 'type' does not accept value 'nope'"
            )
        ) {
            _ = try MachineHarness(version: "7.2.0", configuration: badChardev)
        }
    }
}

extension JSONObject {
    fileprivate func merging(_ other: JSONObject) -> JSONObject {
        var result = self
        for member in other.members { result.append(member.key, member.value) }
        return result
    }
}
