#if canImport(Glibc)
    import Glibc
#endif

/// Standard output written with `write(2)`, unbuffered: `watch`'s lines must reach a pipe as they
/// are made (a test or `tee` reads them live), and a terminal frame must go out whole.
enum StandardOutput {
    /// Writes all of `text` (retrying on EINTR and short writes); false when stdout is gone.
    @discardableResult
    static func write(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(1, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                offset += n
            }
            return true
        }
    }

    /// Whether stdout is a terminal (then `watch` draws the full-screen view).
    static var isTerminal: Bool { isatty(1) == 1 }
}
