extension JSONValue {
    /// One complete JSON text read with QEMU's parser (its dialect, single-quoted strings too, and
    /// its limits); nil unless `text` holds exactly one value and nothing but whitespace around it. For whole texts at hand (command-line arguments, test data); streams go
    /// through ``JSONStreamParser``.
    public init?(parsing text: String) {
        var parser = JSONStreamParser()
        var value: JSONValue?
        var bytes = Array(text.utf8)
        bytes.append(UInt8(ascii: "\n"))  // ends a number or keyword at the very end
        bytes.withUnsafeBytes { buffer in
            var position = 0
            if case .success(let first)? = parser.next(from: buffer, position: &position) { value = first }
            while position < buffer.count {
                if parser.next(from: buffer, position: &position) != nil { value = nil }
            }
        }
        guard let value, !parser.isMidMessage else { return nil }
        self = value
    }
}
