import QMPWire
import SimulatedMachine

/// The human monitor (HMP) behind `human-monitor-command`: QEMU's text commands that stacks still
/// send through QMP (`drive_add`, `device_add`, `info pci`, ...), with QEMU's text output.
///
/// A command calls the same machine operations as its QMP twin, so the two monitors cannot
/// disagree; an error is part of the returned text (`Error: Duplicate device ID 'x'`), never a
/// QMP error. Lines end in `\r\n` as QEMU's monitor writes them. Commands QEMU has and qmp-mockd
/// does not answer as QEMU does for an unknown one: `unknown command: 'NAME'`.
struct HumanMonitor: Sendable {
    /// The one monitor; its tables never change.
    static let shared = HumanMonitor()
    /// The prompt a human monitor session writes after its banner and after each command's output.
    static let prompt = "(qemu) "

    private var commands: [String: HMPCommand] = [:]
    private var infoCommands: [String: HMPCommand] = [:]

    init() {
        for command in HMPCommands.top {
            for name in [command.name] + command.aliases { commands[name] = command }
        }
        for command in HMPCommands.info { infoCommands[command.name] = command }
    }

    /// Runs one command line; returns the monitor's output (`\n` already turned into `\r\n`).
    func execute(_ line: String, call: QMPCall) -> String {
        var text = Substring(line)
        guard let name = Self.word(&text) else { return "" }
        var output: String
        if name == "info" {
            let start = line.firstIndex { $0 != " " && $0 != "\t" && $0 != "\n" } ?? line.startIndex
            if let sub = Self.word(&text) {
                if let command = infoCommands[sub] {
                    output = run(command, display: sub, helpName: "info \(sub)", text, call)
                } else {
                    // QEMU quotes the line as typed, from the command through the unknown name.
                    output = "unknown command: '\(line[start..<text.startIndex])'\n"
                }
            } else {
                output = HMPCommands.info.map { "info \($0.help)\n" }.sorted().joined()
            }
        } else if let command = commands[name] {
            let display = ([command.name] + command.aliases).joined(separator: "|")
            output = run(command, display: display, helpName: name, text, call)
        } else {
            output = "unknown command: '\(name)'\n"
        }
        return Self.crlf(output)
    }

    private func run(
        _ command: HMPCommand,
        display: String,
        helpName: String,
        _ text: Substring,
        _ call: QMPCall
    ) -> String {
        var rest = text
        var invocation = HMPCommand.Invocation(call: call)
        let tryHelp = "Try \"help \(helpName)\" for more information\n"
        switch command.arguments {
        case .none:
            break
        case .string:
            guard let word = Self.word(&rest) else { return "\(display): \(command.missingArgument)\n" + tryHelp }
            invocation.word = word
        case .options(let impliedKey):
            let options = Self.word(&rest).map { QemuOptions.parse($0, impliedKey: impliedKey) } ?? []
            // QemuOpts checks the id when it makes the option group: the text goes to QEMU's stderr,
            // the monitor shows only the hint.
            if let id = options.last(where: { $0.key == "id" })?.value, !Self.isIdentifier(id) {
                return tryHelp
            }
            invocation.options = options
        case .twoStrings:
            guard let first = Self.word(&rest), let second = Self.word(&rest) else {
                return "\(display): string expected\n" + tryHelp
            }
            invocation.word = first
            invocation.second = second
        case .flagsAndOptionalWord(let flags):
            var probe = rest
            while let word = Self.word(&probe), word.hasPrefix("-"), word.count > 1 {
                let letters = word.dropFirst().map(String.init)
                guard letters.allSatisfy({ flags.contains($0) }) else { break }
                invocation.flags.formUnion(letters)
                rest = probe
            }
            invocation.word = Self.word(&rest) ?? ""
        }
        if let check = command.optionsCheck, let failure = check(invocation) { return failure + tryHelp }
        if !rest.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\n" }) {
            return "\(display): extraneous characters at the end of line\n" + tryHelp
        }
        do {
            return try command.handler(invocation)
        } catch {
            return "\(command.errorPrefix)\(error.desc)\n"
        }
    }

    /// The next space-separated word, or nil at the end of the line.
    private static func word(_ text: inout Substring) -> String? {
        text = text.drop { $0 == " " || $0 == "\t" || $0 == "\n" }
        guard !text.isEmpty else { return nil }
        let end = text.firstIndex { $0 == " " || $0 == "\t" || $0 == "\n" } ?? text.endIndex
        defer { text = text[end...] }
        return String(text[..<end])
    }

    /// QemuOpts' `id_wellformed`: a letter, then letters, digits, `-`, `.`, `_`.
    static func isIdentifier(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first, first.isASCIILetter else { return false }
        return id.unicodeScalars.allSatisfy {
            $0.isASCIILetter || ("0"..."9").contains($0) || "-._".unicodeScalars.contains($0)
        }
    }

    private static func crlf(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for character in text {
            if character == "\n" { out += "\r\n" } else { out.append(character) }
        }
        return out
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}
