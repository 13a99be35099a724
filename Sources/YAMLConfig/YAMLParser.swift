internal import CYAML

/// Parses one YAML document with libyaml (the C parser under PyYAML and Yams, fuzzed upstream), into
/// a ``YAMLNode`` tree, without Foundation.
///
/// Everything libyaml reads of YAML 1.1 is accepted: block and flow collections over any number of
/// lines, the five scalar styles, comments, directives, anchors and aliases, tags. On top of libyaml's
/// events ``YAMLTreeBuilder`` resolves aliases, merges `<<` keys, checks tags against the core schema
/// (`!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!map`, `!!seq`; any other is an error), and
/// refuses non-scalar and duplicate keys and a second document.
///
/// Errors name the 1-based line and column, libyaml's as it words them, with where the construct it
/// was reading started: `line 3, column 1: did not find expected key (while parsing a block mapping
/// at line 1, column 1)`.
public enum YAMLParser {
    /// Parses one YAML document; an empty document is a null scalar at line 1, column 1.
    public static func parse(_ text: String) throws(YAMLError) -> YAMLNode {
        // libyaml reads the bytes in place for the whole parse.
        let utf8 = text.utf8
        let input = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(utf8.count, 1))
        defer { input.deallocate() }
        _ = input.initialize(from: utf8)
        guard let parser = cyaml_parser_new(input.baseAddress, utf8.count) else {
            throw YAMLError(line: 1, column: 1, message: "out of memory")
        }
        defer { cyaml_parser_free(parser) }
        var builder = YAMLTreeBuilder()
        var event = yaml_event_t()
        while true {
            guard yaml_parser_parse(parser, &event) != 0 else {
                throw error(parser.pointee, input: UnsafeBufferPointer(rebasing: input[..<utf8.count]))
            }
            defer { yaml_event_delete(&event) }
            let converted = Self.event(event)
            try builder.consume(converted)
            if case .streamEnd = converted { break }
        }
        return builder.root ?? YAMLNode(YAMLScalar(text: "", style: .plain, line: 1, column: 1))
    }

    // MARK: libyaml's structures

    /// The Swift form of a libyaml event.
    private static func event(_ event: yaml_event_t) -> YAMLEvent {
        let mark = YAMLEvent.Mark(line: event.start_mark.line + 1, column: event.start_mark.column + 1)
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            return .documentStart(mark)
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            return .scalar(text, style(scalar.style), anchor: string(scalar.anchor), tag: string(scalar.tag), mark)
        case YAML_SEQUENCE_START_EVENT:
            let start = event.data.sequence_start
            return .sequenceStart(anchor: string(start.anchor), tag: string(start.tag), mark)
        case YAML_SEQUENCE_END_EVENT:
            return .sequenceEnd
        case YAML_MAPPING_START_EVENT:
            let start = event.data.mapping_start
            return .mappingStart(anchor: string(start.anchor), tag: string(start.tag), mark)
        case YAML_MAPPING_END_EVENT:
            return .mappingEnd
        case YAML_ALIAS_EVENT:
            return .alias(string(event.data.alias.anchor) ?? "", mark)
        case YAML_STREAM_END_EVENT:
            return .streamEnd
        default:
            return .other
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private static func style(_ style: yaml_scalar_style_t) -> YAMLScalar.Style {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: return .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: return .literal
        case YAML_FOLDED_SCALAR_STYLE: return .folded
        default: return .plain
        }
    }

    /// libyaml's error as a ``YAMLError``: its problem at its position, and the context it names.
    private static func error(_ parser: yaml_parser_t, input: UnsafeBufferPointer<UInt8>) -> YAMLError {
        let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        switch parser.error {
        case YAML_MEMORY_ERROR:
            return YAMLError(line: 1, column: 1, message: "out of memory")
        case YAML_READER_ERROR:
            // Positioned by byte offset only: count lines and characters up to it.
            let offset = min(parser.problem_offset, input.count)
            var line = 1
            var column = 1
            for byte in input[..<offset] {
                if byte == 0x0A {
                    line += 1
                    column = 1
                } else if byte & 0xC0 != 0x80 {
                    column += 1
                }
            }
            var message = problem
            if parser.problem_value >= 0 {
                message += " (#x\(String(parser.problem_value, radix: 16, uppercase: true)))"
            }
            return YAMLError(line: line, column: column, message: message)
        default:
            let mark = parser.problem_mark
            var message = problem
            if problem == "found character that cannot start any token",
                let character = character(in: input, line: mark.line, column: mark.column)
            {
                // libyaml does not say which: a tab in the indentation is the usual one.
                message =
                    character == "\t"
                    ? "found a tab that cannot start any token (YAML indents with spaces only)"
                    : "found character '\(character)' that cannot start any token"
            }
            if let context = parser.context.map({ String(cString: $0) }) {
                let start = parser.context_mark
                message += " (\(context) at line \(start.line + 1), column \(start.column + 1))"
            }
            return YAMLError(line: mark.line + 1, column: mark.column + 1, message: message)
        }
    }

    /// The character at a 0-based line and column (in Unicode scalars) of the input, or nil.
    private static func character(in input: UnsafeBufferPointer<UInt8>, line: Int, column: Int) -> Unicode.Scalar? {
        var currentLine = 0
        var currentColumn = 0
        for scalar in String(decoding: input, as: UTF8.self).unicodeScalars {
            if currentLine == line && currentColumn == column { return scalar }
            if scalar == "\n" {
                if currentLine == line { return nil }
                currentLine += 1
                currentColumn = 0
            } else {
                currentColumn += 1
            }
        }
        return nil
    }
}
