import QMPWire
import SimulatedMachine
import Testing
import YAMLConfig

/// Network backends as measured on QEMU 7.2.22 and 10.0.2: netdev_add's checks and order, descriptors
/// taken from getfd names (owned from then on, also when the command fails), netdev= links, and
/// netdev_del of a netdev a NIC uses (id free at once; descriptors released at once on 7.2, with the
/// NIC on 10.0). Every descriptor handed over is released exactly once.
@Suite struct NetdevTests {
    final class Harness {
        let h: MachineHarness
        var released: [Int32] = []
        var nextFD: Int32 = 100
        var machine: Machine { h.machine }

        init(_ version: String = "7.2.0") throws {
            h = try MachineHarness(version: version)
            h.machine.descriptors.release = { [unowned self] in released.append($0) }
        }

        /// getfd of a new descriptor under `name` on monitor "m".
        @discardableResult
        func getfd(_ name: String) throws -> Int32 {
            defer { nextFD += 1 }
            try machine.getfd(name: name, fd: nextFD, monitor: "m")
            return nextFD
        }

        func add(_ arguments: JSONObject) -> String? {
            h.error { () throws(QMPError) in try machine.netdevAdd(arguments, monitor: "m") }
        }
        func del(_ id: String) -> String? { h.error { () throws(QMPError) in try machine.netdevDel(id: id) } }
        func deviceAdd(_ arguments: JSONObject) -> String? {
            h.error { () throws(QMPError) in try machine.deviceAdd(arguments) }
        }
    }

    @Test func argumentChecksInQEMUsOrder() throws {
        let t = try Harness()
        #expect(t.add([:]) == "Parameter 'id' is missing")
        #expect(t.add(["id": "x"]) == "Parameter 'type' is missing")
        #expect(t.add(["type": "bogus", "id": "1x"]) == "Parameter 'type' does not accept value 'bogus'")
        #expect(t.add(["type": "user", "id": "1x", "bogus": 1]) == "Parameter 'bogus' is unexpected")
        #expect(
            t.add(["type": "user", "id": "x", "ipv4": "on"]) == "Invalid parameter type for 'ipv4', expected: boolean"
        )
        #expect(t.add(["type": "user", "id": "1x"]) == "Parameter 'id' expects an identifier")
        #expect(t.add(["type": "nic", "id": "n"]) == "network backend 'nic' is not compiled into this binary")
        #expect(t.add(["type": "tap", "id": "t", "fd": "a", "queues": "2"]) == "Parameter 'queues' expects uint64")
        #expect(t.add(["type": "user", "id": "x"]) == nil)
        #expect(t.add(["type": "nic", "id": "x"]) == "network backend 'nic' is not compiled into this binary")
        #expect(t.add(["type": "socket", "id": "x"]) == "Duplicate ID 'x'")
        #expect(t.add(["type": "vhost-user", "id": "v", "chardev": "c"]) == "chardev \"c\" not found")
        #expect(
            t.add(["type": "stream", "id": "s", "addr": .object(["type": "inet", "host": "h"])])
                == "Parameter 'addr.port' is missing"
        )
        #expect(t.add(["type": "dgram", "id": "d"]) == "dgram requires local= parameter")
        #expect(
            t.add(["type": "socket", "id": "s", "listen": "bogus"])
                == "host address 'bogus' doesn't contain ':' separating host from port"
        )
        #expect(t.del("nope") == "Device 'nope' not found")
        #expect(t.del("x") == nil)
    }

    @Test func tapTakesNamedDescriptorsAndReleasesThemOnce() throws {
        let t = try Harness()
        let tap = try t.getfd("tap0")
        let vhost = try t.getfd("vhost0")
        #expect(t.add(["type": "tap", "id": "t1", "fds": .string("tap0"), "vhost": true, "vhostfds": "vhost0"]) == nil)
        #expect(t.machine.netdevs.backends["t1"]?.descriptors == [tap, vhost])
        #expect(
            t.h.error { () throws(QMPError) in try t.machine.closefd(name: "tap0", monitor: "m") }
                == "File descriptor named 'tap0' not found"
        )
        #expect(t.machine.descriptors.count == 2)  // still counted against the limit
        #expect(t.del("t1") == nil)
        #expect(t.released.sorted() == [tap, vhost])
        #expect(t.machine.descriptors.count == 0)
    }

    @Test func failedTapAddConsumesWhatItTook() throws {
        let t = try Harness()
        let a = try t.getfd("a")
        #expect(
            t.add(["type": "tap", "id": "t1", "fd": "a", "vhost": false, "vhostfd": "nope"])
                == "vhostfd(s)= is not valid without vhost"
        )
        #expect(t.released == [a])
        // fds: the queues made before a failing one stay, under the id (as on QEMU).
        let q0 = try t.getfd("q0")
        #expect(
            t.add(["type": "tap", "id": "t2", "fds": "q0:nope"]) == "File descriptor named 'nope' has not been found"
        )
        #expect(t.add(["type": "user", "id": "t2"]) == "Duplicate ID 't2'")
        #expect(t.del("t2") == "Device 't2' is not a netdev")
        #expect(t.machine.netdevs.backends["t2"]?.descriptors == [q0])
        #expect(
            t.add(["type": "tap", "id": "t3", "fd": "99999999999"]) == "Invalid file descriptor number '99999999999'"
        )
        #expect(
            t.add(["type": "tap", "id": "t3", "fd": "42"]) == "t3: Can't use file descriptor 42: Bad file descriptor"
        )
        #expect(
            t.add(["type": "tap", "id": "t3", "fd": "a", "ifname": "x"])?.hasSuffix("are invalid with fd=") == true
        )
    }

    @Test(arguments: ["7.2.0", "10.0.0"]) func netdevLinksAndDeletionInUse(version: String) throws {
        let t = try Harness(version)
        let tap = try t.getfd("tap0")
        #expect(t.add(["type": "tap", "id": "n1", "fd": "tap0"]) == nil)
        #expect(
            t.deviceAdd(["driver": "virtio-net-pci", "id": "nic1", "netdev": "nope", "bus": "rp1"])
                == "Property 'virtio-net-device.netdev' can't find value 'nope'"
        )
        #expect(t.deviceAdd(["driver": "virtio-net-pci", "id": "nic1", "netdev": "n1", "bus": "rp1"]) == nil)
        #expect(
            t.deviceAdd(["driver": "e1000e", "id": "nic2", "netdev": "n1", "bus": "rp2"])
                == "Property 'e1000e.netdev' can't take value 'n1', it's in use"
        )
        #expect(t.del("n1") == nil)
        #expect(t.released == (version == "7.2.0" ? [tap] : []))
        #expect(t.add(["type": "user", "id": "n1"]) == nil)
        #expect(t.deviceAdd(["driver": "e1000", "id": "nic2", "netdev": "n1", "bus": "pb1", "addr": "0x3"]) == nil)
        // nic1 goes (never-powered slot: at once): the old backend's descriptors go with it on 10.0,
        // and the new n1 keeps its NIC.
        #expect(t.h.error { () throws(QMPError) in try t.machine.deviceDel("nic1") } == nil)
        t.machine.flushDeferredEvents()
        #expect(t.released == [tap])
        #expect(t.machine.netdevs.backends["n1"]?.inUse == true)
        #expect(
            t.deviceAdd(["driver": "e1000", "id": "nic3", "netdev": "n1", "bus": "pb1", "addr": "0x2"])?.contains(
                "in use"
            ) == true
        )
    }

    @Test func configurationCreatesNetdevsBeforeDevices() throws {
        let configuration = try MachineConfiguration.load(
            yaml: """
                machine: q35
                netdevs:
                  - {type: user, id: hostnet0, hostfwd: [{str: "tcp::2222-:22"}]}
                  - type: socket
                    id: sock0
                    listen: "127.0.0.1:0"
                devices:
                  - {driver: virtio-net-pci, id: net0, netdev: hostnet0}
                """
        )
        let h = try MachineHarness(configuration: configuration)
        #expect(h.machine.netdevs.order == ["hostnet0", "sock0"])
        #expect(h.machine.netdevs.backends["hostnet0"]?.inUse == true)
        let bad = try MachineConfiguration.load(yaml: "netdevs:\n  - {type: user, id: \"1x\"}\n")
        #expect(throws: MachineConfigurationError.self) { try MachineHarness(configuration: bad) }
    }
}
