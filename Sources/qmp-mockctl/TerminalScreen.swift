import SlotWatch

#if canImport(Glibc)
    import Glibc
#endif

/// The terminal while `watch` draws its full-screen view on it, with plain ANSI escapes (no
/// curses: the view is one frame of text lines redrawn in place, and terminals that run `watch`
/// all speak these few sequences).
///
/// Entering switches to the alternate screen, hides the cursor and, when stdin is the same kind of
/// terminal, turns off echo and line mode (keys typed would smear the frame; Ctrl-C still raises
/// SIGINT). ``restore()`` undoes all of it, once; `watch` calls it on every way out.
final class TerminalScreen {
    private var savedInput: termios?
    private var lastFrame: ScreenFrame?
    private var restored = false

    init() {
        var attributes = termios()
        if isatty(0) == 1, tcgetattr(0, &attributes) == 0 {
            savedInput = attributes
            attributes.c_lflag &= ~tcflag_t(ECHO | ICANON)
            tcsetattr(0, TCSANOW, &attributes)
        }
        StandardOutput.write("\u{1B}[?1049h\u{1B}[?25l\u{1B}[H\u{1B}[2J")
    }

    deinit { restore() }

    /// The terminal's size from `TIOCGWINSZ` (80×24 when it does not say).
    var size: (columns: Int, rows: Int) {
        var window = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &window) == 0, window.ws_col > 0, window.ws_row > 0 else { return (80, 24) }
        return (Int(window.ws_col), Int(window.ws_row))
    }

    /// Draws `frame` unless it is the one on screen (`force` after a resize), in one write: each
    /// line at its row (cursor addressing, so the terminal's newline translation does not matter),
    /// cleared to its end, the header in reverse video, and everything below the last cleared.
    func draw(_ frame: ScreenFrame, force: Bool = false) {
        guard force || frame != lastFrame else { return }
        lastFrame = frame
        var text = ""
        for (index, line) in frame.lines.enumerated() {
            text += "\u{1B}[\(index + 1);1H"
            text += index == 0 ? "\u{1B}[7m\(line)\u{1B}[0m\u{1B}[K" : "\(line)\u{1B}[K"
        }
        text += "\u{1B}[\(frame.lines.count + 1);1H\u{1B}[J"
        StandardOutput.write(text)
    }

    /// Leaves the alternate screen, shows the cursor, gives stdin its modes back. Idempotent.
    func restore() {
        guard !restored else { return }
        restored = true
        StandardOutput.write("\u{1B}[?25h\u{1B}[?1049l")
        if var attributes = savedInput { tcsetattr(0, TCSANOW, &attributes) }
    }
}
