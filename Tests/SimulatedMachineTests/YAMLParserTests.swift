import SimulatedMachine
import Testing

/// A compact rendering that shows structure and scalar style: plain `a`, null `~`, `'single'`,
/// `"double"`, literal `|"text\n"`, `[a, b]`, `{k: v}`.
private func dump(_ node: YAMLNode) -> String {
    switch node.kind {
    case .scalar(let scalar):
        switch scalar.style {
        case .plain: return scalar.text.isEmpty ? "~" : scalar.text
        case .singleQuoted: return "'\(scalar.text)'"
        case .doubleQuoted: return "\"\(scalar.text)\""
        case .literal: return "|" + String(reflecting: scalar.text)
        }
    case .sequence(let items):
        return "[" + items.map(dump).joined(separator: ", ") + "]"
    case .mapping(let entries):
        return "{" + entries.map { "\(dump(YAMLNode($0.key))): \(dump($0.value))" }.joined(separator: ", ") + "}"
    }
}

private func dump(_ text: String) throws -> String { dump(try YAMLParser.parse(text)) }

/// The parse error's description, or nil when the text parses.
private func parseError(_ text: String) -> String? {
    do {
        _ = try YAMLParser.parse(text)
        return nil
    } catch {
        return error.description
    }
}

/// The error an accessor chain throws, or nil.
private func accessError(_ text: String, _ access: (YAMLNode) throws(YAMLError) -> Void) -> String? {
    do {
        try access(try YAMLParser.parse(text))
        return nil
    } catch {
        return error.description
    }
}

private let example = """
    machine: q35
    controllers:
      - driver: pcie-root-port
        id: pci.1        # comment
        chassis: 1
        hotplug: off
      - {driver: pcie-pci-bridge, id: pci.7, bus: pci.6}
    devices:
    - driver: virtio-blk-pci
      id: "virtio-disk0"
      addr: '0x0.0x0'
    text: |
      line one
      line two
    empty:
    list: [1, two, "3"]

    """

@Suite struct YAMLParserTests {
    // MARK: Round trips

    @Test func configurationExample() throws {
        #expect(
            try dump(example) == """
                {machine: q35, controllers: [{driver: pcie-root-port, id: pci.1, chassis: 1, hotplug: off}, \
                {driver: pcie-pci-bridge, id: pci.7, bus: pci.6}], \
                devices: [{driver: virtio-blk-pci, id: "virtio-disk0", addr: '0x0.0x0'}], \
                text: |"line one\\nline two\\n", empty: ~, list: [1, two, "3"]}
                """
        )
    }

    @Test func positions() throws {
        var root = try YAMLParser.parse(example).mapping()
        #expect((root.line, root.column) == (1, 1))
        let controllers = try root.required("controllers")
        #expect((controllers.line, controllers.column) == (3, 3))
        let items = try controllers.sequence()
        var first = try items[0].mapping()
        #expect((first.line, first.column) == (3, 5))
        let id = try first.required("id")
        #expect((id.line, id.column) == (4, 9))
        #expect(first.entries.map { "\($0.key.line):\($0.key.column)" } == ["3:5", "4:5", "5:5", "6:5"])
        #expect((items[1].line, items[1].column) == (7, 5))
        let devices = try root.required("devices")
        #expect((devices.line, devices.column) == (9, 1))
        var device = try devices.sequence()[0].mapping()
        let deviceID = try device.required("id")
        #expect((deviceID.line, deviceID.column) == (10, 7))
        let text = try root.required("text")
        #expect((text.line, text.column) == (12, 7))
        let empty = try root.required("empty")
        #expect((empty.line, empty.column, empty.isNull) == (15, 7, true))
        let list = try root.required("list").sequence()
        #expect(list.map { "\($0.line):\($0.column)" } == ["16:8", "16:11", "16:16"])
    }

    @Test func typedAccessorsOnExample() throws {
        var root = try YAMLParser.parse(example).mapping()
        #expect(try root.required("machine").string() == "q35")
        var controller = try root.required("controllers").sequence()[0].mapping()
        #expect(try controller.required("chassis").int() == 1)
        #expect(try controller.required("hotplug").bool() == false)
        #expect(try controller.required("id").string() == "pci.1")
        let list = try root.required("list").sequence()
        #expect(try list[0].int() == 1)
        #expect(try list[2].string() == "3")
        #expect(list[2].kind == .scalar(YAMLScalar(text: "3", style: .doubleQuoted, line: 16, column: 16)))
    }

    @Test func plainScalars() throws {
        let text = """
            a: hello world   # comment
            b: a#b
            c: http://host:80/path
            d: -1
            e: :x
            f: ~
            g: 'x'   # comment after a quoted value
            名前: é
            """
        #expect(
            try dump(text)
                == "{a: hello world, b: a#b, c: http://host:80/path, d: -1, e: :x, f: ~, g: 'x', 名前: é}"
        )
        #expect(try dump("just a scalar") == "just a scalar")
    }

    @Test func quotedScalars() throws {
        #expect(try dump("a: 'it''s # not a comment'") == "{a: 'it's # not a comment'}")
        let node = try YAMLParser.parse(#"b: "q\" \\ \/ \n \t \r \0 \x41 \u00e9 \U0001F600""#)
        let text = try node.mapping().entries[0].value.string()
        #expect(text == "q\" \\ / \n \t \r \0 A é 😀")
        #expect(try dump(#""a b": 1"# + "\n'c': \"\"") == #"{"a b": 1, 'c': ""}"#)
    }

    @Test func nestedBlockCollections() throws {
        let text = """
            same:
            - a
            - b
            deeper:
              - c
            nested:
              - - d
                - e
              -
              - f: 1
                g:
                - h
                i:
                  j: k
            last: 2
            """
        #expect(
            try dump(text) == "{same: [a, b], deeper: [c], nested: [[d, e], ~, {f: 1, g: [h], i: {j: k}}], last: 2}"
        )
    }

    @Test func indentedRootAndCRLF() throws {
        #expect(try dump("  a: 1\n  b:\n    - 2\n") == "{a: 1, b: [2]}")
        #expect(try dump("a: 1\r\nb:\r\n  c: 2\r\n") == "{a: 1, b: {c: 2}}")
    }

    @Test func flowCollections() throws {
        #expect(try dump("[]") == "[]")
        #expect(try dump("a: {}") == "{a: {}}")
        #expect(try dump("{x: 1, y: [2, 3], z: {w: []}, n: }") == "{x: 1, y: [2, 3], z: {w: []}, n: ~}")
        #expect(try dump("[a b, 'c', [d], {e: f}, ]  # comment") == "[a b, 'c', [d], {e: f}]")
        #expect(try dump(#"{"a":1,"b":[true,null]}"#) == #"{"a": 1, "b": [true, null]}"#)
        #expect(try dump("- [http://x:1, y]") == "[[http://x:1, y]]")
    }

    @Test func literalBlockScalars() throws {
        let text = """
            a: |
              line one

                indented
              # not a comment
            b: |-
              stripped
            c: |+
              kept

            d: |
            e: end
            """
        #expect(
            try dump(text) == #"""
                {a: |"line one\n\n  indented\n# not a comment\n", b: |"stripped", c: |"kept\n\n", d: |"", e: end}
                """#
        )
        #expect(try dump("- t: |\n    x\n  u: 1\n- |\n  y\n") == #"[{t: |"x\n", u: 1}, |"y\n"]"#)
        #expect(try dump("|\n  top\n") == #"|"top\n""#)
    }

    @Test func documentMarkersAndEmptyDocuments() throws {
        #expect(try dump("---\na: 1\n...\n# trailing comment\n") == "{a: 1}")
        #expect(try dump("--- # comment\n- 1\n") == "[1]")
        let empty = YAMLNode(YAMLScalar(text: "", style: .plain, line: 1, column: 1))
        #expect(try YAMLParser.parse("") == empty)
        #expect(try YAMLParser.parse("# only a comment\n\n") == empty)
        #expect(try YAMLParser.parse("---\n...\n") == empty)
    }

    // MARK: Accessors

    @Test func scalarConversions() throws {
        let ints = ["0x1F": 31, "0o17": 15, "-42": -42, "-0x10": -16, "+7": 7, "007": 7]
        for (text, value) in ints {
            #expect(YAMLScalar(text: text, style: .plain, line: 1, column: 1).intValue == value, "\(text)")
        }
        for text in ["1_000", "0x", "0x-1", "1.5", "- 1", ""] {
            #expect(YAMLScalar(text: text, style: .plain, line: 1, column: 1).intValue == nil, "\(text)")
        }
        #expect(YAMLScalar(text: "1", style: .singleQuoted, line: 1, column: 1).intValue == nil)
        let bools = ["Yes": true, "ON": true, "true": true, "no": false, "Off": false, "FALSE": false]
        for (text, value) in bools {
            #expect(YAMLScalar(text: text, style: .plain, line: 1, column: 1).boolValue == value, "\(text)")
        }
        #expect(YAMLScalar(text: "true", style: .doubleQuoted, line: 1, column: 1).boolValue == nil)
        #expect(YAMLScalar(text: "null", style: .plain, line: 1, column: 1).isNull)
        #expect(!YAMLScalar(text: "null", style: .doubleQuoted, line: 1, column: 1).isNull)
        #expect(try YAMLParser.parse("a: 1").mapping().entries[0].value.string() == "1")
    }

    @Test func accessorErrorsNameThePosition() {
        #expect(
            accessError("a:\n  b: 1") { node throws(YAMLError) in
                var root = try node.mapping()
                _ = try root.required("a").string()
            } == "line 2, column 3: expected a string"
        )
        #expect(
            accessError(#"n: "1""#) { node throws(YAMLError) in _ = try node.mapping().entries[0].value.int() }
                == "line 1, column 4: expected an integer"
        )
        #expect(
            accessError("b: maybe") { node throws(YAMLError) in _ = try node.mapping().entries[0].value.bool() }
                == "line 1, column 4: expected a boolean"
        )
        #expect(
            accessError("s: 1") { node throws(YAMLError) in _ = try node.mapping().entries[0].value.sequence() }
                == "line 1, column 4: expected a sequence"
        )
        #expect(
            accessError("- 1") { node throws(YAMLError) in _ = try node.sequence()[0].mapping() }
                == "line 1, column 3: expected a mapping"
        )
        #expect(
            accessError("a: [1]") { node throws(YAMLError) in _ = try node.mapping().entries[0].value.scalar() }
                == "line 1, column 4: expected a scalar"
        )
        #expect(
            accessError("a:") { node throws(YAMLError) in _ = try node.mapping().entries[0].value.string() }
                == "line 1, column 3: expected a string"
        )
    }

    @Test func mappingReader() throws {
        let text = """
            controllers:
              - driver: pcie-root-port
                id: pci.1
                chasis: 1
                hotplug:
            """
        let root = try YAMLParser.parse(text)
        var controller = try root.mapping().entries[0].value.sequence()[0].mapping()
        #expect(try controller.required("driver").string() == "pcie-root-port")
        #expect(try controller.optional("id")?.string() == "pci.1")
        #expect(controller.optional("bus") == nil)
        #expect(try controller.optional("chassis")?.int() == nil)
        #expect(controller.optional("slot") == nil)
        #expect(controller.optional("addr") == nil)
        #expect(controller.optional("hotplug")?.isNull == true)
        #expect(controller.expectedKeys == ["driver", "id", "bus", "chassis", "slot", "addr", "hotplug"])
        #expect(
            throws: YAMLError(
                line: 4,
                column: 5,
                message: """
                    unknown key 'chasis' (expected one of: driver, id, bus, chassis, slot, addr, hotplug)
                    """
            )
        ) { try controller.finish() }
        #expect(throws: YAMLError(line: 2, column: 5, message: "missing required key 'bus'")) {
            try controller.required("bus")
        }
        var root2 = try root.mapping()
        _ = root2.optional("controllers")
        try root2.finish()
        let empty = try YAMLParser.parse("{a: 1}").mapping()
        #expect(throws: YAMLError(line: 1, column: 2, message: "unknown key 'a' (no keys expected)")) {
            try empty.finish()
        }
    }

    // MARK: Errors, one kind per test

    @Test func tabInIndentation() {
        #expect(parseError("a:\n\tb: 1") == "line 2, column 1: tabs are not allowed in indentation")
        #expect(parseError("a:\n  \tb: 1") == "line 2, column 3: tabs are not allowed in indentation")
    }

    @Test func anchor() { #expect(parseError("a: &x 1") == "line 1, column 4: anchors are not supported") }

    @Test func alias() { #expect(parseError("a: 1\n名前: *x") == "line 2, column 5: aliases are not supported") }

    @Test func tag() { #expect(parseError("- !!str 1") == "line 1, column 3: tags are not supported") }

    @Test func directive() {
        #expect(parseError("# c\n%YAML 1.2\n---\na: 1") == "line 2, column 1: directives are not supported")
    }

    @Test func complexKey() {
        #expect(parseError("a: 1\n? b\n: 2") == "line 2, column 1: complex keys ('? ') are not supported")
    }

    @Test func secondDocument() {
        #expect(parseError("a: 1\n---\nb: 2") == "line 2, column 1: multiple documents are not supported")
        #expect(parseError("a: 1\n...\n\nb: 2") == "line 4, column 1: multiple documents are not supported")
        #expect(parseError("--- a") == "line 1, column 5: content after '---' is not supported")
    }

    @Test func duplicateKey() {
        #expect(parseError("a: 1\nb:\n  c: 1\n  c: 2") == "line 4, column 3: duplicate key 'c'")
        #expect(parseError("a: 1\n\"a\": 2") == "line 2, column 1: duplicate key 'a'")
        #expect(parseError("{x: 1, y: 2, x: 3}") == "line 1, column 14: duplicate key 'x'")
    }

    @Test func foldedScalar() {
        #expect(
            parseError("text: >\n  hi") == "line 1, column 7: folded block scalars ('>') are not supported; use '|'"
        )
    }

    @Test func blockScalarIndentationIndicator() {
        #expect(parseError("a: |2\n  x") == "line 1, column 5: block scalar indentation indicators are not supported")
    }

    @Test func unterminatedQuotes() {
        #expect(
            parseError("a: \"abc\nb: 1")
                == "line 1, column 4: unterminated double-quoted scalar (quoted scalars must fit on one line)"
        )
        #expect(
            parseError("- 'it''")
                == "line 1, column 3: unterminated single-quoted scalar (quoted scalars must fit on one line)"
        )
    }

    @Test func badEscapes() {
        #expect(parseError(#"a: "x\q""#) == #"line 1, column 6: unknown escape sequence '\q'"#)
        #expect(parseError(#"a: "\uD800""#) == #"line 1, column 5: invalid escape sequence '\uD800'"#)
    }

    @Test func unterminatedFlow() {
        #expect(
            parseError("a: [1, 2\nb: 3")
                == "line 1, column 4: unterminated flow sequence (flow collections must fit on one line)"
        )
        #expect(
            parseError("a: {x: [1], # comment")
                == "line 1, column 4: unterminated flow mapping (flow collections must fit on one line)"
        )
    }

    @Test func flowSeparator() {
        #expect(parseError(#"a: ["x" "y"]"#) == "line 1, column 9: expected ',' or ']'")
        #expect(parseError("a: {x: 1 y: 2}") == "line 1, column 11: expected ',' or '}'")
        #expect(parseError("{x}") == "line 1, column 3: expected ':' after the mapping key")
    }

    @Test func badIndentation() {
        #expect(parseError("a:\n    b: 1\n  c: 2") == "line 3, column 3: bad indentation")
        #expect(parseError("a: hello\n  world") == "line 2, column 3: bad indentation")
        #expect(parseError("- a\n  - b") == "line 2, column 3: bad indentation")
    }

    @Test func mappingValueInline() {
        #expect(
            parseError("a: b: c")
                == "line 1, column 5: mapping values are not allowed here (quote the value if it contains ': ')"
        )
    }

    @Test func sequenceInline() {
        #expect(
            parseError("a: - b") == "line 1, column 4: a block sequence cannot start here; start it on the next line"
        )
        #expect(parseError("a: 1\n- b") == "line 2, column 1: a sequence item is not allowed here")
    }

    @Test func missingColon() {
        #expect(parseError("a: 1\nb\n") == "line 2, column 2: expected ':' after the mapping key")
        #expect(parseError(": x") == "line 1, column 1: missing mapping key before ':'")
    }

    @Test func reservedIndicator() {
        #expect(parseError("a: @x") == "line 1, column 4: '@' cannot start a plain scalar; quote the value")
        #expect(parseError("a: `x`") == "line 1, column 4: '`' cannot start a plain scalar; quote the value")
    }

    @Test func textAfterValue() {
        #expect(parseError(#"a: "x" y"#) == "line 1, column 8: unexpected text after the value")
        #expect(parseError("a: [1] 2") == "line 1, column 8: unexpected text after the value")
    }

    @Test func trailingContent() {
        #expect(parseError("- a\nb: 1") == "line 2, column 1: expected the end of the document")
        #expect(parseError("  a: 1\nb: 2") == "line 2, column 1: expected the end of the document")
    }
}
