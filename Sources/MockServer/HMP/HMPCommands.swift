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
            // QemuOpts to a dictionary: a repeated key keeps its first place and its last value.
            var members: [(String, JSONValue)] = []
            for option in invocation.options {
                if let index = members.firstIndex(where: { $0.0 == option.key }) {
                    members[index].1 = .string(option.value)
                } else {
                    members.append((option.key, .string(option.value)))
                }
            }
            try invocation.call.machine.deviceAdd(JSONObject(members), textValues: true)
            return ""
        },
        HMPCommand(name: "device_del", arguments: .string, help: "device_del device -- remove device") {
            invocation throws(QMPError) in
            try invocation.call.machine.deviceDel(invocation.word)
            return ""
        },
        // drive_add [-n] PCI_ADDR OPTS (QEMU's args_type "node:-n,pci_addr:s,opts:s"): the drive is
        // Machine.driveAdd's; errors are printed as they are (error_report), without "Error: ".
        // The address is read and ignored, as QEMU ignores it for if=none.
        HMPCommand(
            name: "drive_add",
            arguments: .rest,
            help: "drive_add [-n] [[<domain>:]<bus>:]<slot>\n[file=file][,if=type][,bus=n]\n"
                + "[,unit=m][,media=d][,index=i]\n[,snapshot=on|off][,cache=on|off]\n"
                + "[,readonly=on|off][,copy-on-read=on|off] -- add drive to PCI storage controller"
        ) { invocation throws(QMPError) in
            var words = invocation.rest.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(
                String.init
            )
            let expected = "drive_add: string expected\nTry \"help drive_add\" for more information\n"
            if words.first == "-n" {
                return "qmp-mockd does not simulate drive_add -n (block nodes: use blockdev-add)\n"
            }
            guard words.count >= 2 else { return expected }
            guard words.count == 2 else {
                return
                    "drive_add: extraneous characters at the end of line\nTry \"help drive_add\" for more information\n"
            }
            let optionText = words.removeLast()
            var options: [String: String] = [:]
            for option in QemuOptions.parse(optionText, impliedKey: nil) { options[option.key] = option.value }
            do throws(QMPError) {
                try invocation.call.machine.driveAdd(options)
            } catch {
                return error.desc + "\n"
            }
            return "OK\n"
        },
        // drive_del ID (args_type "id:B"); errors as drive_add's.
        HMPCommand(name: "drive_del", arguments: .rest, help: "drive_del device -- remove host block device") {
            invocation throws(QMPError) in
            let words = invocation.rest.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(
                String.init
            )
            guard let id = words.first else {
                return "drive_del: block device name expected\nTry \"help drive_del\" for more information\n"
            }
            guard words.count == 1 else {
                return
                    "drive_del: extraneous characters at the end of line\nTry \"help drive_del\" for more information\n"
            }
            do throws(QMPError) {
                try invocation.call.machine.driveDel(id)
            } catch {
                return error.desc + "\n"
            }
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
    ]
}
