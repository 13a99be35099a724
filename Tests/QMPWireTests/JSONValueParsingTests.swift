import QMPWire
import Testing

/// ``JSONValue/init(parsing:)``: exactly one value, in QEMU's dialect.
struct JSONValueParsingTests {
    @Test func oneValueAndNothingElse() {
        #expect(
            JSONValue(parsing: #" {"a": [1, true]} "#) == .object(JSONObject([("a", .array([.int(1), .bool(true)]))]))
        )
        #expect(JSONValue(parsing: "42") == .int(42))  // a number at the very end is complete
        #expect(JSONValue(parsing: "'single'") == .string("single"))
        #expect(JSONValue(parsing: "{} {}") == nil)
        #expect(JSONValue(parsing: "{} x") == nil)
        #expect(JSONValue(parsing: #"{"a": "#) == nil)
        #expect(JSONValue(parsing: "") == nil)
        #expect(JSONValue(parsing: "[1,]") == nil)
    }
}
