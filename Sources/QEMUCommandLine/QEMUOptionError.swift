/// A command line `qemu-system-x86_64` refuses, with QEMU's text. QEMU prints the program name, the
/// option as written when the error has one (`-device foo: 'foo' is not a valid device model name`)
/// and the message; the process exits with status 1 before creating anything.
public struct QEMUOptionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The option as written (`-device foo`, `--bogus`), or nil for QEMU's errors without a location
    /// (`unsupported machine type`).
    public var option: String?
    public var message: String
    /// Further lines QEMU prints after the first, each without the program name (the hint after
    /// `unsupported machine type`), or with it when `repeatsLocation` (a second located error).
    public var continuation: [String]
    /// Whether each continuation line is a further `program: option: line` error.
    public var repeatsLocation: Bool

    /// Makes an error.
    public init(option: String?, _ message: String, continuation: [String] = [], repeatsLocation: Bool = false) {
        self.option = option
        self.message = message
        self.continuation = continuation
        self.repeatsLocation = repeatsLocation
    }

    /// The first line without the program name: `-device foo: message`.
    public var description: String { option.map { "\($0): \(message)" } ?? message }

    /// Everything QEMU writes to stderr for this error, as `program` (`qemu-system-x86_64`), each line
    /// ended by a newline.
    public func report(program: String) -> String {
        var text = "\(program): \(description)\n"
        for line in continuation {
            if repeatsLocation {
                text += "\(program): " + (option.map { "\($0): " } ?? "") + line + "\n"
            } else {
                text += line + "\n"
            }
        }
        return text
    }
}
