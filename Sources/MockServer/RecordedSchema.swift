/// A QEMU release's whole `query-qmp-schema` answer as recorded from the real binary (with the v8
/// additions merged in), embedded in the daemon by `scripts/generate-qmp-schema.py`.
///
/// The daemon has no Foundation and no resource bundles, so the recording is a string constant:
/// one schema entity a line, compact JSON with `name` first. Nothing is parsed until a client asks
/// `query-qmp-schema`; ``QMPSchema`` then finds the lines it needs by name and parses only those.
/// A derived release (8.2) shares its base's text and replaces whole entities.
struct RecordedSchema: Sendable {
    /// The profile version (`7.2.0`, `8.2.0`, `10.0.0`).
    let release: String
    /// One entity a line, in the order QEMU sends them.
    let text: String
    /// Entities, by name, whose line this release replaces in ``text``.
    let replacements: [String: String]

    init(release: String, text: String, replacements: [String: String] = [:]) {
        self.release = release
        self.text = text
        self.replacements = replacements
    }

    /// The recording a profile plays, if one is embedded for its release.
    static func forRelease(_ release: String) -> RecordedSchema? { releases[release] }

    /// Each entity's name and its JSON text, in order, replacements applied. Works on the UTF-8
    /// view: splitting the text by `Character` (grapheme breaking over 200 KB) cost five times more.
    func entities() -> [(name: Substring, json: Substring)] {
        let prefix = #"{"name":""#.utf8
        let quote = UInt8(ascii: "\""), newline = UInt8(ascii: "\n")
        var result: [(name: Substring, json: Substring)] = []
        result.reserveCapacity(1_200)
        let bytes = text.utf8
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = bytes[start...].firstIndex(of: newline) ?? bytes.endIndex
            let line = bytes[start..<end]
            start = end < bytes.endIndex ? bytes.index(after: end) : end
            guard line.starts(with: prefix) else { continue }
            let rest = line.dropFirst(prefix.count)
            guard let close = rest.firstIndex(of: quote) else { continue }
            let name = Substring(rest[..<close])
            if let replacement = replacements[String(name)] {
                result.append((name, Substring(replacement)))
            } else {
                result.append((name, Substring(line)))
            }
        }
        return result
    }
}
