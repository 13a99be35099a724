import ArgumentParser
import QMPWire
import SlotWatch

#if canImport(Glibc)
    import Glibc
#endif

extension QMPMockctl {
    /// `qmp-mockctl watch`: a live view of every hot-plug controller and slot (device, power, both
    /// LEDs, presence, pending-unplug countdown, persona) and the latest events, full-screen on a
    /// terminal and as plain lines elsewhere (``WatchLoop``, ``PlainFormat``). It only reads: a
    /// control session of its own, never a QMP monitor.
    struct Watch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show every hot-plug slot live: device, power, LEDs (● on ◐ blinking ○ off), pending unplug.",
            discussion: """
                On a terminal: a full-screen table of the slots with the latest events beneath, redrawn on every change; Ctrl-C ends it and restores the terminal.

                Elsewhere, or with --plain: the state as lines, then one line per change and per event, each starting t=<virtual time>.

                Exits 0 when the daemon goes away, 69 when it cannot be reached.

                Also takes qmp-mockctl's options, before or after the subcommand:
                  --control <path>   The daemon's control socket (its --control). Required.
                """
        )
        @ParentCommand var root: QMPMockctl

        @Flag(help: "Plain lines even on a terminal.") var plain = false
        @Flag(help: "Print the current state as plain lines and exit.") var once = false

        func validate() throws {
            if root.options.json {
                throw ValidationError("watch prints lines or a screen, not JSON; see 'state --json'")
            }
        }

        func run() throws {
            guard let path = root.options.control.first else {
                throw ValidationError("Missing expected argument '--control <path>'")
            }
            do {
                let client = try ControlClient(path: path)
                if once {
                    let state = try client.execute("machine-state")
                    guard let snapshot = MachineSnapshot(state: state) else {
                        throw ControlClient.Failure(description: "machine-state: unexpected reply", exitCode: 1)
                    }
                    StandardOutput.write(PlainFormat.snapshot(snapshot).map { $0 + "\n" }.joined())
                    return
                }
                let loop = try WatchLoop(client: client, terminal: !plain && StandardOutput.isTerminal)
                _ = loop.run()
            } catch let failure as ControlClient.Failure {
                var message = "qmp-mockctl: \(failure.description)\n"
                _ = message.withUTF8 { write(2, $0.baseAddress, $0.count) }
                throw ExitCode(failure.exitCode)
            }
        }
    }
}
