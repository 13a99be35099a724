import QMPWire

/// QEMU's command line (`qemu-system-x86_64 [options]`) read as QEMU 7.2 reads it, and translated
/// into a ``QEMUInvocation``: options start with `-` or `--`, each takes its argument from the next
/// word, `key=value,...` arguments follow QemuOpts (``QemuOptions``: `,,` escapes, implied first
/// keys), and `-device`, `-object`, `-blockdev` and `-netdev` also take JSON. Errors carry QEMU's
/// texts (``QEMUOptionError``). Pure: no I/O, nothing opened or checked on the host.
public enum QEMUCommandLine {
    /// Reads the arguments after the program name.
    /// - Parameters:
    ///   - release: the QEMU release played, `MAJOR.MINOR` (`q35` is its `pc-q35-7.2`, the
    ///     name QEMU's errors about machine properties give).
    ///   - kvmUsable: whether the invoking user may open `/dev/kvm` (the caller checks; this type does
    ///     no I/O). An accelerator list (`accel=kvm:tcg`) skips kvm when it is not, as QEMU falls
    ///     back; a lone `kvm` is simulated either way (``QEMUCommandLineParser/resolveAccelerator()``).
    /// - Throws: the first option QEMU would refuse, with QEMU's text.
    public static func parse(
        _ arguments: [String],
        release: String = "7.2",
        kvmUsable: Bool = true
    ) throws(QEMUOptionError) -> QEMURequest {
        var parser = QEMUCommandLineParser()
        parser.release = release
        parser.kvmUsable = kvmUsable
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            index += 1
            guard word.hasPrefix("-"), word.count > 1 else {
                // QEMU takes a bare word as the first IDE disk's image; qmp-mockd has no IDE disks.
                throw QEMUOptionError(option: word, "Could not open '\(word)': qmp-mockd does not simulate disk images")
            }
            var name = Substring(word.dropFirst())
            if name.hasPrefix("-") { name = name.dropFirst() }
            guard let option = QEMUOption(String(name)) else {
                throw QEMUOptionError(option: word, "invalid option")
            }
            var value: String?
            if option.takesArgument {
                guard index < arguments.count else { throw QEMUOptionError(option: word, "requires an argument") }
                value = arguments[index]
                index += 1
            }
            switch option {
            case .help: return .help
            case .version: return .version
            default: break
            }
            try parser.apply(option, value ?? "", written: value.map { "\(word) \($0)" } ?? word)
        }
        return .run(try parser.finish())
    }

    /// An option's `key=value,...` text, or its JSON form when it starts with `{` (as QEMU decides
    /// for `-device`, `-object`, `-blockdev`, `-netdev`).
    static func jsonObject(_ text: String, written: String) throws(QEMUOptionError) -> JSONObject? {
        guard text.hasPrefix("{") else { return nil }
        guard let value = JSONValue(parsing: text) else {
            throw QEMUOptionError(option: written, "JSON parse error")
        }
        guard case .object(let object) = value else {
            throw QEMUOptionError(option: written, "JSON argument must be an object")
        }
        return object
    }
}
