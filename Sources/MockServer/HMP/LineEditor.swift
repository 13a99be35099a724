/// QEMU's readline (`util/readline.c`) as a human monitor on a socket runs it: the bytes a client
/// types come back as terminal output that redraws the line, and a carriage return or a line feed
/// ends it. A socket is no terminal, but QEMU does not know that, and clients that drive `-monitor`
/// with `socat` (Ganeti) or `expect` see exactly these bytes.
///
/// Modelled as QEMU 7.2 does it: characters inserted at the cursor; backspace (8, 127), Ctrl-D and
/// Delete (`ESC [ 3 ~`) deleting before or at the cursor; Ctrl-W deleting the word before it; the
/// cursor moved by the arrows, Home and End (`ESC [ C`/`D`, `ESC [ 1 ~`/`4 ~`, `ESC O H`/`F`, Ctrl-A,
/// Ctrl-E); the history (64 lines, repeated ones moved to the end) walked with the up and down
/// arrows; Enter (10 or 13, each on its own: `\r\n` is two lines, the second empty). After each
/// change the line is redrawn as `readline_update` does: back to the line's start (`ESC [ D` per
/// column), the whole line, `ESC [ K`, then the cursor moved to its place (`ESC [ C` / `ESC [ D`).
/// Not modelled: Tab completion (ignored), and other control characters (ignored, as QEMU does).
/// Pure: bytes in, echo bytes and finished lines out.
struct LineEditor {
    /// The most QEMU's readline holds (`READLINE_CMD_BUF_SIZE - 1`); further characters are dropped.
    static let capacity = 4095
    /// `READLINE_MAX_CMDS`.
    static let historyLimit = 64

    private var line: [UInt8] = []
    private var cursor = 0
    /// The line and cursor as last drawn.
    private var drawn: [UInt8] = []
    private var drawnCursor = 0
    private var escape = EscapeState.none
    private var escapeParameter = 0
    private var history: [[UInt8]] = []
    /// The history line being shown, or nil when editing a new line (`hist_entry == -1`).
    private var historyEntry: Int?

    private enum EscapeState {
        case none
        /// After ESC.
        case escape
        /// After `ESC [` (or the one-byte CSI, 155): digits, then one more byte.
        case csi
        /// After `ESC O`: one more byte.
        case ss3
    }

    /// Whether characters of an unfinished line are held.
    var isMidLine: Bool { !line.isEmpty }

    /// Takes one byte; appends what QEMU would echo to `echo`, and returns the line when the byte
    /// ended one (its text without the terminator; the echo then holds QEMU's `\r\n`).
    mutating func feed(_ byte: UInt8, echo: inout [UInt8]) -> String? {
        switch escape {
        case .none:
            if let text = normal(byte, echo: &echo) { return text }
        case .escape:
            escape = byte == UInt8(ascii: "[") ? .csi : byte == UInt8(ascii: "O") ? .ss3 : .none
            escapeParameter = 0
        case .csi:
            if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                escapeParameter = escapeParameter * 10 + Int(byte - UInt8(ascii: "0"))
                return nil
            }
            escape = .none
            switch byte {
            case UInt8(ascii: "A"), UInt8(ascii: "F"): historyUp()
            case UInt8(ascii: "B"), UInt8(ascii: "E"): historyDown()
            case UInt8(ascii: "C"): cursor = min(cursor + 1, line.count)
            case UInt8(ascii: "D"): cursor = max(cursor - 1, 0)
            case UInt8(ascii: "~"):
                switch escapeParameter {
                case 1: cursor = 0
                case 3: deleteAtCursor()
                case 4: cursor = line.count
                default: break
                }
            default: break
            }
            update(into: &echo)
        case .ss3:
            escape = .none
            if byte == UInt8(ascii: "H") { cursor = 0 }
            if byte == UInt8(ascii: "F") { cursor = line.count }
            update(into: &echo)
        }
        return nil
    }

    /// A byte outside an escape sequence.
    private mutating func normal(_ byte: UInt8, echo: inout [UInt8]) -> String? {
        switch byte {
        case 10, 13:
            let text = String(decoding: line, as: UTF8.self)
            addToHistory(line)
            line.removeAll(keepingCapacity: true)
            cursor = 0
            drawn.removeAll(keepingCapacity: true)
            drawnCursor = 0
            echo.append(contentsOf: [13, 10])
            return text
        case 27: escape = .escape
        case 155:
            escape = .csi
            escapeParameter = 0
        case 1: cursor = 0
        case 5: cursor = line.count
        case 4: deleteAtCursor()
        case 8, 127:
            if cursor > 0 {
                line.remove(at: cursor - 1)
                cursor -= 1
            }
        case 23:  // Ctrl-W: the spaces before the cursor and the word before them
            var start = cursor
            while start > 0 && Self.isSpace(line[start - 1]) { start -= 1 }
            while start > 0 && !Self.isSpace(line[start - 1]) { start -= 1 }
            line.removeSubrange(start..<cursor)
            cursor = start
        case 32..<127, 128..<155, 156...:
            if line.count < Self.capacity {
                line.insert(byte, at: cursor)
                cursor += 1
            }
        default:
            return nil
        }
        update(into: &echo)
        return nil
    }

    private mutating func deleteAtCursor() {
        if cursor < line.count { line.remove(at: cursor) }
    }

    /// `readline_up_char`: the previous history line, if any.
    private mutating func historyUp() {
        let entry = historyEntry ?? history.count
        guard entry > 0 else { return }
        historyEntry = entry - 1
        line = history[entry - 1]
        cursor = line.count
    }

    /// `readline_down_char`: the next history line, or an empty line after the last.
    private mutating func historyDown() {
        guard let entry = historyEntry else { return }
        if entry + 1 < history.count {
            historyEntry = entry + 1
            line = history[entry + 1]
        } else {
            historyEntry = nil
            line = []
        }
        cursor = line.count
    }

    /// `readline_hist_add`: a non-empty line goes to the end, once (an equal older one moves there);
    /// the oldest goes when the history is full.
    private mutating func addToHistory(_ entry: [UInt8]) {
        historyEntry = nil
        guard !entry.isEmpty else { return }
        if let index = history.firstIndex(of: entry) {
            history.remove(at: index)
        } else if history.count == Self.historyLimit {
            history.removeFirst()
        }
        history.append(entry)
    }

    /// `readline_update`: when the line changed, back to its start, the whole line, erase to the end
    /// of the terminal line (the cursor is then at the end); then the cursor to its place.
    private mutating func update(into echo: inout [UInt8]) {
        if line != drawn {
            for _ in 0..<drawnCursor { echo.append(contentsOf: Self.cursorLeft) }
            echo.append(contentsOf: line)
            echo.append(contentsOf: Self.eraseToEnd)
            drawn = line
            drawnCursor = line.count
        }
        if cursor > drawnCursor {
            for _ in drawnCursor..<cursor { echo.append(contentsOf: Self.cursorRight) }
        } else {
            for _ in cursor..<drawnCursor { echo.append(contentsOf: Self.cursorLeft) }
        }
        drawnCursor = cursor
    }

    /// `qemu_isspace`: C's `isspace`.
    private static func isSpace(_ byte: UInt8) -> Bool { byte == 32 || (9...13).contains(byte) }

    private static let cursorLeft: [UInt8] = [27, UInt8(ascii: "["), UInt8(ascii: "D")]
    private static let cursorRight: [UInt8] = [27, UInt8(ascii: "["), UInt8(ascii: "C")]
    private static let eraseToEnd: [UInt8] = [27, UInt8(ascii: "["), UInt8(ascii: "K")]
}
