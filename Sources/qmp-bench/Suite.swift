#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// `make bench`: the echo limit, qmp-mockd and real QEMU measured in one run, startup and memory,
/// ratios against the targets, results as JSON.
struct Suite {
    var quick: Bool
    var mockd: String
    var qemu: String?
    var cpu: Int?
    var outDirectory: String?
    var sessions: Int?
    var cycles: Int?

    /// QEMU as the oracle runs it: q35 with native-hotplug root ports, stopped (`-S`).
    static let qemuTopology = [
        "-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1,addr=04.0",
        "-device", "pcie-root-port,id=rp2,bus=pcie.0,chassis=2,slot=2,addr=05.0",
        "-device", "pcie-root-port,id=rp3,bus=pcie.0,chassis=3,slot=3,addr=06.0,hotplug=off",
        "-device", "pcie-root-port,id=rp4,bus=pcie.0,chassis=4,slot=4,addr=08.0",
        "-device", "virtio-rng-pci,id=cold1,bus=rp4",
        "-device", "pcie-pci-bridge,id=ppb1,bus=rp2",
        "-device", "pci-bridge,id=pb1,bus=pcie.0,chassis_nr=9,addr=07.0,shpc=on",
        "-global", "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off",
    ]

    func qemuArgv(_ qemu: String, socket: String) -> [String] {
        [
            qemu, "-machine", "q35", "-accel", "tcg", "-nodefaults", "-display", "none", "-S", "-qmp",
            "unix:\(socket),server=on,wait=off",
        ]
            + Self.qemuTopology
    }

    func log(_ text: String) {
        var line = Array(("qmp-bench: " + text + "\n").utf8)
        _ = write(2, &line, line.count)
    }

    func run(printJSON: Bool) throws {
        raiseFileLimit()
        let directory = try temporaryDirectory()
        defer { removeDirectory(directory) }
        let startRuns = quick ? 3 : 21
        var document: [(String, JSON)] = [
            ("date", .string(commandOutput(["date", "-u", "+%Y-%m-%dT%H:%M:%SZ"]) ?? "?"))
        ]
        document.append(("mode", .string(quick ? "quick" : "full")))
        document.append(("machine", machineDescription()))

        // 4. Startup first, unpinned (as the QEMU anchors were measured), interleaved runs.
        log("startup (\(startRuns) runs each, unpinned) ...")
        var ready: [UInt64] = []
        var mockGreeting: [UInt64] = []
        var qemuGreeting: [UInt64] = []
        for run in 0..<startRuns {
            ready.append(
                try Startup.execToReady(
                    [mockd, "--qmp", "\(directory)/ready-\(run).sock", "--paused"],
                    directory: directory,
                    run: run
                )
            )
            mockGreeting.append(
                try Startup.execToGreeting({ [mockd, "--qmp", $0, "--paused"] }, directory: directory, run: run)
            )
            if let qemu {
                qemuGreeting.append(
                    try Startup.execToGreeting({ qemuArgv(qemu, socket: $0) }, directory: directory, run: 1000 + run)
                )
            }
        }
        let readySummary = Summary(nanoseconds: ready, unit: 1e6)
        let mockGreetingSummary = Summary(nanoseconds: mockGreeting, unit: 1e6)
        let qemuGreetingSummary = qemuGreeting.isEmpty ? nil : Summary(nanoseconds: qemuGreeting, unit: 1e6)
        var startup: [(String, JSON)] = [
            ("pinning", .string("none (all CPUs: \(allowedCPUs()))")),
            ("mockd_exec_to_ready_ms", readySummary.json),
            ("mockd_exec_to_greeting_ms", mockGreetingSummary.json),
        ]
        if let qemuGreetingSummary { startup.append(("qemu_exec_to_greeting_ms", qemuGreetingSummary.json)) }

        // Latency measurements: this process, the echo server, qmp-mockd and QEMU on one core.
        var pinning = "none (all CPUs: \(allowedCPUs()))"
        if let cpu {
            guard setAffinity([cpu]) else { throw BenchError.errno("sched_setaffinity") }
            pinning = "client and server on CPU \(cpu) (sched_setaffinity, inherited by the servers)"
        }
        log("latency measurements pinned: \(pinning)")
        var plan = TargetPlan(qmpPath: "")
        if quick {
            plan.warmup = 50
            plan.roundTrips = 300
            plan.pipelinedCount = 1000
            plan.pipelinedRuns = 2
            plan.connects = 20
            plan.devices = 10
        }

        // 1. The physical limit.
        log("raw echo ...")
        let echoPath = "\(directory)/echo.sock"
        let echoPid = try spawnProcess([selfPath(), "echo-server", "--socket", echoPath])
        var echoPlan = plan
        echoPlan.qmpPath = echoPath
        echoPlan.isQMP = false
        echoPlan.devices = 0
        let echo = try measureTarget(echoPlan)
        stopProcess(echoPid)

        // The hot-plug cycle's floor: the cycle's bytes on two sockets from a canned responder.
        let cycleCount = cycles ?? (quick ? 200 : 100_000)
        let floorCount = max(cycleCount / 5, 100)
        log("raw cycle responder (\(floorCount) cycles) ...")
        let cycleFloor = try runCycles(in: directory, name: "floor", count: floorCount, tracksMemory: false) {
            [selfPath(), "cycle-server", "--qmp", $0, "--control", $1]
        }

        // 2. qmp-mockd, paused like QEMU's -S so that nothing acknowledges a hot-plug.
        log("qmp-mockd ...")
        let mockPath = "\(directory)/mock.sock"
        let mockPid = try spawnProcess([mockd, "--qmp", mockPath, "--paused"])
        var mockPlan = plan
        mockPlan.qmpPath = mockPath
        var mockIdle: Int?
        let mock = try measureTarget(mockPlan) { mockIdle = processMemoryKiB(mockPid) }
        stopProcess(mockPid)

        // Hot-plug cycles on the manual clock (the default Linux guest acknowledges).
        log("qmp-mockd hotplug cycles (\(cycleCount), manual clock) ...")
        let cyclesResult = try runCycles(in: directory, name: "cycles", count: cycleCount, tracksMemory: true) {
            [mockd, "--qmp", $0, "--control", $1, "--clock", "manual"]
        }

        // The same cycle with a backend, as stacks plug disks and NICs.
        let backendCount = max(cycleCount / 5, 100)
        log("qmp-mockd disk and NIC hot-plug cycles (\(backendCount) each, manual clock) ...")
        let diskCycles = try runCycles(
            in: directory,
            name: "disk",
            count: backendCount,
            tracksMemory: false,
            flow: .disk
        ) {
            [mockd, "--qmp", $0, "--control", $1, "--clock", "manual"]
        }
        let nicCycles = try runCycles(in: directory, name: "nic", count: backendCount, tracksMemory: false, flow: .nic)
        {
            [mockd, "--qmp", $0, "--control", $1, "--clock", "manual"]
        }
        log("qmp-mockd ACPI PCI hot-plug cycles (\(backendCount), manual clock) ...")
        let acpiConfig = "\(directory)/acpi-q35.yaml"
        try writeFile(acpiConfig, Self.acpiMachine)
        let acpiCycles = try runCycles(
            in: directory,
            name: "acpi",
            count: backendCount,
            tracksMemory: false,
            flow: .acpiPCI
        ) {
            [mockd, "--qmp", $0, "--control", $1, "--clock", "manual", "--config", acpiConfig]
        }

        // ACPI CPU hot-plug cycles: CPU device_add, the guest's _OST, device_del, its eject.
        log("qmp-mockd ACPI CPU hot-plug cycles (\(backendCount), manual clock) ...")
        let cpuConfig = "\(directory)/cpu.yaml"
        try writeFile(cpuConfig, HotplugFlow.cpuMachineYAML)
        let cpuCycles = try runCycles(in: directory, name: "cpu", count: backendCount, tracksMemory: false, flow: .cpu)
        {
            [mockd, "--qmp", $0, "--control", $1, "--clock", "manual", "--config", cpuConfig]
        }

        // A DIMM through ACPI memory hot-plug: backend, pc-dimm, the guest's _OST, removal, eject.
        log("qmp-mockd DIMM hot-plug cycles (\(backendCount), manual clock) ...")
        let dimmConfiguration = "\(directory)/dimm.yaml"
        try writeText(HotplugFlow.dimmConfiguration, to: dimmConfiguration)
        let dimmCycles = try runCycles(
            in: directory,
            name: "dimm",
            count: backendCount,
            tracksMemory: false,
            flow: .dimm
        ) {
            [mockd, "--qmp", $0, "--control", $1, "--clock", "manual", "--config", dimmConfiguration]
        }

        // Event fan-out to shared sessions.
        let sessionCount = sessions ?? (quick ? 50 : 1000)
        log("qmp-mockd fan-out to \(sessionCount) shared sessions ...")
        let fanPid = try spawnProcess([mockd, "--qmp", "\(directory)/fan.sock", "--monitor-mode", "shared"])
        let fanout = try measureFanout(
            qmp: "\(directory)/fan.sock",
            sessions: sessionCount,
            rounds: quick ? 3 : 20,
            pid: fanPid
        )
        stopProcess(fanPid)

        // 3. Real QEMU.
        var qemuResult: TargetResult?
        var qemuIdle: Int?
        if let qemu {
            log("QEMU ...")
            let path = "\(directory)/qemu.sock"
            let pid = try spawnProcess(qemuArgv(qemu, socket: path))
            var qemuPlan = plan
            qemuPlan.qmpPath = path
            qemuPlan.bus = "rp1"
            qemuResult = try measureTarget(qemuPlan) { qemuIdle = processMemoryKiB(pid) }
            stopProcess(pid)
        }

        var mockJSON: [(String, JSON)] = mock.members
        if let mockIdle { mockJSON.append(("rss_idle_kib", .number(Double(mockIdle)))) }
        document.append(("pinning", .string(pinning)))
        document.append(("startup", .object(startup)))
        document.append(("echo", .object(echo.members)))
        document.append(("mockd", .object(mockJSON)))
        document.append(("mockd_hotplug_cycles", .object(cyclesResult.members)))
        document.append(("cycle_floor", .object(cycleFloor.members)))
        document.append(("mockd_disk_cycles", .object(diskCycles.members)))
        document.append(("mockd_nic_cycles", .object(nicCycles.members)))
        document.append(("mockd_acpi_pci_cycles", .object(acpiCycles.members)))
        document.append(("mockd_cpu_cycles", .object(cpuCycles.members)))
        document.append(("mockd_dimm_cycles", .object(dimmCycles.members)))
        document.append(("mockd_fanout", .object(fanout.members)))
        if var qemuJSON: [(String, JSON)] = qemuResult?.members {
            if let qemuIdle { qemuJSON.append(("rss_idle_kib", .number(Double(qemuIdle)))) }
            document.append(("qemu", .object(qemuJSON)))
        }
        let rows = tableRows(
            echo: echo,
            mock: mock,
            qemu: qemuResult,
            ready: readySummary,
            mockGreeting: mockGreetingSummary,
            qemuGreeting: qemuGreetingSummary,
            mockIdle: mockIdle,
            qemuIdle: qemuIdle,
            cycles: cyclesResult,
            cycleFloor: cycleFloor,
            diskCycles: diskCycles,
            nicCycles: nicCycles,
            acpiCycles: acpiCycles,
            cpuCycles: cpuCycles,
            dimmCycles: dimmCycles,
            fanout: fanout
        )
        document.append(("targets", .array(rows.compactMap { $0.targetJSON })))
        let text = JSON.object(document).render() + "\n"
        if let outDirectory {
            let stamp = (commandOutput(["date", "-u", "+%Y%m%dT%H%M%SZ"]) ?? "run")
            mkdir(outDirectory, 0o755)
            try writeText(text, to: "\(outDirectory)/\(stamp).json")
            try writeText(text, to: "\(outDirectory)/latest.json")
            log("results written to \(outDirectory)/\(stamp).json and latest.json")
        }
        if printJSON {
            print(text, terminator: "")
        } else {
            print(renderTable(rows, pinning: pinning))
        }
    }

    /// Starts a server with `argv(qmpSocket, controlSocket)` and measures `count` hot-plug cycles
    /// on it (with its RSS before and after when `tracksMemory`).
    func runCycles(
        in directory: String,
        name: String,
        count: Int,
        tracksMemory: Bool,
        flow: HotplugFlow = .pci,
        argv: (String, String) -> [String]
    ) throws -> TargetResult {
        let qmp = "\(directory)/\(name).sock"
        let control = "\(directory)/\(name).ctl"
        let pid = try spawnProcess(argv(qmp, control))
        defer { stopProcess(pid) }
        return try measureCycles(
            qmp: qmp,
            control: control,
            count: count,
            warmup: quick ? 20 : 1000,
            bus: "pci.1",
            flow: flow,
            pid: tracksMemory ? pid : nil
        )
    }

    func selfPath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "qmp-bench"
    }

    func machineDescription() -> JSON {
        let cpuinfo = readFile("/proc/cpuinfo") ?? ""
        let model =
            cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingPrefixSpaces() } ?? "?"
        var name = utsname()
        uname(&name)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        var members: [(String, JSON)] = [
            ("nproc", .number(Double(sysconf(Int32(_SC_NPROCESSORS_ONLN))))),
            ("cpu_model", .string(model)),
            ("kernel", .string("\(field(name.sysname)) \(field(name.release)) \(field(name.machine))")),
            ("swift", .string(commandOutput(["swift", "--version"]) ?? "?")),
            (
                "loadavg",
                .string(
                    String((readFile("/proc/loadavg") ?? "?").split(separator: " ").prefix(3).joined(separator: " "))
                )
            ),
            ("mockd", .string(mockd)),
        ]
        if let qemu { members.append(("qemu", .string(commandOutput([qemu, "--version"]) ?? "?"))) }
        return .object(members)
    }
}

extension String {
    func trimmingPrefixSpaces() -> String { String(drop { $0 == " " || $0 == "\t" }) }
}
