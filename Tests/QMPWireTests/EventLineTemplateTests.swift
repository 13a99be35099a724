import QMPWire
import Testing

/// The template's lines are byte for byte the generic event writer's, for any key set, values and
/// timestamps.
struct EventLineTemplateTests {
    static let keySets: [[String]] = [
        ["controller", "register", "value", "old", "new"],
        ["controller", "register", "target", "value", "old", "new"],
        [], ["a"], ["seconds", "microseconds"], ["device", "path", "x\"y"],
        ["timestamp", "event", "data", "seconds", "microseconds", "x\"y"],
    ]

    @Test(arguments: keySets)
    func linesMatchTheGenericWriter(keys: [String]) {
        let template = EventLineTemplate(name: "GUEST_REGISTER_WRITE", dataKeys: keys)
        let valueSets: [[JSONValue]] = [
            keys.indices.map { .int(Int64($0 * 37)) },
            keys.indices.map { .string("pci.\($0)\"\n\u{1}/é") },
            keys.indices.map { $0 % 2 == 0 ? .int(-1) : .string("") },
        ]
        for values in valueSets {
            for (seconds, microseconds) in [(Int64(0), Int64(0)), (1_795_652_477, 761_830), (-1, 999_999)] {
                var data = JSONObject()
                for (key, value) in zip(keys, values) { data.append(key, value) }
                var expected: [UInt8] = []
                QMPMessage.appendEventLine(
                    "GUEST_REGISTER_WRITE",
                    data: data,
                    seconds: seconds,
                    microseconds: microseconds,
                    to: &expected
                )
                var line: [UInt8] = []
                var written: [Int] = []
                template.append(seconds: seconds, microseconds: microseconds, to: &line) { index, out in
                    written.append(index)
                    JSONWriter.write(values[index], into: &out)
                }
                #expect(String(decoding: line, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
                #expect(written.sorted() == Array(keys.indices))
            }
        }
    }
}
