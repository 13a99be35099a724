import QMPWire
import Testing

/// QEMU's lexer, streamer and parser behaviour, with the texts of `qmp-protocol.md` §5 and the
/// oracle's a1 transcript. Every input is followed by a probe that must still parse.
@Suite struct JSONStreamParserTests {
    static let probe = #"{"execute":"probe"}"#
    static let probeOK = #"ok {"execute": "probe"}"#

    /// (input bytes, expected outputs before the probe's)
    static let cases: [(String, [UInt8], [String])] = [
        ("missing value", Array(#"{"execute": }"#.utf8), ["err JSON parse error, expecting value"]),
        ("trailing comma", Array(#"{"execute":"q","id":1,}"#.utf8), ["err JSON parse error, expecting value"]),
        ("no separator", Array(#"{"execute":"q" "id":1}"#.utf8), ["err JSON parse error, expected separator in dict"]),
        (
            "bracket closes dict", Array(#"{"execute":"q","id":1] "#.utf8),
            ["err JSON parse error, expected separator in dict"]
        ),
        ("key not string", Array(#"{1:2}"#.utf8), ["err JSON parse error, key is not a string in object"]),
        ("missing colon", Array(#"{"execute" "q"}"#.utf8), ["err JSON parse error, missing : in object pair"]),
        ("duplicate key", Array(#"{"execute":"q","id":1,"id":2}"#.utf8), ["err JSON parse error, duplicate key"]),
        ("invalid keyword", Array(#"{"id":tru}"#.utf8), ["err JSON parse error, invalid keyword 'tru'"]),
        ("invalid escape", Array(#"{"id":"\x41"}"#.utf8), ["err JSON parse error, invalid escape sequence in string"]),
        (
            "lone surrogate", Array(#"{"id":"\ud800"}"#.utf8),
            [#"err JSON parse error, \ud800 is not a valid Unicode character"#]
        ),
        (
            "noncharacter escape", Array(#"{"id":"\uffff"}"#.utf8),
            [#"err JSON parse error, \uffff is not a valid Unicode character"#]
        ),
        (
            "non-hex escape", Array(#"{"id":"\uZZZZ"}"#.utf8),
            [#"err JSON parse error, \uZZZZ is not a valid Unicode character"#]
        ),
        (
            "short escape", Array(#"{"id":"\u00"}"#.utf8),
            [#"err JSON parse error, \u00" is not a valid Unicode character"#]
        ),
        (
            "bad UTF-8 C3 28", Array(#"{"id":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8),
            ["err JSON parse error, invalid UTF-8 sequence in string"]
        ),
        (
            "UTF-8 surrogate", Array(#"{"id":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8),
            ["err JSON parse error, invalid UTF-8 sequence in string"]
        ),
        (
            "beyond U+10FFFF", Array(#"{"id":""#.utf8) + [0xF4, 0x90, 0x80, 0x80] + Array(#""}"#.utf8),
            ["err JSON parse error, invalid UTF-8 sequence in string"]
        ),
        (
            "UTF-8 noncharacter", Array(#"{"id":""#.utf8) + [0xEF, 0xBF, 0xBF] + Array(#""}"#.utf8),
            ["err JSON parse error, invalid UTF-8 sequence in string"]
        ),
        (
            "overlong slash", Array(#"{"id":""#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8),
            ["err JSON parse error, invalid UTF-8 sequence in string"]
        ),
        ("control byte", [0x01], ["err JSON parse error, stray '\u{01}'"]),
        ("0xFF", [0xFF], ["err JSON parse error, stray '\u{FFFD}'"]),
        (
            "0xFF after partial message", Array(#"{"execute": "query-status", "id": 1"#.utf8) + [0xFF],
            ["err JSON parse error, stray '\u{FFFD}'"]
        ),
        ("number ended by 0xFF", Array(#"{"id": 1"#.utf8) + [0xFF], ["err JSON parse error, stray '\u{FFFD}'"]),
        (
            "0xFF in string", Array(#"{"id": "a"#.utf8) + [0xFF] + Array(#"b"}"#.utf8),
            ["err JSON parse error, stray '\"a\u{FFFD}'", "err JSON parse error, expecting value"]
        ),
        (
            "leading zero", Array(#"{"execute":"q","id":01}"#.utf8),
            ["err JSON parse error, stray '01'", "err JSON parse error, expecting value"]
        ),
        ("lone minus", Array(#"{"execute":"q","id":-}"#.utf8), ["err JSON parse error, stray '-}'"]),
        (
            "NULL", Array(#"{"execute":"q","id":NULL}"#.utf8),
            ["err JSON parse error, stray 'N'", "err JSON parse error, expecting value"]
        ),
        (
            "newline in string", Array("{\"execute\":\"q\",\"id\":\"x\ny\"}".utf8),
            ["err JSON parse error, stray '\"x\n'", "err JSON parse error, expecting value"]
        ),
        (
            "tab in string", Array("{\"id\":\"tab\t\"}".utf8),
            ["err JSON parse error, stray '\"tab\t'", "err JSON parse error, expecting value"]
        ),
        (
            "bare word with dash", Array(#"{"execute": query-status}"#.utf8),
            ["err JSON parse error, stray '-s'", "err JSON parse error, expecting value"]
        ),
        ("TRUE", Array("TRUE\n".utf8), ["err JSON parse error, stray 'T'"]),
        ("interpolation", Array("%p\n".utf8), ["err JSON parse error, stray '%'"]),
        ("lone closing brace", Array("}".utf8), ["err JSON parse error, expecting value"]),
        ("lone closing bracket", Array("]".utf8), ["err JSON parse error, expecting value"]),
        ("mismatch [}", Array("[}".utf8), ["err JSON parse error, expecting value"]),
        ("mismatch {]", Array("{]".utf8), ["err JSON parse error, expecting value"]),
        ("extra closing brace", Array(#"{"a":1}}"#.utf8), [#"ok {"a": 1}"#, "err JSON parse error, expecting value"]),
        ("scalar message", Array("42\n".utf8), ["ok 42"]),
        ("string message", Array(#""s""#.utf8), [#"ok "s""#]),
        ("whitespace only", Array("   \t \r\n".utf8), []),
        ("single quotes", Array(#"{'execute':'q','id':'sq'}"#.utf8), [#"ok {"execute": "q", "id": "sq"}"#]),
        ("escaped single quote", Array(#"{"id":'it\'s "x"'}"#.utf8), [#"ok {"id": "it's \"x\""}"#]),
        ("NUL escape", Array(#"{"id":"a\u0000b"}"#.utf8), [#"ok {"id": "a\u0000b"}"#]),
        ("modified UTF-8 NUL", Array(#"{"id":""#.utf8) + [0xC0, 0x80] + Array(#""}"#.utf8), [#"ok {"id": "\u0000"}"#]),
        ("surrogate pair", Array(#"{"id":"\u00e9\ud83d\ude00"}"#.utf8), [#"ok {"id": "\u00E9\uD83D\uDE00"}"#]),
        ("DEL raw", Array(#"{"id":""#.utf8) + [0x7F] + Array(#""}"#.utf8), [#"ok {"id": "\u007F"}"#]),
        (
            "garbage between", Array(#"{"id":"x"} garbage {"id":"y"}"#.utf8),
            [#"ok {"id": "x"}"#, "err JSON parse error, invalid keyword 'garbage'", #"ok {"id": "y"}"#]
        ),
        ("two messages back to back", Array(#"{"a":1}{"b":2}"#.utf8), [#"ok {"a": 1}"#, #"ok {"b": 2}"#]),
        (
            "split object across newline", Array("{\"execute\":\"q\",\n\"id\":\"split\"\n}".utf8),
            [#"ok {"execute": "q", "id": "split"}"#]
        ),
    ]

    @Test(arguments: cases.indices)
    func malformedInputThenProbe(_ index: Int) {
        let (name, input, expected) = Self.cases[index]
        // A probe after the input must still work. A scalar needs a following byte to finish,
        // which the probe's '{' provides.
        let bytes = input + Array(Self.probe.utf8)
        for outputs in StreamHarness.allFeedings(bytes) {
            #expect(outputs == expected + [Self.probeOK], "\(name)")
        }
    }

    /// Stray text as QEMU prints it: UTF-8 of 1 to 4 bytes kept, an invalid byte as U+FFFD, cut at NUL.
    @Test func lossyTextKeepsEveryEncodingLength() {
        let bytes: [UInt8] = [0x61, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80, 0xFF, 0x62, 0x00, 0x63]
        #expect(QEMUUTF8.lossyString(bytes) == "a\u{E9}\u{20AC}\u{1F600}\u{FFFD}b")
    }

    @Test func scalarWaitsForLookahead() {
        var h = StreamHarness()
        #expect(h.feed("42") == [])
        #expect(h.feed("\n") == ["ok 42"])
        #expect(h.feed("tru") == [])
        #expect(h.feed("e ") == ["ok true"])
    }

    @Test func numbersFollowQEMU() {
        var h = StreamHarness()
        let inputs = [
            "18446744073709551615", "12345678901234567890123", "-9223372036854775809", "-9223372036854775808",
            "1.5e3", "1E2", "1.0", "0.1", "-0", "-0.0", "1e400",
        ]
        let outputs = inputs.flatMap { h.feed($0 + " ") }
        #expect(
            outputs == [
                "ok 18446744073709551615", "ok 1.2345678901234568e+22", "ok -9.2233720368547758e+18",
                "ok -9223372036854775808", "ok 1500", "ok 100", "ok 1", "ok 0.10000000000000001", "ok 0", "ok -0",
                "ok inf",
            ]
        )
    }

    @Test func numberTypes() {
        var h = StreamHarness()
        var values: [JSONValue] = []
        Array("[9223372036854775807, 9223372036854775808, 1.0, -1]".utf8).withUnsafeBytes { raw in
            var position = 0
            if case .success(let v) = h.parser.next(from: raw, position: &position) { values = v.arrayValue ?? [] }
        }
        #expect(values == [.int(Int64.max), .uint(UInt64(Int64.max) + 1), .double(1), .int(-1)])
    }

    @Test func nestingLimitThenResync() {
        let input = String(repeating: "[", count: 1025) + String(repeating: "]", count: 1025)
        var h = StreamHarness()
        let outputs = h.feed(input + Self.probe)
        #expect(outputs.first == "err JSON nesting depth limit exceeded")
        #expect(outputs.dropFirst().dropLast().allSatisfy { $0 == "err JSON parse error, expecting value" })
        #expect(outputs.count == 1 + 1025 + 1)
        #expect(outputs.last == Self.probeOK)
        // 1024 is allowed.
        var ok = StreamHarness()
        let deep = String(repeating: "[", count: 1024) + String(repeating: "]", count: 1024)
        #expect(ok.feed(deep) == ["ok " + String(repeating: "[", count: 1024) + String(repeating: "]", count: 1024)])
    }

    @Test func tokenCountLimit() {
        var h = StreamHarness(limits: .init(maxTokens: 5))
        // [1,2] is 5 tokens; [1,2,3] needs 7.
        #expect(h.feed("[1,2]") == ["ok [1, 2]"])
        let outputs = h.feed("[1,2,3]" + Self.probe)
        #expect(
            outputs == ["err JSON token count limit exceeded", "err JSON parse error, expecting value", Self.probeOK]
        )
    }

    @Test func tokenSizeLimit() {
        var h = StreamHarness(limits: .init(maxMessageBytes: 16))
        #expect(h.feed(#"{"a":"bcd"}"#) == [#"ok {"a": "bcd"}"#])
        // A single string token longer than the limit is cut by the lexer.
        let outputs = h.feed(#"["aaaaaaaaaaaaaaaaaaaa"]"#)
        #expect(outputs.first == "err JSON token size limit exceeded")
    }

    @Test func lastMessageTextKeepsInnerWhitespace() {
        var parser = JSONStreamParser()
        let bytes = Array("  { \"execute\" : \"q\" }\n".utf8)
        bytes.withUnsafeBytes { raw in
            var position = 0
            _ = parser.next(from: raw, position: &position)
            #expect(String(decoding: parser.lastMessageText, as: UTF8.self) == #"{ "execute" : "q" }"#)
        }
    }
}
