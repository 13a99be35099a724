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
        /// Two words (`s` `s`, `drive_add`'s address and options).
        case twoStrings
        /// `info block`'s flags and optional name (`nodes:-n,verbose:-v,device:B?`).
        case flagsAndOptionalWord(flags: [String])
    }

    /// What a handler gets: the parsed arguments and the QMP call it runs inside.
    struct Invocation {
        var word: String = ""
        var options: [(key: String, value: String)] = []
        var second: String = ""
        var flags: Set<String> = []
        let call: QMPCall
    }

    typealias Handler = @Sendable (Invocation) throws(QMPError) -> String

    let name: String
    /// Other names the command answers to (`s` for `stop`); QEMU's messages show them all, `stop|s`.
    var aliases: [String] = []
    let arguments: Arguments
    /// The line QEMU's help shows (`info status  -- show the current VM status (running|paused)`).
    let help: String
    /// Errors print as `Error: TEXT` (`hmp_handle_error`) or, for the block commands that report
    /// through `error_report`, as the bare text.
    var errorPrefix = "Error: "
    /// What a missing word argument prints after `NAME: ` (`string expected`, or `drive_del`'s
    /// `block device name expected` for its `B` argument).
    var missingArgument = "string expected"
    /// A check QemuOpts makes while it parses the options (a duplicate id): its text goes to QEMU's
    /// stderr and the monitor shows only the hint, so a failure returns what precedes the hint ("").
    var optionsCheck: (@Sendable (Invocation) -> String?)?
    let handler: Handler
}
