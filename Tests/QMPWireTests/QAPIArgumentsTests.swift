import QMPWire
import Testing

@Suite struct QAPIArgumentsTests {
    let schema = QAPIArguments([
        QAPIArgument("path", .string),
        QAPIArgument("property", .string),
        QAPIArgument("enable", .array(.enumeration(["oob"])), optional: true),
        QAPIArgument("count", .unsigned(bits: 8), optional: true),
    ])

    func desc(_ args: JSONObject) -> String? {
        do throws(QMPError) {
            try schema.validate(args)
            return nil
        } catch {
            return error.desc
        }
    }

    @Test func visitorTexts() {
        #expect(desc(["path": "/machine"]) == "Parameter 'property' is missing")
        #expect(desc(["path": 1, "property": "type"]) == "Invalid parameter type for 'path', expected: string")
        #expect(desc(["path": "/", "property": "t", "x": 1]) == "Parameter 'x' is unexpected")
        #expect(
            desc(["path": "/", "property": "t", "enable": ["foo"]]) == "Parameter 'null' does not accept value 'foo'"
        )
        #expect(
            desc(["path": "/", "property": "t", "enable": [1]])
                == "Invalid parameter type for 'enable[0]', expected: string"
        )
        #expect(
            desc(["path": "/", "property": "t", "enable": "oob"])
                == "Invalid parameter type for 'enable', expected: array"
        )
        #expect(desc(["path": "/", "property": "t", "count": 256]) == "Parameter 'count' expects uint8_t")
        #expect(
            desc(["path": "/", "property": "t", "count": 1.0])
                == "Invalid parameter type for 'count', expected: integer"
        )
        #expect(desc(["path": "/", "property": "t", "enable": ["oob", "oob"], "count": 255]) == nil)
    }
}
