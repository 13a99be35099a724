import QMPWire

/// One command of the human monitor: its name (or `info` subcommand), how its arguments are read
/// (QEMU's `args_type`), the line `help` prints for it, and what it does.
struct HMPCommand: Sendable {
    /// How the rest of the line is read, as QEMU's `monitor_parse_arguments` reads the command's
    /// `args_type`; errors print `NAME: ...` and `Try "help NAME" for more information`.
    enum Arguments: Sendable {
        /// Nothing may follow (`extraneous characters at the end of line`).
        case none
        /// One word (`s`): `string expected` when missing.
        case string
        /// QemuOpts text to the end of the line (`O`), with the implied key; may be empty.
        case options(impliedKey: String)
        /// Everything to the end of the line, as text (`s` with `S`-style rest; `drive_add`'s two words).
        case rest
    }

    /// What a handler gets: the parsed arguments and the QMP call it runs inside.
    struct Invocation {
        var word: String = ""
        var options: [(key: String, value: String)] = []
        var rest: String = ""
        let call: QMPCall
    }

    typealias Handler = @Sendable (Invocation) throws(QMPError) -> String

    let name: String
    /// Other names the command answers to (`s` for `stop`); QEMU's messages show them all, `stop|s`.
    var aliases: [String] = []
    let arguments: Arguments
    /// The line QEMU's help shows (`info status  -- show the current VM status (running|paused)`).
    let help: String
    let handler: Handler
}
