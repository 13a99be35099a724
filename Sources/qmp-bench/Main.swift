import ArgumentParser

#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

@main
struct QMPBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qmp-bench",
        abstract: "Benchmarks a QMP socket (qmp-mockd or a real QEMU), or runs the whole comparison.",
        subcommands: [TargetCommand.self, SuiteCommand.self, EchoServerCommand.self, CycleServerCommand.self],
        defaultSubcommand: TargetCommand.self
    )
}

struct TargetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "target",
        abstract:
            "Measures one QMP socket: round trips, pipelining, connects, device_add/del; optionally hot-plug cycles and fan-out."
    )

    @Option(help: "The QMP socket.") var qmp: String
    @Option(help: "qmp-mockd's control socket (with --clock manual): measures full hot-plug cycles.") var control:
        String?
    @Option(help: "Command for the round trips and pipelining.") var command = "query-status"
    @Option(help: "Sequential round trips (after --warmup).") var count = 2000
    @Option(help: "Unmeasured round trips first.") var warmup = 200
    @Option(help: "Pipelined requests per run.") var pipelined = 10_000
    @Option(help: "Pipelined runs.") var runs = 5
    @Option(help: "Requests in flight at most (0: all).") var window = 0
    @Option(help: "Fresh connections for connect/greeting/negotiation latency (0 skips).") var connects = 200
    @Option(help: "device_add/device_del pairs (0 skips; needs a stopped VM: -S or --paused).") var devices = 100
    @Option(help: "Bus for device_add (qmp-mockd: pci.1; the oracle's QEMU: rp1).") var bus = "pci.1"
    @Option(help: "Driver for device_add.") var driver = "virtio-rng-pci"
    @Option(help: "Hot-plug cycles with --control.") var cycles = 10_000
    @Option(help: "Shared-mode sessions for event fan-out (0 skips; needs --monitor-mode shared).") var fanout = 0
    @Option(help: "Server pid, for RSS figures.") var pid: Int32?
    @Option(help: "Pin this process to a CPU.") var cpu: Int?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        raiseFileLimit()
        if let cpu, !setAffinity([cpu]) { throw BenchError.errno("sched_setaffinity") }
        var plan = TargetPlan(qmpPath: qmp)
        plan.command = command
        plan.roundTrips = count
        plan.warmup = warmup
        plan.pipelinedCount = pipelined
        plan.pipelinedRuns = runs
        plan.window = window
        plan.connects = connects
        plan.devices = devices
        plan.bus = bus
        plan.driver = driver
        var idle: Int?
        var members: [(String, JSON)] = try measureTarget(plan) { idle = pid.flatMap { processMemoryKiB($0) } }.members
        if let idle { members.append(("rss_idle_kib", .number(Double(idle)))) }
        if let control {
            let result = try measureCycles(
                qmp: qmp,
                control: control,
                count: cycles,
                warmup: min(100, cycles),
                bus: bus,
                pid: pid
            )
            members.append(("hotplug_cycles", .object(result.members)))
        }
        if fanout > 0 {
            members.append(
                ("fanout", .object(try measureFanout(qmp: qmp, sessions: fanout, rounds: 10, pid: pid).members))
            )
        }
        let document = JSON.object([("socket", .string(qmp)), ("pinning", .string(allowedCPUs()))] + members)
        if json {
            print(document.render())
            return
        }
        print("qmp-bench: \(qmp), CPUs \(allowedCPUs())")
        print("metric                          median        p99        max   (us unless noted)")
        for (key, value) in members {
            if case .object = value, let median = value["median"], let p99 = value["p99"], let max = value["max"],
                case .number(let m) = median, case .number(let p) = p99, case .number(let x) = max
            {
                print(
                    pad(key, 30) + pad(formatNumber(m), 10, right: true) + pad(formatNumber(p), 11, right: true)
                        + pad(formatNumber(x), 11, right: true)
                )
            } else if case .number(let v) = value {
                print(pad(key, 30) + pad(formatNumber(v), 10, right: true))
            } else if case .object(let nested) = value {
                print("\(key):")
                for (k, v) in nested {
                    if let median = v["median"], let p99 = v["p99"], let max = v["max"],
                        case .number(let m) = median, case .number(let p) = p99, case .number(let x) = max
                    {
                        print(
                            pad("  " + k, 30) + pad(formatNumber(m), 10, right: true)
                                + pad(formatNumber(p), 11, right: true) + pad(formatNumber(x), 11, right: true)
                        )
                    } else if case .number(let n) = v {
                        print(pad("  " + k, 30) + pad(formatNumber(n), 10, right: true))
                    }
                }
            }
        }
    }

    func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return right ? fill + s : s + fill
    }
}

struct SuiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suite",
        abstract:
            "make bench: raw echo, qmp-mockd and real QEMU in one run, startup and memory, ratios against the targets."
    )

    @Flag(help: "Seconds instead of minutes, and no QEMU (proves the tool works).") var quick = false
    @Option(help: "The qmp-mockd binary (default: next to qmp-bench).") var mockd: String?
    @Option(help: "The QEMU binary (default: qemu-system-x86_64 when on PATH; 'none' skips it).") var qemu: String?
    @Option(help: "CPU that every latency measurement runs on (client and server); -1: no pinning.") var cpu = 0
    @Option(help: "Directory for the results JSON (nothing is written without it).") var out: String?
    @Option(help: "Shared sessions for the fan-out (default 1000; quick 50).") var sessions: Int?
    @Option(help: "Hot-plug cycles (default 100000; quick 200).") var cycles: Int?
    @Flag(help: "Print the results JSON instead of the table.") var json = false

    func run() throws {
        let suiteSelf = Suite(quick: true, mockd: "", qemu: nil, cpu: nil, outDirectory: nil)
        let own = suiteSelf.selfPath()
        let directory = String(own[..<(own.lastIndex(of: "/") ?? own.endIndex)])
        var qemuPath: String?
        if let qemu {
            qemuPath = qemu == "none" ? nil : qemu
        } else if !quick {
            qemuPath = findOnPath("qemu-system-x86_64")
        }
        let suite = Suite(
            quick: quick,
            mockd: mockd ?? "\(directory)/qmp-mockd",
            qemu: qemuPath,
            cpu: cpu >= 0 ? cpu : nil,
            outDirectory: out,
            sessions: sessions,
            cycles: cycles
        )
        try suite.run(printJSON: json)
    }

    func findOnPath(_ name: String) -> String? {
        guard let path = getenv("PATH") else { return nil }
        for dir in String(cString: path).split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}

struct EchoServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo-server",
        abstract: "The raw Unix-socket echo server (one reply line of a query-status reply's size per line).",
        shouldDisplay: false
    )

    @Option(help: "Socket path to listen on.") var socket: String

    func run() throws {
        try EchoServer.serve(path: socket)
    }
}

struct CycleServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cycle-server",
        abstract: "The hot-plug cycle's floor: canned replies and events on a QMP and a control socket.",
        shouldDisplay: false
    )

    @Option(help: "QMP socket path to listen on.") var qmp: String
    @Option(help: "Control socket path to listen on.") var control: String

    func run() throws {
        try CycleResponder.serve(qmpPath: qmp, controlPath: control)
    }
}
