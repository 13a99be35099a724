import QEMUCommandLine
import QMPWire
import SimulatedMachine
import Testing

/// QEMU's command line translated: libvirt 9.0's three recorded command lines option by option,
/// QEMU's defaults, QemuOpts escapes, the JSON forms, and the errors with QEMU 7.2's texts.
@Suite struct QEMUCommandLineTests {
    /// libvirt's capability probe (`argv-probe.txt`).
    static let probe = [
        "-S", "-no-user-config", "-nodefaults", "-nographic", "-machine", "none,accel=kvm:tcg",
        "-qmp", "unix:/tmp/probe/qmp.monitor,server=on,wait=off", "-pidfile", "/tmp/probe/qmp.pid", "-daemonize",
    ]

    /// libvirt's q35 domain (`argv-domain.txt`).
    static let domain = [
        "-name", "guest=lvcheck,debug-threads=on", "-S",
        "-object", #"{"qom-type":"secret","id":"masterKey0","format":"raw","file":"/d/master-key.aes"}"#,
        "-machine", "pc-q35-7.2,usb=off,dump-guest-core=off,memory-backend=pc.ram",
        "-accel", "tcg", "-cpu", "qemu64", "-m", "256",
        "-object", #"{"qom-type":"memory-backend-ram","id":"pc.ram","size":268435456}"#,
        "-overcommit", "mem-lock=off", "-smp", "1,sockets=1,cores=1,threads=1",
        "-uuid", "F333D0F8-4d2c-4f75-af57-f2237f32be46", "-display", "none", "-no-user-config", "-nodefaults",
        "-chardev", "socket,id=charmonitor,fd=21,server=on,wait=off",
        "-mon", "chardev=charmonitor,id=monitor,mode=control",
        "-rtc", "base=utc", "-no-shutdown", "-no-acpi", "-boot", "strict=on",
        "-device",
        #"{"driver":"pcie-root-port","port":8,"chassis":1,"id":"pci.1","bus":"pcie.0","multifunction":true,"addr":"0x1"}"#,
        "-device", #"{"driver":"pcie-root-port","port":9,"chassis":2,"id":"pci.2","bus":"pcie.0","addr":"0x1.0x1"}"#,
        "-device", #"{"driver":"pcie-root-port","port":10,"chassis":3,"id":"pci.3","bus":"pcie.0","addr":"0x1.0x2"}"#,
        "-device", #"{"driver":"pcie-root-port","port":11,"chassis":4,"id":"pci.4","bus":"pcie.0","addr":"0x1.0x3"}"#,
        "-audiodev", #"{"id":"audio1","driver":"none"}"#,
        "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
        "-msg", "timestamp=on",
    ]

    private func run(_ arguments: [String], kvmUsable: Bool = true) throws -> QEMUInvocation {
        guard case .run(let invocation) = try QEMUCommandLine.parse(arguments, kvmUsable: kvmUsable) else {
            throw QEMUOptionError(option: nil, "not a run request")
        }
        return invocation
    }

    /// The stderr text of a refused command line.
    private func failure(_ arguments: [String]) -> String? {
        do throws(QEMUOptionError) {
            _ = try QEMUCommandLine.parse(arguments)
            return nil
        } catch {
            return error.report(program: "qemu-system-x86_64")
        }
    }

    @Test func probeCommandLine() throws {
        let p = try run(Self.probe)
        #expect(p.isMachineNone)
        #expect(p.machineName == "none")
        #expect(p.machine.board.accel == .kvm)  // kvm:tcg: the first qmp-mock models
        // Without access to /dev/kvm QEMU falls back to the next of the list (libvirt expects it).
        #expect(try run(Self.probe, kvmUsable: false).machine.board.accel == .tcg)
        #expect(try run(["-accel", "kvm", "-accel", "tcg"], kvmUsable: false).machine.board.accel == .tcg)
        // A lone kvm is simulated all the same: a fake needs no hypervisor.
        #expect(try run(["-machine", "q35,accel=kvm"], kvmUsable: false).machine.board.accel == .kvm)
        #expect(p.startPaused && p.daemonize)
        #expect(p.pidfile == "/tmp/probe/qmp.pid")
        #expect(
            p.monitors == [
                QEMUMonitor(
                    chardev: "compat_monitor0",
                    socket: .path("/tmp/probe/qmp.monitor"),
                    option: "-qmp unix:/tmp/probe/qmp.monitor,server=on,wait=off"
                )
            ]
        )
        #expect(p.machine.devices.isEmpty && p.machine.chardevs.isEmpty)
        #expect(p.ignored == ["-no-user-config", "-nodefaults", "-nographic"])
    }

    @Test func domainCommandLine() throws {
        let d = try run(Self.domain)
        #expect(d.name == "lvcheck")
        #expect(d.uuid == "f333d0f8-4d2c-4f75-af57-f2237f32be46")
        #expect(d.machineName == "pc-q35-7.2")
        #expect(d.machine.machineType == .q35)
        #expect(d.machine.board.accel == .tcg)
        #expect(d.cpuModel == "qemu64")
        #expect(d.machine.board.memory == MemoryOptions(size: 256 << 20))
        #expect(d.machine.board.smp == SMPOptions(cpus: 1, sockets: 1, cores: 1, threads: 1))
        #expect(d.machine.board.globals.isEmpty)
        #expect(d.machine.memoryBackend == "pc.ram")
        #expect(d.machine.objects.map { $0.arguments["id"]?.stringValue } == ["masterKey0", "pc.ram"])
        #expect(d.machine.objects[1].arguments["size"] == .int(268_435_456))
        #expect(d.machine.objects.allSatisfy { $0.textOptions == nil })
        #expect(d.startPaused && !d.daemonize && d.pidfile == nil)
        #expect(d.noShutdown && d.timestampMessages)
        #expect(d.monitors.map(\.socket) == [.descriptor(21)])
        #expect(d.monitors.map(\.chardev) == ["charmonitor"])
        #expect(d.machine.chardevs.isEmpty)
        let ports = d.machine.devices
        #expect(ports.map(\.driver) == Array(repeating: "pcie-root-port", count: 4))
        #expect(ports.map(\.id) == ["pci.1", "pci.2", "pci.3", "pci.4"])
        #expect(ports.map(\.bus) == Array(repeating: "pcie.0", count: 4))
        #expect(
            ports[0].properties == ["port": .int(8), "chassis": .int(1), "multifunction": .bool(true), "addr": "0x1"]
        )
        #expect(ports[3].properties == ["port": .int(11), "chassis": .int(4), "addr": "0x1.0x3"])
        #expect(ports[0].option?.hasPrefix(#"{"driver":"pcie-root-port","port":8"#) == true)
        #expect(
            d.ignored == [
                "-overcommit mem-lock=off", "-display none", "-no-user-config", "-nodefaults", "-rtc base=utc",
                "-no-acpi", "-boot strict=on", #"-audiodev {"id":"audio1","driver":"none"}"#,
                "-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
            ]
        )
    }

    @Test func nativeDomainCommandLine() throws {
        let n = try run(Self.domain + ["-global", "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off"])
        let global = GlobalProperty(driver: "ICH9-LPC", property: "acpi-pci-hotplug-with-bridge-support", value: "off")
        let board = BoardOptions(
            accel: .tcg,
            smp: SMPOptions(cpus: 1, sockets: 1, cores: 1, threads: 1),
            memory: MemoryOptions(size: 256 << 20),
            globals: [global]
        )
        #expect(n.machine.board == board)
    }

    @Test func qemuDefaults() throws {
        let d = try run([])
        #expect(d.machineName == "pc" && d.machine.machineType == .pc)
        #expect(d.machine.board == BoardOptions(accel: .tcg))
        #expect(d.machine.board.memory.size == 128 << 20)
        #expect(d.monitors.isEmpty && d.name == nil && !d.startPaused)
    }

    @Test func doubleDashesAndMachineNames() throws {
        #expect(try run(["--machine", "q35"]).machine.machineType == .q35)
        #expect(try run(["-M", "pc-i440fx-7.2"]).machine.machineType == .pc)
        #expect(try run(["-machine", "type=pc-q35-10.0"]).machine.machineType == .q35)
        #expect(try run(["-machine", "pc"]).machine.machineType == .pc)
        #expect(try run(["-machine", "q35", "-machine", "accel=kvm"]).machine.board.accel == .kvm)
        #expect(try run(["-enable-kvm"]).machine.board.accel == .kvm)
        #expect(try run(["-accel", "xen", "-accel", "tcg"]).machine.board.accel == .tcg)
    }

    @Test func escapesAndPlainNames() throws {
        #expect(try run(["-name", "a,,b,debug-threads=on"]).name == "a,b")
        #expect(try run(["-name", "vm1"]).name == "vm1")
        let d = try run(["-machine", "q35", "-device", "e1000e,id=n0,romfile=/a,,b,bus=pcie.0"])
        #expect(
            d.machine.devices == [
                DeviceSpec(
                    driver: "e1000e",
                    id: "n0",
                    bus: "pcie.0",
                    properties: ["romfile": "/a,b"],
                    option: "e1000e,id=n0,romfile=/a,,b,bus=pcie.0"
                )
            ]
        )
    }

    @Test func memoryAndSMP() throws {
        #expect(try run(["-m", "1G"]).machine.board.memory == MemoryOptions(size: 1 << 30))
        #expect(
            try run(["-m", "size=512,slots=4,maxmem=4G"]).machine.board.memory
                == MemoryOptions(size: 512 << 20, slots: 4, maxmem: 4 << 30)
        )
        #expect(try run(["-smp", "cpus=2,maxcpus=8"]).machine.board.smp == SMPOptions(cpus: 2, maxcpus: 8))
        #expect(
            try run(["-global", "driver=PIIX4_PM,property=acpi-root-pci-hotplug,value=off"]).machine.board.globals
                == [GlobalProperty(driver: "PIIX4_PM", property: "acpi-root-pci-hotplug", value: "off")]
        )
    }

    @Test func backendsInBothForms() throws {
        let d = try run([
            "-netdev", "user,id=n0,hostfwd=tcp::2222-:22",
            "-netdev", #"{"type":"user","id":"n1"}"#,
            "-blockdev", "driver=qcow2,node-name=d0,read-only=on,file.driver=file,file.filename=/x.qcow2",
            "-blockdev", #"{"driver":"null-co","node-name":"d1"}"#,
            "-object", "iothread,id=io0",
            "-drive", "if=none,id=drive0,file=null-co://",
        ])
        #expect(d.machine.netdevs.map { $0.textOptions?.map { $0.key } } == [["type", "id", "hostfwd"], nil])
        #expect(d.machine.netdevs[1].arguments == ["type": "user", "id": "n1"])
        #expect(
            d.machine.blockdevs[0].arguments
                == [
                    "driver": "qcow2", "node-name": "d0", "read-only": .bool(true),
                    "file": .object(["driver": "file", "filename": "/x.qcow2"]),
                ]
        )
        #expect(d.machine.blockdevs[1].option == #"{"driver":"null-co","node-name":"d1"}"#)
        #expect(d.machine.objects[0].arguments == ["qom-type": "iothread", "id": "io0"])
        #expect(d.machine.objects[0].textOptions != nil)
        #expect(d.machine.drives.map { $0.arguments["id"] } == ["drive0"])
    }

    @Test func chardevsAndMonitors() throws {
        let d = try run([
            "-chardev", "socket,id=mon0,path=/tmp/m.sock,server=on,wait=off",
            "-mon", "chardev=mon0,mode=control",
            "-chardev", "file,id=log0,path=/tmp/log",
            "-chardev", "null,id=n0",
            "-chardev", "pty,id=p0",
            "-qmp", "unix:/tmp/q.sock,server,nowait",
            "-monitor", "none",
        ])
        #expect(d.monitors.map(\.socket) == [.path("/tmp/m.sock"), .path("/tmp/q.sock")])
        #expect(d.monitors.map(\.chardev) == ["mon0", "compat_monitor0"])
        #expect(d.machine.chardevs.map { $0.arguments["id"]?.stringValue } == ["log0", "n0", "p0"])
        #expect(
            d.machine.chardevs[0].arguments["backend"]
                == .object(["type": "file", "data": .object(["out": "/tmp/log"])])
        )
        #expect(d.machine.chardevs[1].arguments["backend"] == .object(["type": "null", "data": .object([:])]))
    }

    @Test func helpAndVersion() throws {
        guard case .version = try QEMUCommandLine.parse(["-version"]) else {
            Issue.record("-version")
            return
        }
        guard case .help = try QEMUCommandLine.parse(["-S", "--help"]) else {
            Issue.record("--help")
            return
        }
        let profile = try #require(QEMUProfile("7.2.0", package: "qmp-mock 0.1.0"))
        #expect(
            QEMUHelpText.version(profile)
                == "QEMU emulator version 7.2.0 (qmp-mock 0.1.0)\n"
                + "Copyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers\n"
        )
        let ten = try #require(QEMUProfile("10.0.0", package: ""))
        #expect(QEMUHelpText.version(ten).hasPrefix("QEMU emulator version 10.0.0\nCopyright (c) 2003-2025 "))
    }

    /// QEMU 7.2.22's own texts (Tests/integration/test_qemu_command_line.py compares them with it).
    @Test func errorsHaveQEMUsTexts() {
        let p = "qemu-system-x86_64: "
        #expect(failure(["-bogus"]) == p + "-bogus: invalid option\n")
        #expect(failure(["--bogus"]) == p + "--bogus: invalid option\n")
        #expect(failure(["-device"]) == p + "-device: requires an argument\n")
        #expect(
            failure(["-machine", "foo"]) == p
                + "unsupported machine type\nUse -machine help to list supported machines\n"
        )
        #expect(failure(["-smp", "foo"]) == p + "Parameter 'smp.cpus' expects integer\n")
        #expect(failure(["-accel", "foo"]) == p + "-accel foo: invalid accelerator foo\n")
        #expect(failure(["-machine", "none,accel=foo"]) == p + "invalid accelerator foo\n")
        #expect(
            failure(["-accel", "tcg", "-machine", "q35,accel=tcg"])
                == p + "The -accel and \"-machine accel=\" options are incompatible\n"
        )
        #expect(failure(["-uuid", "xyz"]) == p + "-uuid xyz: failed to parse UUID string: wrong format\n")
        #expect(failure(["-chardev", "foo,id=x"]) == p + "-chardev foo,id=x: 'foo' is not a valid char driver name\n")
        #expect(
            failure(["-mon", "chardev=nope,mode=control"]) == p
                + "-mon chardev=nope,mode=control: chardev \"nope\" not found\n"
        )
        #expect(
            failure(["-qmp", "foo"]) == p + "-qmp foo: 'foo' is not a valid char driver\n" + p
                + "-qmp foo: parse error: foo\n"
        )
        #expect(failure(["-machine", "q35,memory-backend=nope"]) == p + "Memory backend 'nope' not found\n")
        #expect(
            failure(["-m", "64", "-machine", "q35,memory-backend=m", "-object", "memory-backend-ram,id=m,size=128M"])
                == p + "Machine memory size does not match the size of the memory backend\n"
        )
        #expect(
            failure(["-msg", "timestamp=maybe"]) == p
                + "-msg timestamp=maybe: Parameter 'timestamp' expects 'on' or 'off'\n"
        )
        #expect(
            failure(["-machine", "none", "-device", "pcie-root-port"]) == p
                + "-device pcie-root-port: No 'PCI' bus found for device 'pcie-root-port'\n"
        )
        #expect(failure(["-device", "{bad"]) == p + "-device {bad: JSON parse error\n")
        #expect(
            failure(["-m", "foo"])?.hasPrefix(
                p + "-m foo: Parameter 'size' expects a non-negative number below 2^64\nOptional suffix"
            ) == true
        )
        #expect(failure(["-machine", "q35,usb=off,bogus=1"]) == p + "Property 'pc-q35-7.2-machine.bogus' not found\n")
        #expect(failure(["-machine", "pc-q35-6.2,bogus=1"]) == p + "Property 'pc-q35-6.2-machine.bogus' not found\n")
        #expect(failure(["-machine", "none,vmport=off"]) == p + "Property 'none-machine.vmport' not found\n")
        let hint = "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n"
        #expect(
            failure(["-device", "e1000,id=1x"]) == p + "-device e1000,id=1x: Parameter 'id' expects an identifier\n"
                + hint
        )
        #expect(
            failure(["-chardev", "null,id=a b"]) == p + "-chardev null,id=a b: Parameter 'id' expects an identifier\n"
                + hint
        )
        #expect(failure(["-device", #"{"driver":"e1000","id":"1x"}"#]) == nil)
        #expect(failure(["-device", "e1000,id=a-1.b_c"]) == nil)
        #expect(failure(["-device", "id=x"]) == p + "-device id=x: Parameter 'driver' is missing\n")
        #expect(failure(["disk.img"])?.hasPrefix(p + "disk.img: Could not open 'disk.img'") == true)
    }
}
