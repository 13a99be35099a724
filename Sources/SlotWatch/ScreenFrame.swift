/// One full-screen picture of the terminal view, as text lines that fit a terminal of `columns` ×
/// `rows`: a header (VM name, run state, virtual time, clock, the title), a table of every slot, and beneath it
/// as many of the latest events as fit, newest last. Pure: the terminal writer positions and
/// writes the lines; comparing two frames tells whether anything needs redrawing.
public struct ScreenFrame: Sendable, Equatable {
    /// The lines, each at most `columns` characters, at most `rows` of them.
    public private(set) var lines: [String]

    /// The column headings of the slot table.
    static let headings = ["SLOT", "DEVICE", "PRESENT", "POWER", "POWER-LED", "ATTENTION", "PENDING", "PERSONA"]

    /// - Parameters:
    ///   - snapshot: the machine as it stands now (advanced to the present when time flows).
    ///   - events: the latest event lines (stamped), oldest first.
    ///   - columns, rows: the terminal's size.
    public init(snapshot: MachineSnapshot, events: [String], columns: Int, rows: Int) {
        let width = max(columns, 1), height = max(rows, 1)
        // What changes first, so that a narrow terminal cuts the title rather than the time.
        var header = snapshot.name.map { [$0] } ?? []
        header += [snapshot.runState, "t=\(PlainFormat.seconds(snapshot.nowNanoseconds))", "clock \(snapshot.clock)"]
        header.append("(qmp-mockctl watch)")
        var out = [header.joined(separator: "  "), ""]
        let table = [Self.headings] + snapshot.slots.map(Self.cells)
        let widths = Self.headings.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
        var rowsOfTable = table.map { cells in
            cells.indices.map { cells[$0].padding(to: widths[$0]) }.joined(separator: "  ").trimmedTrailing()
        }
        if snapshot.slots.isEmpty { rowsOfTable.append("(no hot-plug slots)") }
        // The table gets the room it needs first; the events what is left (a blank line and a title first).
        let tableRoom = max(0, height - out.count)
        if rowsOfTable.count > tableRoom, tableRoom > 0 {
            let hidden = rowsOfTable.count - (tableRoom - 1)
            rowsOfTable = Array(rowsOfTable.prefix(tableRoom - 1)) + ["… \(hidden) more slots"]
        }
        out += rowsOfTable.prefix(tableRoom)
        let eventRoom = height - out.count - 2
        if eventRoom > 0 {
            out += ["", "last events:"]
            out += events.suffix(eventRoom)
        }
        lines = out.prefix(height).map { $0.cut(to: width) }
    }

    /// A slot's table cells, in ``headings`` order.
    static func cells(_ slot: SlotView) -> [String] {
        [
            slot.name,
            slot.device ?? "-",
            slot.present ? "yes" : "no",
            slot.power,
            slot.powerLED.drawn,
            slot.attentionLED.drawn,
            slot.pendingNanoseconds.map(PlainFormat.seconds) ?? "",
            slot.persona ?? "",
        ]
    }
}

extension String {
    /// Padded with spaces to `width` characters (never shortened).
    fileprivate func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    /// Without trailing spaces.
    fileprivate func trimmedTrailing() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }

    /// At most `width` characters.
    fileprivate func cut(to width: Int) -> String { count > width ? String(prefix(width)) : self }
}
