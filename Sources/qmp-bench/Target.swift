#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// What to measure on one QMP socket, and how much.
struct TargetPlan {
    var qmpPath: String
    var command = "query-status"
    var warmup = 200
    var roundTrips = 2000
    var pipelinedCount = 10_000
    var pipelinedRuns = 5
    var window = 0
    var connects = 200
    /// `device_add`/`device_del` pairs; 0 skips (the echo server has no devices).
    var devices = 100
    var bus = "pci.1"
    var driver = "virtio-rng-pci"
    /// Whether there is a greeting and negotiation (false for the echo server).
    var isQMP = true
}

/// Results of one target, as JSON members and as summaries for the table.
struct TargetResult {
    var summaries: [String: Summary] = [:]
    var values: [String: Double] = [:]
    var members: [(String, JSON)] = []

    mutating func add(_ key: String, _ summary: Summary) {
        summaries[key] = summary
        members.append((key, summary.json))
    }

    mutating func add(_ key: String, _ value: Double) {
        values[key] = value
        members.append((key, .number(value)))
    }
}

func measureTarget(_ plan: TargetPlan, afterNegotiation: () -> Void = {}) throws -> TargetResult {
    var result = TargetResult()
    let connection = try LineConnection.connect(path: plan.qmpPath, timeoutSeconds: 10)
    if plan.isQMP { try connection.negotiate() }
    afterNegotiation()
    let request = Measure.request(plan.command)
    let rtt = try Measure.roundTrips(connection, request: request, warmup: plan.warmup, count: plan.roundTrips)
    result.add("rtt_us", Summary(nanoseconds: rtt))
    var rates: [Double] = []
    for _ in 0..<plan.pipelinedRuns {
        let window = plan.window > 0 ? plan.window : plan.pipelinedCount
        rates.append(
            try Measure.pipelined(connection, command: plan.command, count: plan.pipelinedCount, window: window)
        )
    }
    result.add("pipelined_cmds_per_s", Summary(values: rates))
    result.add("pipelined_n", Double(plan.pipelinedCount))
    result.add("pipelined_window", Double(plan.window > 0 ? plan.window : plan.pipelinedCount))
    if plan.devices > 0 {
        let (add, del) = try Measure.deviceAddDel(
            connection,
            bus: plan.bus,
            driver: plan.driver,
            warmup: min(10, plan.devices),
            count: plan.devices
        )
        result.add("device_add_us", Summary(nanoseconds: add))
        result.add("device_del_us", Summary(nanoseconds: del))
    }
    if plan.isQMP && plan.connects > 0 {
        // The measuring connection leaves first: in exclusive mode the next client waits for it.
        let path = plan.qmpPath
        _ = consume connection
        let (c, g, n) = try Measure.connects(path: path, count: plan.connects)
        result.add("connect_us", Summary(nanoseconds: c))
        result.add("greeting_us", Summary(nanoseconds: g))
        result.add("negotiated_us", Summary(nanoseconds: n))
    }
    return result
}

/// Hotplug cycles on qmp-mockd with the manual clock.
func measureCycles(
    qmp: String,
    control: String,
    count: Int,
    warmup: Int,
    bus: String,
    flow: HotplugFlow = .pci,
    pid: pid_t?
) throws -> TargetResult {
    var result = TargetResult()
    let q = try LineConnection.connect(path: qmp, timeoutSeconds: 10)
    try q.negotiate()
    let c = try LineConnection.connect(path: control, timeoutSeconds: 10)
    try c.negotiate()
    c.keepsEvents = false  // GUEST_REGISTER_WRITE lines: nobody waits for them
    var rssBefore: Int?
    var rssAfter: Int?
    let t0 = monotonicNow()
    var tWarm = t0
    let samples = try Measure.hotplugCycles(
        qmp: q,
        control: c,
        bus: bus,
        flow: flow,
        warmup: warmup,
        count: count
    ) { end in
        if end {
            rssAfter = pid.flatMap { processMemoryKiB($0) }
        } else {
            tWarm = monotonicNow()
            rssBefore = pid.flatMap { processMemoryKiB($0) }
        }
    }
    let elapsed = Double(monotonicNow() - tWarm) / 1e9
    result.add("cycle_us", Summary(nanoseconds: samples))
    result.add("cycles", Double(count))
    result.add("cycles_per_s", Double(count) / elapsed)
    if let rssBefore, let rssAfter {
        result.add("rss_kib_after_warmup", Double(rssBefore))
        result.add("rss_kib_after_cycles", Double(rssAfter))
        result.add("rss_growth_kib", Double(rssAfter - rssBefore))
    }
    return result
}

/// Event fan-out to `sessions` shared-mode sessions.
func measureFanout(qmp: String, sessions: Int, rounds: Int, pid: pid_t?) throws -> TargetResult {
    var result = TargetResult()
    var rss: Int?
    let (perSession, last) = try Measure.fanout(path: qmp, sessions: sessions, rounds: rounds) {
        usleep(20_000)
        rss = pid.flatMap { processMemoryKiB($0) }
    }
    result.add("sessions", Double(sessions))
    result.add("events", Double(rounds * 2))
    result.add("per_session_us", Summary(nanoseconds: perSession))
    result.add("last_session_us", Summary(nanoseconds: last))
    if let rss { result.add("rss_kib_with_sessions", Double(rss)) }
    return result
}
