import Logging
import QMPWire
import SimulatedMachine
import Testing

@testable import MockServer

/// QEMU's readline as a human monitor socket echoes it (``LineEditor``), and the human monitor
/// session around it. Expected bytes are QEMU 7.2.22's, recorded from `-monitor unix:...`.
struct LineEditorTests {
    /// Feeds `input` one byte at a time; returns the echo and the finished lines.
    private func type(_ input: [UInt8], into editor: inout LineEditor) -> (echo: [UInt8], lines: [String]) {
        var echo: [UInt8] = []
        var lines: [String] = []
        for byte in input {
            if let line = editor.feed(byte, echo: &echo) { lines.append(line) }
        }
        return (echo, lines)
    }

    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// QEMU's redraw after each typed character: back to the start, the line, erase to the end.
    private func typed(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        for count in 1...text.utf8.count {
            for _ in 0..<(count - 1) { out += bytes("\u{1B}[D") }
            out += Array(text.utf8.prefix(count)) + bytes("\u{1B}[K")
        }
        return out
    }

    @Test func eachCharacterRedrawsTheLineAndEnterEndsIt() {
        var editor = LineEditor()
        let (echo, lines) = type(bytes("info status\n"), into: &editor)
        #expect(lines == ["info status"])
        #expect(echo == typed("info status") + [13, 10])
        #expect(!editor.isMidLine)
    }

    @Test func carriageReturnAndLineFeedAreTwoLines() {
        var editor = LineEditor()
        let (echo, lines) = type(bytes("ab\r\n"), into: &editor)
        #expect(lines == ["ab", ""])
        #expect(echo == typed("ab") + [13, 10, 13, 10])
    }

    @Test func backspaceAndCtrlWDeleteAndRedraw() {
        var editor = LineEditor()
        // "ab", DEL, "c", BS: QEMU 7.2 leaves "a".
        let (echo, lines) = type(bytes("ab\u{7F}c\u{08}\n"), into: &editor)
        #expect(lines == ["a"])
        let expected =
            typed("ab") + bytes("\u{1B}[D\u{1B}[Da\u{1B}[K") + bytes("\u{1B}[Dac\u{1B}[K")
            + bytes("\u{1B}[D\u{1B}[Da\u{1B}[K") + [13, 10]
        #expect(echo == expected)
        var words = LineEditor()
        #expect(type(bytes("foo bar \u{17}x\n"), into: &words).lines == ["foo x"])
    }

    @Test func arrowsMoveTheCursorAndInsertInTheMiddle() {
        var editor = LineEditor()
        // "ac", left, "b": "abc"; the redraw ends with the cursor moved back before "c".
        let (echo, lines) = type(bytes("ac\u{1B}[Db\n"), into: &editor)
        #expect(lines == ["abc"])
        let expected =
            typed("ac") + bytes("\u{1B}[D") + bytes("\u{1B}[Dabc\u{1B}[K\u{1B}[D") + [13, 10]
        #expect(echo == expected)
        var ends = LineEditor()
        // Home, Delete (ESC [ 3 ~), End (Ctrl-E), then "!".
        #expect(type(bytes("xyz\u{1B}[1~\u{1B}[3~\u{05}!\n"), into: &ends).lines == ["yz!"])
    }

    @Test func historyIsWalkedWithTheArrowsAndKeepsEachLineOnce() {
        var editor = LineEditor()
        _ = type(bytes("one\ntwo\none\n"), into: &editor)
        // History: two, one (the repeated line moved to the end). Up, up: "two".
        #expect(type(bytes("\u{1B}[A\u{1B}[A\n"), into: &editor).lines == ["two"])
        // History now: one, two. Up, up, down: "two" again.
        #expect(type(bytes("\u{1B}[A\u{1B}[A\u{1B}[B\n"), into: &editor).lines == ["two"])
        // Down past the last line: an empty line; escape bytes of unknown sequences are swallowed.
        #expect(type(bytes("\u{1B}[A\u{1B}[B\u{1B}[9Z\u{1B}OQ\n"), into: &editor).lines == [""])
    }

    @Test func aHumanMonitorSessionGreetsRunsHMPAndPrompts() {
        let h = SessionHarness(version: "7.2.0", paused: true)
        let session = h.core.openSession(monitor: "hmp", role: .humanMonitor, transport: h.transport)
        #expect(
            String(decoding: session.outbound, as: UTF8.self)
                == "QEMU 7.2.0 monitor - type 'help' for more information\r\n(qemu) "
        )
        session.outbound.removeAll()
        Array("info status\nbogus\n\n".utf8).withUnsafeBytes { session.receive($0) }
        let expected =
            typed("info status") + bytes("\r\nVM status: paused (prelaunch)\r\n(qemu) ")
            + typed("bogus") + bytes("\r\nunknown command: 'bogus'\r\n(qemu) ") + bytes("\r\n(qemu) ")
        #expect(session.outbound == expected)
        // A QMP event is never sent on a human monitor.
        session.outbound.removeAll()
        Array("cont\n".utf8).withUnsafeBytes { session.receive($0) }
        #expect(String(decoding: session.outbound, as: UTF8.self).hasSuffix("cont\u{1B}[K\r\n(qemu) "))
        #expect(!String(decoding: session.outbound, as: UTF8.self).contains("RESUME"))
        #expect(h.core.machine.runState == .running)
    }
}
