import Testing
import YAMLConfig

/// A compact rendering that shows structure, scalar style and tag: plain `a`, null `~`, `'single'`,
/// `"double"`, literal `|"text\n"`, folded `>"text\n"`, tagged `!!int 10`, `[a, b]`, `{k: v}`.
private func dump(_ node: YAMLNode) -> String {
    switch node.kind {
    case .scalar(let scalar):
        let tag = scalar.tag.map { "!!\($0.rawValue) " } ?? ""
        switch scalar.style {
        case .plain: return tag + (scalar.text.isEmpty ? "~" : scalar.text)
        case .singleQuoted: return tag + "'\(scalar.text)'"
        case .doubleQuoted: return tag + "\"\(scalar.text)\""
        case .literal: return tag + "|" + String(reflecting: scalar.text)
        case .folded: return tag + ">" + String(reflecting: scalar.text)
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
        #expect(try YAMLParser.parse("---\n...\n").isNull)
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

    // MARK: What the hand-written subset refused

    @Test func anchorsAndAliases() throws {
        let text = """
            base: &port {driver: pcie-root-port, chassis: 1}
            copy: *port
            name: &n pci.1
            names: [*n, *n]
            """
        #expect(
            try dump(text) == """
                {base: {driver: pcie-root-port, chassis: 1}, copy: {driver: pcie-root-port, chassis: 1}, \
                name: pci.1, names: [pci.1, pci.1]}
                """
        )
        // The copy sits at the alias; its insides stay where the anchor was.
        var root = try YAMLParser.parse(text).mapping()
        let copy = try root.required("copy")
        #expect((copy.line, copy.column) == (2, 7))
        var inside = try copy.mapping()
        let driver = try inside.required("driver")
        #expect((driver.line, driver.column) == (1, 22))
        let names = try root.required("names").sequence()
        #expect(names.map { "\($0.line):\($0.column)" } == ["4:9", "4:13"])
        // A later anchor of the same name replaces the earlier one.
        #expect(try dump("a: &x 1\nb: &x 2\nc: *x") == "{a: 1, b: 2, c: 2}")
    }

    @Test func unknownAlias() {
        #expect(
            parseError("a: *nowhere")
                == "line 1, column 4: unknown alias '*nowhere' (an alias must come after its anchor '&nowhere')"
        )
    }

    @Test func aliasExpansionIsLimited() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...6 {
            let items = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            text += "a\(level): &a\(level) [\(items)]\n"
        }
        #expect(parseError(text)?.contains("the document expands to more than 100000 nodes") == true)
    }

    @Test func mergeKeys() throws {
        let text = """
            defaults: &defaults {bus: pcie.0, hotplug: on}
            extra: &extra {addr: "0x5", bus: other}
            one:
              <<: *defaults
              id: rp1
              hotplug: off
            two: {<<: [*defaults, *extra], id: rp2}
            three:
              id: rp3
              <<: {id: ignored, slot: 3}
            """
        #expect(
            try dump(text) == """
                {defaults: {bus: pcie.0, hotplug: on}, extra: {addr: "0x5", bus: other}, \
                one: {bus: pcie.0, id: rp1, hotplug: off}, two: {bus: pcie.0, hotplug: on, addr: "0x5", id: rp2}, \
                three: {id: rp3, slot: 3}}
                """
        )
        // A quoted '<<' is an ordinary key.
        #expect(try dump("'<<': {a: 1}") == "{'<<': {a: 1}}")
        #expect(
            parseError("a: {b: 1}\nc:\n  <<: [*x]")
                == "line 3, column 8: unknown alias '*x' (an alias must come after its anchor '&x')"
        )
        #expect(
            parseError("c:\n  <<: 1\n")
                == "line 2, column 7: a merge key '<<' takes a mapping or a sequence of mappings"
        )
        #expect(
            parseError("c:\n  <<: [{a: 1}, 2]\n")
                == "line 2, column 16: a merge key '<<' takes a mapping or a sequence of mappings"
        )
    }

    @Test func tags() throws {
        #expect(
            try dump("[!!str 10, !!str true, !!int '0x10', !!bool \"on\", !!float 1, !!null '', ! 5]")
                == "[!!str 10, !!str true, !!int '0x10', !!bool \"on\", !!float 1, !!null '', !!str 5]"
        )
        let items = try YAMLParser.parse("[!!str 10, !!int '0x10', !!bool \"on\", !!null '', !!str null]").sequence()
        #expect(throws: YAMLError.self) { _ = try items[0].int() }
        #expect(try items[0].string() == "10")
        #expect(try items[1].int() == 16)
        #expect(try items[2].bool() == true)
        #expect(try items[4].string() == "null")
        #expect(try dump("!!map {a: !!seq [1]}") == "{a: [1]}")
        #expect(try dump("%TAG !e! tag:yaml.org,2002:\n---\n- !e!int 7") == "[!!int 7]")
    }

    @Test func badTags() {
        let known = "expected one of: !!str, !!int, !!float, !!bool, !!null, !!map, !!seq"
        #expect(parseError("a: !!int ten") == "line 1, column 4: 'ten' is not a valid !!int")
        #expect(parseError("a: !!bool maybe") == "line 1, column 4: 'maybe' is not a valid !!bool")
        #expect(parseError("a: !!float x") == "line 1, column 4: 'x' is not a valid !!float")
        #expect(parseError("a: !!null x") == "line 1, column 4: 'x' is not a valid !!null")
        #expect(parseError("a: !custom 1") == "line 1, column 4: unknown tag '!custom' (\(known))")
        #expect(parseError("a: !!timestamp 2001-12-14") == "line 1, column 4: unknown tag '!!timestamp' (\(known))")
        #expect(parseError("a: !!seq {b: 1}") == "line 1, column 4: tag '!!seq' on a mapping")
        #expect(parseError("a: !!int [1]") == "line 1, column 4: tag '!!int' on a sequence")
        #expect(parseError("a: !!map x") == "line 1, column 4: tag '!!map' on a scalar")
    }

    @Test func flowAndBlockMixes() throws {
        let text = """
            controllers: [
              {driver: pcie-root-port, id: rp1,
               chassis: 1},
              {driver: pci-bridge,
               id: br1}, ]
            devices:
              - {driver: e1000, id: nic0, bus: rp1}
              - driver: virtio-net-pci
                args: [a,
                  b]
            text: "one
              two"
            plain: one
              two
            folded: >
              one
              two
            """
        #expect(
            try dump(text) == """
                {controllers: [{driver: pcie-root-port, id: rp1, chassis: 1}, {driver: pci-bridge, id: br1}], \
                devices: [{driver: e1000, id: nic0, bus: rp1}, {driver: virtio-net-pci, args: [a, b]}], \
                text: "one two", plain: one two, folded: >"one two"}
                """
        )
        var root = try YAMLParser.parse(text).mapping()
        let controllers = try root.required("controllers").sequence()
        #expect(controllers.map { "\($0.line):\($0.column)" } == ["2:3", "4:3"])
        #expect(try dump("? a\n: 1\n? b\n") == "{a: 1, b: ~}")
    }

    @Test func complexKeys() {
        #expect(parseError("? [a, b]\n: 1") == "line 1, column 3: a mapping key must be a scalar")
        #expect(parseError("{[a]: 1}") == "line 1, column 2: a mapping key must be a scalar")
    }

    @Test func multipleDocuments() {
        #expect(parseError("a: 1\n---\nb: 2") == "line 2, column 1: multiple documents are not supported")
        // After '...', libyaml wants the next document to start with '---'.
        #expect(parseError("a: 1\n...\n\nb: 2") == "line 4, column 1: did not find expected <document start>")
        #expect(parseError("a: 1\n...\n--- b") == "line 3, column 1: multiple documents are not supported")
        #expect(parseError("--- a\n--- b") == "line 2, column 1: multiple documents are not supported")
    }

    // MARK: Errors, one kind per test

    // MARK: Errors: libyaml's, at the line and column it names, with where the construct started

    @Test func tabInIndentation() {
        #expect(
            parseError("a:\n\tb: 1") == """
                line 2, column 1: found a tab that cannot start any token (YAML indents with spaces only) \
                (while scanning for the next token at line 2, column 1)
                """
        )
    }

    @Test func reservedIndicator() {
        #expect(
            parseError("a: @x") == """
                line 1, column 4: found character '@' that cannot start any token \
                (while scanning for the next token at line 1, column 4)
                """
        )
    }

    @Test func unterminatedQuotes() {
        #expect(
            parseError("a: \"abc\nb: 1")
                == "line 2, column 5: found unexpected end of stream (while scanning a quoted scalar at line 1, column 4)"
        )
    }

    @Test func badEscape() {
        #expect(
            parseError(#"a: "x\q""#)
                == "line 1, column 6: found unknown escape character (while parsing a quoted scalar at line 1, column 4)"
        )
    }

    @Test func unterminatedFlow() {
        #expect(
            parseError("a: [1, 2\nb: 3")
                == "line 2, column 2: did not find expected ',' or ']' (while parsing a flow sequence at line 1, column 4)"
        )
        #expect(
            parseError("a: {x: 1 y: 2}")
                == "line 1, column 11: did not find expected ',' or '}' (while parsing a flow mapping at line 1, column 4)"
        )
    }

    @Test func badIndentation() {
        #expect(
            parseError("a:\n    b: 1\n  c: 2")
                == "line 3, column 3: did not find expected key (while parsing a block mapping at line 1, column 1)"
        )
        #expect(
            parseError("- a\nb: 1")
                == "line 2, column 1: did not find expected '-' indicator (while parsing a block collection at line 1, column 1)"
        )
    }

    @Test func misplacedIndicators() {
        #expect(parseError("a: b: c") == "line 1, column 5: mapping values are not allowed in this context")
        #expect(parseError("a: - b") == "line 1, column 4: block sequence entries are not allowed in this context")
        #expect(
            parseError("a: 1\nb\n")
                == "line 3, column 1: could not find expected ':' (while scanning a simple key at line 2, column 1)"
        )
    }

    @Test func controlCharacter() {
        #expect(parseError("a: 1\nb: \u{7}x") == "line 2, column 4: control characters are not allowed (#x7)")
    }

    @Test func duplicateKey() {
        #expect(parseError("a: 1\nb:\n  c: 1\n  c: 2") == "line 4, column 3: duplicate key 'c'")
        #expect(parseError("a: 1\n\"a\": 2") == "line 2, column 1: duplicate key 'a'")
        #expect(parseError("{x: 1, y: 2, x: 3}") == "line 1, column 14: duplicate key 'x'")
    }

    @Test func missingKey() {
        #expect(parseError("?\n: 1") == "line 1, column 2: missing mapping key")
    }
}
