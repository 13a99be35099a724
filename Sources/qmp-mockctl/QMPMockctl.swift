import ArgumentParser
import QMPWire

#if canImport(Glibc)
    import Glibc
#endif

/// `qmp-mockctl`: drives qmp-mockd's control socket from shell fixtures.
///
/// `--control` and `--json` belong to this root command, so they may stand before the subcommand
/// (`qmp-mockctl --control X clock advance 5s`) or after it (`qmp-mockctl clock advance 5s --control X`):
/// ArgumentParser lets each command of the chain take its options from anywhere on the command line,
/// and every leaf reaches them through `@ParentCommand`.
@main
struct QMPMockctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qmp-mockctl",
        abstract: "Steer a running qmp-mockd through its control socket: clock, guest, faults, state, watch.",
        usage: "qmp-mockctl --control <path> [--json] <subcommand> [<arguments>]",
        discussion: """
            --control and --json may be given before or after the subcommand.
            Exit codes: 0 success, 1 the daemon answered an error, 64 usage error, 69 cannot reach the control socket.
            """,
        subcommands: [Clock.self, Persona.self, State.self, Watch.self, Write.self, Read.self, Fault.self, Raw.self]
    )

    @OptionGroup var options: ControlOptions

    func validate() throws {
        if let first = options.control.first, options.control.contains(where: { $0 != first }) {
            let list = options.control.map { "'\($0)'" }.joined(separator: ", ")
            throw ValidationError("--control given more than once with different paths: \(list)")
        }
    }

    /// The leaves' configuration: their abstract, and a discussion that names the global options
    /// (their help screens do not list the root's options).
    static func leaf(commandName: String? = nil, abstract: String) -> CommandConfiguration {
        CommandConfiguration(
            commandName: commandName,
            abstract: abstract,
            discussion: """
                Also takes qmp-mockctl's options, before or after the subcommand:
                  --control <path>   The daemon's control socket (its --control). Required.
                  --json             Print the reply as JSON.
                """
        )
    }
}

/// The options of the root command, which every subcommand uses.
struct ControlOptions: ParsableArguments {
    /// Every `--control` given, wherever it stood; more than one distinct path is a usage error.
    @Option(
        help: ArgumentHelp(
            "The daemon's control socket (its --control); before or after the subcommand.",
            valueName: "path"
        )
    )
    var control: [String] = []

    @Flag(help: "Print the reply as JSON.")
    var json = false

    /// Runs one command and prints its reply; exits with the documented codes on failure.
    func run(_ command: String, _ arguments: JSONObject? = nil) throws {
        guard let path = control.first else {
            throw ValidationError("Missing expected argument '--control <path>'")
        }
        do {
            let client = try ControlClient(path: path)
            Output.print(try client.execute(command, arguments), json: json)
        } catch let failure as ControlClient.Failure {
            var message = "qmp-mockctl: \(failure.description)\n"
            _ = message.withUTF8 { write(2, $0.baseAddress, $0.count) }
            throw ExitCode(failure.exitCode)
        }
    }
}

/// An integer given in decimal or `0x` hex.
func parseInteger(_ text: String) -> Int64? {
    if text.hasPrefix("0x") || text.hasPrefix("0X") { return Int64(text.dropFirst(2), radix: 16) }
    return Int64(text)
}

extension QMPMockctl {
    struct Clock: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Advance or show the virtual clock.",
            subcommands: [Advance.self, Query.self]
        )

        struct Advance: ParsableCommand {
            static let configuration = QMPMockctl.leaf(
                abstract: "Run time forward (manual clock): 5s, 250ms, 1.5s, 100 (ms)."
            )
            @ParentCommand var root: QMPMockctl
            @Argument var duration: String

            func run() throws {
                guard let ms = Duration.milliseconds(duration) else {
                    throw ValidationError("'\(duration)' is not a duration (5s, 250ms, 1.5s, 100)")
                }
                let value: JSONValue = ms == ms.rounded() ? .int(Int64(ms)) : .double(ms)
                try root.options.run("clock-advance", ["ms": value])
            }
        }

        struct Query: ParsableCommand {
            static let configuration = QMPMockctl.leaf(abstract: "Show the virtual time and clock mode.")
            @ParentCommand var root: QMPMockctl
            func run() throws { try root.options.run("clock-query") }
        }
    }

    struct Persona: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set the guest's persona.", subcommands: [Set.self])

        struct Set: ParsableCommand {
            static let configuration = QMPMockctl.leaf(
                abstract:
                    "linux, never-ack, slow, booting, cancel-on-second-press, manual (machine-wide, or per controller/slot)."
            )
            @ParentCommand var root: QMPMockctl
            @Argument var persona: String
            @Option(help: "Only this controller (PCIe port or SHPC bridge id).") var controller: String?
            @Option(help: "Only this SHPC slot of the controller.") var slot: Int?
            @Option(help: "slow: latency factor.") var factor: Double?
            @Option(name: .customLong("boot-ms"), help: "booting: boot time in virtual ms.") var bootMilliseconds: Int?
            @Flag(name: .customLong("boot-scan-removes"), help: "booting: a fresh device found at boot is removed.")
            var bootScanRemoves = false

            func run() throws {
                var args = JSONObject()
                args.append("persona", .string(persona))
                if let controller { args.append("controller", .string(controller)) }
                if let slot { args.append("slot", .int(Int64(slot))) }
                if let factor { args.append("factor", .double(factor)) }
                if let bootMilliseconds { args.append("boot-ms", .int(Int64(bootMilliseconds))) }
                if bootScanRemoves { args.append("boot-scan-removes", .bool(true)) }
                try root.options.run("guest-set-persona", args)
            }
        }
    }

    struct State: ParsableCommand {
        static let configuration = QMPMockctl.leaf(
            abstract: "Show devices, slots, LEDs, power, pending unplugs, personas."
        )
        @ParentCommand var root: QMPMockctl
        func run() throws { try root.options.run("machine-state") }
    }

    struct Write: ParsableCommand {
        static let configuration = QMPMockctl.leaf(abstract: "Write a hotplug register as the guest would.")
        @ParentCommand var root: QMPMockctl
        @Option(help: "PCIe port or SHPC bridge id.") var controller: String
        @Option(name: .customLong("slot-control"), help: "PCIe: Slot Control value.") var slotControl: String?
        @Option(name: .customLong("slot-status"), help: "PCIe: Slot Status value (write 1 to clear).") var slotStatus:
            String?
        @Option(help: "SHPC: command code.") var command: String?
        @Option(help: "SHPC: command target slot.") var target: String?
        @Option(help: "SHPC: register offset.") var offset: String?
        @Option(help: "SHPC: register value.") var value: String?
        @Option(help: "SHPC: access size (1, 2, 4).") var size: Int?

        func run() throws {
            var args = JSONObject()
            args.append("controller", .string(controller))
            func number(_ text: String, _ name: String) throws -> JSONValue {
                guard let n = parseInteger(text) else {
                    throw ValidationError("--\(name) takes a number, not '\(text)'")
                }
                return .int(n)
            }
            if let slotControl {
                args.append("register", "slot-control")
                args.append("value", try number(slotControl, "slot-control"))
            } else if let slotStatus {
                args.append("register", "slot-status")
                args.append("value", try number(slotStatus, "slot-status"))
            } else if let command {
                args.append("command", try number(command, "command"))
                args.append("target", try number(target ?? "", "target"))
            } else if let offset, let value {
                args.append("offset", try number(offset, "offset"))
                args.append("value", try number(value, "value"))
                if let size { args.append("size", .int(Int64(size))) }
            } else {
                throw ValidationError(
                    "give --slot-control, --slot-status, --command with --target, or --offset with --value"
                )
            }
            try root.options.run("guest-write", args)
        }
    }

    struct Read: ParsableCommand {
        static let configuration = QMPMockctl.leaf(abstract: "Read a controller's registers, raw and decoded.")
        @ParentCommand var root: QMPMockctl
        @Option(help: "PCIe port or SHPC bridge id.") var controller: String
        @Option(help: "SHPC: only this slot.") var slot: Int?

        func run() throws {
            var args = JSONObject()
            args.append("controller", .string(controller))
            if let slot { args.append("slot", .int(Int64(slot))) }
            try root.options.run("guest-read", args)
        }
    }

    struct Fault: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the next QMP commands fail, wait, or lose their connection.",
            subcommands: [Add.self, Clear.self],
            defaultSubcommand: Add.self
        )

        struct Add: ParsableCommand {
            static let configuration = QMPMockctl.leaf(commandName: "add", abstract: "Arm a fault (default).")
            @ParentCommand var root: QMPMockctl
            @Option(help: "The QMP command to hit (* for any).") var command: String
            @Option(help: "How many commands it hits.") var count = 1
            @Option(help: "Fail with 'Class: text' (or just text: GenericError).") var error: String?
            @Option(name: .customLong("delay-ms"), help: "Delay the reply by this many real milliseconds.")
            var delayMilliseconds: Int?
            @Flag(help: "Close the client's connection instead of replying.") var close = false

            func run() throws {
                var args = JSONObject()
                args.append("command", .string(command))
                args.append("count", .int(Int64(count)))
                if let error {
                    let parts = error.split(separator: ":", maxSplits: 1)
                    let (errorClass, desc) =
                        parts.count == 2 && !parts[0].contains(" ")
                        ? (String(parts[0]), String(parts[1].drop { $0 == " " })) : ("GenericError", error)
                    args.append("error", .object(["class": .string(errorClass), "desc": .string(desc)]))
                }
                if let delayMilliseconds { args.append("delay-ms", .int(Int64(delayMilliseconds))) }
                if close { args.append("close", .bool(true)) }
                try root.options.run("inject-fault", args)
            }
        }

        struct Clear: ParsableCommand {
            static let configuration = QMPMockctl.leaf(abstract: "Disarm every fault.")
            @ParentCommand var root: QMPMockctl
            func run() throws { try root.options.run("inject-fault-clear") }
        }
    }

    struct Raw: ParsableCommand {
        static let configuration = QMPMockctl.leaf(abstract: "Run any control command with JSON arguments.")
        @ParentCommand var root: QMPMockctl
        @Argument var command: String
        @Argument(help: "Arguments as a JSON object.") var arguments: String?

        func run() throws {
            var object: JSONObject?
            if let arguments {
                guard let value = JSONValue(parsing: arguments)?.objectValue else {
                    throw ValidationError("arguments must be a JSON object")
                }
                object = value
            }
            try root.options.run(command, object)
        }
    }
}
