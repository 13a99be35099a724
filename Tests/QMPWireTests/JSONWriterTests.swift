import QMPWire
import Testing

@Suite struct JSONWriterTests {
    func text(_ value: JSONValue) -> String { value.jsonText }

    @Test func escapesLikeQEMU() {
        #expect(text(.string("a/b\u{08}\u{0C}\n\r\t\"\\\u{1F}\u{7F}")) == #""a/b\b\f\n\r\t\"\\\u001F\u007F""#)
        #expect(text(.string("caf\u{E9}")) == #""caf\u00E9""#)
        #expect(text(.string("\u{1F600}")) == #""\uD83D\uDE00""#)
        #expect(text(.string("\u{0}")) == #""\u0000""#)
    }

    @Test func separatorsAndContainers() {
        #expect(text([1, [], JSONValue.object(JSONObject()), nil, true]) == "[1, [], {}, null, true]")
    }

    @Test func doublesAsPercent17g() {
        #expect(text(.double(0.1)) == "0.10000000000000001")
        #expect(text(.double(1)) == "1")
        #expect(text(.double(-0.0)) == "-0")
        #expect(text(.double(1.2345678901234568e+22)) == "1.2345678901234568e+22")
        #expect(text(.uint(UInt64.max)) == "18446744073709551615")
        #expect(text(.int(Int64.min)) == "-9223372036854775808")
    }

    /// Buckets listed in qmp-protocol.md §5.9.
    @Test func qdictBuckets() {
        let expected: [String: UInt32] = [
            "timestamp": 26, "name": 39, "QMP": 99, "exec-oob": 162, "version": 184, "status": 202, "singlestep": 202,
            "class": 211, "capabilities": 216, "guest": 223, "micro": 225, "minor": 225, "qemu": 232, "running": 246,
            "execute": 299, "UUID": 308, "package": 326, "event": 361, "desc": 377, "return": 401, "reason": 401,
            "arguments": 447, "major": 481, "id": 486, "error": 489, "data": 505,
        ]
        for (key, bucket) in expected { #expect(QDictOrder.bucket(of: key) == bucket, "\(key)") }
    }

    @Test func memberOrderMatchesQEMUWire() {
        #expect(text(.object(QMPMessage.success(.object(JSONObject()), id: 1))) == #"{"return": {}, "id": 1}"#)
        #expect(
            text(.object(QMPError(.commandNotFound, "x").response(id: "a")))
                == #"{"id": "a", "error": {"class": "CommandNotFound", "desc": "x"}}"#
        )
        // StatusInfo in schema order (running, singlestep, status) comes out as QEMU shows it.
        let status = JSONObject([("running", false), ("singlestep", false), ("status", "prelaunch")])
        #expect(text(.object(status)) == #"{"status": "prelaunch", "singlestep": false, "running": false}"#)
        let version = QEMUVersion(major: 7, minor: 2, micro: 22, package: "Debian 1:7.2+dfsg-7+deb12u18+b3")
        #expect(
            text(.object(QMPMessage.greeting(version: version, capabilities: ["oob"])))
                == #"{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}}"#
        )
        let event = QMPMessage.event(
            "SHUTDOWN",
            data: JSONObject([("guest", false), ("reason", "host-qmp-quit")]),
            seconds: 1,
            microseconds: 2
        )
        #expect(
            text(.object(event))
                == #"{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}}"#
        )
    }

    @Test func lineEndsInCRLF() {
        var out: [UInt8] = []
        QMPMessage.appendLine(JSONObject(), to: &out)
        #expect(out == Array("{}\r\n".utf8))
    }

    @Test func eventLineMatchesTheEnvelopeObject() {
        let datas: [JSONObject?] = [
            nil, JSONObject(), JSONObject([("device", "hp\"1"), ("path", "/machine/peripheral/hp1")]),
            JSONObject([("controller", "pci.1"), ("register", "slot-status"), ("value", 16), ("old", 80), ("new", 64)]),
        ]
        for data in datas {
            for (seconds, microseconds) in [(Int64(0), Int64(0)), (1_795_652_477, 761_830), (-1, 999_999)] {
                var expected: [UInt8] = []
                QMPMessage.appendLine(
                    QMPMessage.event("X_DEVICE_ON", data: data, seconds: seconds, microseconds: microseconds),
                    to: &expected
                )
                var line: [UInt8] = []
                QMPMessage.appendEventLine(
                    "X_DEVICE_ON",
                    data: data,
                    seconds: seconds,
                    microseconds: microseconds,
                    to: &line
                )
                #expect(line == expected)
            }
        }
    }

    @Test func longStringsWithEscapesInTheMiddle() {
        let plain = String(repeating: "abc/", count: 40)
        #expect(
            text(.string(plain + "\n\u{1}" + plain + "\u{E9}")) == "\"" + plain + #"\n\u0001"# + plain + #"\u00E9""#
        )
    }

    @Test func integersAroundTheShortcuts() {
        let values: [Int64] = [0, 9, 10, 42, 99, 100, 101, 65535, -1, -10, -99, -100, .max, .min]
        for value in values {
            #expect(text(.int(value)) == String(value))
        }
        #expect(text(.uint(.max)) == "18446744073709551615")
    }
}
