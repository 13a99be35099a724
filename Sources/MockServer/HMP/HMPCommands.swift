import QMPWire
import SimulatedMachine

/// The human-monitor commands qmp-mockd has, with QEMU's help lines and outputs (recorded from
/// QEMU 7.2.22 and 10.0.2). Each calls the machine operation its QMP twin calls.
enum HMPCommands {
    /// Commands by name.
    static let top: [HMPCommand] = [
        HMPCommand(
            name: "device_add",
            arguments: .options(impliedKey: "driver"),
            help: "device_add driver[,prop=value][,...] -- add device, like -device on the command line"
        ) { invocation throws(QMPError) in
            try invocation.call.machine.deviceAdd(
                QemuOptions.object(invocation.options),
                textValues: true,
                monitor: invocation.call.session.monitor
            )
            return ""
        },
        HMPCommand(name: "device_del", arguments: .string, help: "device_del device -- remove device") {
            invocation throws(QMPError) in
            try invocation.call.machine.deviceDel(invocation.word)
            return ""
        },
        HMPCommand(
            name: "drive_add",
            arguments: .twoStrings,
            help:
                "drive_add [-n] [[<domain>:]<bus>:]<slot>\n[file=file][,if=type][,bus=n]\n[,unit=m][,media=d][,index=i]\n[,snapshot=on|off][,cache=on|off]\n[,readonly=on|off][,copy-on-read=on|off] -- add drive to PCI storage controller",
            errorPrefix: ""
        ) { invocation throws(QMPError) in
            // The address is for if=scsi/virtio drives QEMU no longer plugs; if=none ignores it.
            var options: [String: String] = [:]
            for option in QemuOptions.parse(invocation.second, impliedKey: nil) { options[option.key] = option.value }
            try invocation.call.machine.driveAdd(options)
            return "OK\n"
        },
        HMPCommand(
            name: "drive_del",
            arguments: .string,
            help: "drive_del device -- remove host block device",
            errorPrefix: "",
            missingArgument: "block device name expected"
        ) { invocation throws(QMPError) in
            try invocation.call.machine.driveDel(invocation.word)
            return ""
        },
        HMPCommand(
            name: "netdev_add",
            arguments: .options(impliedKey: "type"),
            help:
                "netdev_add [user|tap|socket|stream|dgram|vde|bridge|hubport|netmap|vhost-user],id=str[,prop=value][,...] -- add host network device",
            optionsCheck: { invocation in
                // QemuOpts keeps the ids of its "netdev" group: a taken one fails while parsing.
                guard let id = invocation.options.last(where: { $0.key == "id" })?.value,
                    invocation.call.machine.netdevs.backends[id] != nil
                else { return nil }
                return ""
            }
        ) { invocation throws(QMPError) in
            let machine = invocation.call.machine
            try machine.netdevAdd(
                machine.netdevArguments(fromText: invocation.options),
                monitor: invocation.call.session.monitor
            )
            return ""
        },
        HMPCommand(name: "netdev_del", arguments: .string, help: "netdev_del id -- remove host network device") {
            invocation throws(QMPError) in
            try invocation.call.machine.netdevDel(id: invocation.word)
            return ""
        },
        HMPCommand(
            name: "object_add",
            arguments: .string,
            help: "object_add [qom-type=]type,id=str[,prop=value][,...] -- create QOM object"
        ) { invocation throws(QMPError) in
            // keyval text (the type is the implied first key).
            let options = QemuOptions.parse(invocation.word, impliedKey: "qom-type")
            try invocation.call.machine.objectAdd(QemuOptions.object(options), textValues: true)
            return ""
        },
        HMPCommand(name: "object_del", arguments: .string, help: "object_del id -- destroy QOM object") {
            invocation throws(QMPError) in
            try invocation.call.machine.objectDel(id: invocation.word)
            return ""
        },
        HMPCommand(name: "stop", aliases: ["s"], arguments: .none, help: "stop|s  -- stop emulation") {
            invocation throws(QMPError) in
            invocation.call.machine.stop()
            return ""
        },
        HMPCommand(name: "cont", aliases: ["c"], arguments: .none, help: "cont|c  -- resume emulation") {
            invocation throws(QMPError) in
            try invocation.call.machine.cont()
            return ""
        },
        HMPCommand(name: "system_reset", arguments: .none, help: "system_reset  -- reset the system") {
            invocation throws(QMPError) in
            invocation.call.machine.systemReset()
            invocation.call.core.afterSystemReset?()
            return ""
        },
        HMPCommand(
            name: "system_powerdown",
            arguments: .none,
            help: "system_powerdown  -- send system power down event"
        ) { invocation throws(QMPError) in
            invocation.call.machine.powerdown()
            return ""
        },
    ]

    /// `info` subcommands by name; `help` holds the text after `info `.
    static let info: [HMPCommand] = [
        HMPCommand(name: "status", arguments: .none, help: "status  -- show the current VM status (running|paused)") {
            invocation throws(QMPError) in
            let machine = invocation.call.machine
            var text = "VM status: \(machine.runState.isRunning ? "running" : "paused")"
            if !machine.runState.isRunning && machine.runState != .paused { text += " (\(machine.runState.rawValue))" }
            return text + "\n"
        },
        HMPCommand(name: "version", arguments: .none, help: "version  -- show the version of QEMU") {
            invocation throws(QMPError) in
            let version = invocation.call.core.profile.version
            return "\(version.major).\(version.minor).\(version.micro)\(version.package)\n"
        },
        HMPCommand(name: "name", arguments: .none, help: "name  -- show the current VM name") {
            invocation throws(QMPError) in
            invocation.call.machine.name.map { "\($0)\n" } ?? ""
        },
        HMPCommand(name: "pci", arguments: .none, help: "pci  -- show PCI info") { invocation throws(QMPError) in
            PCIInfoText.render(invocation.call.machine.queryPCI())
        },
        HMPCommand(
            name: "block",
            arguments: .flagsAndOptionalWord(flags: ["n", "v"]),
            help:
                "block [-n] [-v] [device] -- show info of one block device or all block devices (-n: show named nodes; -v: show details)"
        ) { invocation throws(QMPError) in
            let machine = invocation.call.machine
            return BlockInfoText.render(
                backends: machine.queryBlock(),
                nodes: { machine.queryNamedBlockNodes() },
                device: invocation.word.isEmpty ? nil : invocation.word,
                namedNodes: invocation.flags.contains("n")
            )
        },
    ]
}
