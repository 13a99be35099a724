/// One line of the comparison table, with its target when the issue sets one.
struct Row {
    var metric: String
    var echo = "-"
    var mock = "-"
    var qemu = "-"
    var ratio = ""
    var target = ""
    var met: Bool?

    var targetJSON: JSON? {
        guard !target.isEmpty else { return nil }
        return .object([
            ("metric", .string(metric)), ("echo", .string(echo)), ("mockd", .string(mock)), ("qemu", .string(qemu)),
            ("ratio", .string(ratio)), ("target", .string(target)), ("met", met.map { JSON.bool($0) } ?? JSON.null),
        ])
    }
}

extension Suite {
    func tableRows(
        echo: TargetResult,
        mock: TargetResult,
        qemu: TargetResult?,
        ready: Summary,
        mockGreeting: Summary,
        qemuGreeting: Summary?,
        mockIdle: Int?,
        qemuIdle: Int?,
        cycles: TargetResult,
        cycleFloor: TargetResult,
        diskCycles: TargetResult,
        nicCycles: TargetResult,
        acpiCycles: TargetResult,
        cpuCycles: TargetResult,
        dimmCycles: TargetResult,
        fanout: TargetResult
    ) -> [Row] {
        func us(_ s: Summary?) -> String {
            s.map { "\(formatNumber($0.median)) (p99 \(formatNumber($0.p99)), max \(formatNumber($0.max)))" } ?? "-"
        }
        func ms(_ s: Summary?) -> String {
            s.map { "\(formatNumber($0.median, decimals: 2)) (p99 \(formatNumber($0.p99, decimals: 2)))" } ?? "-"
        }
        func x(_ v: Double) -> String { "\(formatNumber(v, decimals: 2))x" }
        var rows: [Row] = []

        let echoRTT = echo.summaries["rtt_us"]
        let mockRTT = mock.summaries["rtt_us"]
        let qemuRTT = qemu?.summaries["rtt_us"]
        var row = Row(metric: "query-status round trip, us", echo: us(echoRTT), mock: us(mockRTT), qemu: us(qemuRTT))
        if let e = echoRTT, let m = mockRTT {
            row.ratio = "mockd/echo \(x(m.median / e.median))"
            row.target = "mockd <= 2x echo"
            row.met = m.median <= 2 * e.median
        }
        rows.append(row)
        if let q = qemuRTT, let m = mockRTT {
            rows.append(
                Row(
                    metric: "  vs QEMU",
                    ratio: "QEMU/mockd \(x(q.median / m.median))",
                    target: ">= 8x faster",
                    met: q.median >= 8 * m.median
                )
            )
        }

        let rate = { (r: TargetResult?) -> Summary? in r?.summaries["pipelined_cmds_per_s"] }
        func perSecond(_ s: Summary?) -> String {
            s.map { "\(formatNumber($0.median, decimals: 0)) (max \(formatNumber($0.max, decimals: 0)))" } ?? "-"
        }
        row = Row(
            metric: "pipelined query-status, cmds/s",
            echo: perSecond(rate(echo)),
            mock: perSecond(rate(mock)),
            qemu: perSecond(rate(qemu))
        )
        if let q = rate(qemu), let m = rate(mock) {
            row.ratio = "mockd/QEMU \(x(m.median / q.median))"
            row.target = ">= 50x QEMU"
            row.met = m.median >= 50 * q.median
        }
        rows.append(row)

        rows.append(
            Row(metric: "connect, us", mock: us(mock.summaries["connect_us"]), qemu: us(qemu?.summaries["connect_us"]))
        )
        rows.append(
            Row(
                metric: "connect to greeting, us",
                mock: us(mock.summaries["greeting_us"]),
                qemu: us(qemu?.summaries["greeting_us"])
            )
        )
        rows.append(
            Row(
                metric: "connect to negotiated, us",
                mock: us(mock.summaries["negotiated_us"]),
                qemu: us(qemu?.summaries["negotiated_us"])
            )
        )

        let mockAdd = mock.summaries["device_add_us"]
        let qemuAdd = qemu?.summaries["device_add_us"]
        row = Row(metric: "device_add reply, us", mock: us(mockAdd), qemu: us(qemuAdd))
        if let q = qemuAdd, let m = mockAdd {
            row.ratio = "QEMU/mockd \(x(q.median / m.median))"
            row.target = ">= 30x faster"
            row.met = q.median >= 30 * m.median
        }
        rows.append(row)
        rows.append(
            Row(
                metric: "device_del reply (unpowered slot), us",
                mock: us(mock.summaries["device_del_us"]),
                qemu: us(qemu?.summaries["device_del_us"])
            )
        )

        row = Row(metric: "exec to READY=1, ms", mock: ms(ready), qemu: "-")
        if let q = qemuGreeting {
            row.ratio = "QEMU greeting/mockd READY \(x(q.median / ready.median))"
            row.target = "<= 1/8 of QEMU exec to greeting"
            row.met = ready.median * 8 <= q.median
        }
        rows.append(row)
        rows.append(Row(metric: "exec to greeting, ms", mock: ms(mockGreeting), qemu: ms(qemuGreeting)))

        func mib(_ kib: Int?) -> String { kib.map { "\(formatNumber(Double($0) / 1024, decimals: 1)) MiB" } ?? "-" }
        row = Row(metric: "idle RSS", mock: mib(mockIdle), qemu: mib(qemuIdle))
        if let q = qemuIdle, let m = mockIdle {
            row.ratio = "QEMU/mockd \(x(Double(q) / Double(m)))"
            row.target = "<= 1/5 of QEMU"
            row.met = m * 5 <= q
        }
        rows.append(row)

        let cycleRate = cycles.values["cycles_per_s"] ?? .nan
        let floorRate = cycleFloor.values["cycles_per_s"] ?? .nan
        rows.append(
            Row(
                metric: "hotplug cycles/s (manual clock)",
                echo: "\(formatNumber(floorRate, decimals: 0)) (cycle \(us(cycleFloor.summaries["cycle_us"])) us)",
                mock: "\(formatNumber(cycleRate, decimals: 0)) (cycle \(us(cycles.summaries["cycle_us"])) us)",
                ratio: "mockd/floor \(x(floorRate / cycleRate)) (time)",
                target: ">= 10,000/s",
                met: cycleRate >= 10_000
            )
        )
        for (name, result) in [("disk", diskCycles), ("NIC", nicCycles), ("DIMM", dimmCycles)] {
            let rate = result.values["cycles_per_s"] ?? .nan
            rows.append(
                Row(
                    metric: "\(name) hot-plug cycles/s (backend + device + removal)",
                    mock: "\(formatNumber(rate, decimals: 0)) (cycle \(us(result.summaries["cycle_us"])) us)",
                    ratio: "PCI-only/\(name) \(x(cycleRate / rate)) (time)"
                )
            )
        }
        let acpiRate = acpiCycles.values["cycles_per_s"] ?? .nan
        rows.append(
            Row(
                metric: "ACPI PCI hot-plug cycles/s (add, scan, del, eject)",
                mock: "\(formatNumber(acpiRate, decimals: 0)) (cycle \(us(acpiCycles.summaries["cycle_us"])) us)",
                ratio: "PCI-only/ACPI \(x(cycleRate / acpiRate)) (time)"
            )
        )
        let cpuRate = cpuCycles.values["cycles_per_s"] ?? .nan
        rows.append(
            Row(
                metric: "ACPI CPU hot-plug cycles/s (add, _OST, del, eject)",
                mock: "\(formatNumber(cpuRate, decimals: 0)) (cycle \(us(cpuCycles.summaries["cycle_us"])) us)",
                ratio: "PCI-only/CPU \(x(cycleRate / cpuRate)) (time)"
            )
        )
        let count = Int(cycles.values["cycles"] ?? 0)
        if let growth = cycles.values["rss_growth_kib"] {
            rows.append(
                Row(
                    metric: "RSS growth over \(count) cycles",
                    mock:
                        "\(formatNumber(growth, decimals: 0)) KiB (\(mib(cycles.values["rss_kib_after_cycles"].map { Int($0) })) after)",
                    target: count >= 100_000 ? "<= 1 MiB over 100,000" : "",
                    met: count >= 100_000 ? growth <= 1024 : nil
                )
            )
        }
        let sessions = Int(fanout.values["sessions"] ?? 0)
        rows.append(
            Row(
                metric: "RSS with \(sessions) sessions",
                mock: mib(fanout.values["rss_kib_with_sessions"].map { Int($0) })
            )
        )
        let perSession = fanout.summaries["per_session_us"]
        row = Row(metric: "event fan-out to \(sessions) sessions, us", mock: us(perSession))
        if let p = perSession, sessions >= 1000 {
            row.target = "p99 <= 5 ms"
            row.met = p.p99 <= 5000
        }
        rows.append(row)
        rows.append(Row(metric: "  last session served, us", mock: us(fanout.summaries["last_session_us"])))
        return rows
    }

    func renderTable(_ rows: [Row], pinning: String) -> String {
        let header = ["metric", "raw limit", "qmp-mockd", "QEMU 7.2", "ratio", "target", "met"]
        let cells = rows.map {
            [$0.metric, $0.echo, $0.mock, $0.qemu, $0.ratio, $0.target, $0.met.map { $0 ? "yes" : "NO" } ?? ""]
        }
        var widths = header.map(\.count)
        for line in cells { for (i, cell) in line.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func format(_ line: [String]) -> String {
            "| "
                + line.enumerated().map { $1 + String(repeating: " ", count: widths[$0] - $1.count) }.joined(
                    separator: " | "
                ) + " |"
        }
        var out = [
            format(header), "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|",
        ]
        out += cells.map(format)
        out.append("")
        out.append("Medians (p99, max). Latencies pinned: \(pinning). Startup unpinned.")
        out.append(
            "Raw limit: a bare echo server; for hot-plug cycles, a responder that sends the cycle's bytes canned."
        )
        return out.joined(separator: "\n")
    }
}
