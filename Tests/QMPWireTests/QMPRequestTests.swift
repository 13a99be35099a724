import QMPWire
import Testing

/// The dispatcher's message-shape checks (qmp-protocol.md §3.3), in QEMU's order.
@Suite struct QMPRequestTests {
    func parse(_ text: String, oob: Bool = false) -> Result<QMPRequest, QMPRequest.IdentifiedError> {
        QMPRequest.parse(JSONValue(parsing: text) ?? .null, allowOutOfBand: oob)
    }

    func error(_ text: String, oob: Bool = false) -> (String, JSONValue?) {
        guard case .failure(let f) = parse(text, oob: oob) else { return ("<success>", nil) }
        return (f.error.desc, f.id)
    }

    @Test func shapeErrors() {
        #expect(error("[1,2]").0 == "QMP input must be a JSON object")
        #expect(error("42").0 == "QMP input must be a JSON object")
        #expect(error(#"{"execute":1,"id":10}"#) == ("QMP input member 'execute' must be a string", 10))
        #expect(
            error(#"{"execute":"q","arguments":[],"id":11}"#) == ("QMP input member 'arguments' must be an object", 11)
        )
        #expect(error(#"{"execute":"q","arguments":null}"#).0 == "QMP input member 'arguments' must be an object")
        #expect(error(#"{"execute":"q","foo":1,"id":12}"#) == ("QMP input member 'foo' is unexpected", 12))
        #expect(error(#"{"arguments":{},"id":13}"#) == ("QMP input lacks member 'execute'", 13))
        #expect(error(#"{}"#).0 == "QMP input lacks member 'execute'")
        #expect(error(#"{"exec-oob":"q","id":2}"#) == ("QMP input member 'exec-oob' is unexpected", 2))
        #expect(
            error(#"{"execute":"a","exec-oob":"b"}"#, oob: true).0
                == "QMP input member 'execute' clashes with 'exec-oob'"
        )
        // QDict order decides which error is first: exec-oob (bucket 162) before execute (299) before arguments (447).
        #expect(error(#"{"arguments":1,"execute":2}"#).0 == "QMP input member 'execute' must be a string")
    }

    @Test func acceptedShapes() throws {
        let r = try parse(#"{"id":[1,{"a":null}],"execute":"query-status","arguments":{}}"#).get()
        #expect(r.command == "query-status")
        #expect(r.id == [1, ["a": nil]])
        #expect(!r.isOutOfBand)
        let o = try parse(#"{"exec-oob":"migrate-pause"}"#, oob: true).get()
        #expect(o.isOutOfBand && o.id == nil)
    }
}
